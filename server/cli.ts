#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { CodeloopError } from './errors.js';
import { CODELOOP_VERSION } from './version.js';

/** One option of a command: how it is parsed, what `--help` says, and for numbers the range it accepts. */
interface OptionSpec {
  type: 'boolean' | 'string';
  short?: string;
  /** Placeholder shown in help for a value (`N`). */
  value?: string;
  help: string;
  /** Whole numbers only, within [min, max]. */
  range?: { min: number; max: number };
}

type Values = Record<string, string | boolean | undefined>;

interface Command {
  usage: string;
  summary: string;
  options: Record<string, OptionSpec>;
  /** Checks the positionals and runs; modules load here, on demand, so each command loads only what it needs. */
  run(values: Values, positionals: string[]): Promise<number>;
}

const json: OptionSpec = { type: 'boolean', help: 'print JSON instead of text' };

const COMMANDS: Record<string, Command> = {
  index: {
    usage: 'index [DIR] [--rebuild] [--json]',
    summary: 'index DIR (default .), or bring its index up to date; through the daemon when one runs',
    options: { rebuild: { type: 'boolean', help: 'delete the index and build it again' }, json },
    async run(values, positionals) {
      atMost(positionals, 1, 'index takes at most one directory');
      return (await import('./cli/index-command.js')).indexCommand(positionals[0] ?? '.', { rebuild: !!values.rebuild, json: !!values.json });
    },
  },
  search: {
    usage: 'search [--regex|--symbol|--text] [-i] [--json] [--limit N] [--no-refresh] QUERY [DIR]',
    summary: 'search DIR\'s index like `rg --hidden` (literal by default); asks the daemon when one runs',
    options: {
      regex: { type: 'boolean', help: 'QUERY is a regex in ripgrep\'s syntax' },
      symbol: { type: 'boolean', help: 'find definitions by name (prefix, then fuzzy)' },
      text: { type: 'boolean', help: 'rank files for a question in words' },
      'ignore-case': { type: 'boolean', short: 'i', help: 'fold case (Unicode simple case folding, as rg -i)' },
      json,
      limit: { type: 'string', value: 'N', help: 'at most N results', range: { min: 1, max: 100_000 } },
      'no-refresh': { type: 'boolean', help: 'without a daemon: skip re-validating the index against the tree first' },
    },
    async run(values, positionals) {
      const modes = (['regex', 'symbol', 'text'] as const).filter((mode) => values[mode]);
      if (modes.length > 1) throw new UsageError('search', `choose one of --regex, --symbol, --text (got ${modes.map((m) => `--${m}`).join(' ')})`);
      if (positionals.length < 1 || positionals.length > 2) throw new UsageError('search', 'search takes a QUERY and at most one directory');
      return (await import('./cli/search-command.js')).searchCommand(positionals[0], positionals[1], {
        mode: modes[0] ?? 'literal',
        caseInsensitive: !!values['ignore-case'],
        json: !!values.json,
        limit: numberOption(this, 'limit', values),
        noRefresh: !!values['no-refresh'],
      });
    },
  },
  status: {
    usage: 'status [DIR] [--json] [--check]',
    summary: 'show the daemon (clients, workspaces) and what the index of DIR holds',
    options: { json, check: { type: 'boolean', help: 'also check the index database\'s integrity' } },
    async run(values, positionals) {
      atMost(positionals, 1, 'status takes at most one directory');
      return (await import('./cli/status-command.js')).statusCommand(positionals[0] ?? '.', { json: !!values.json, check: !!values.check });
    },
  },
  run: {
    usage: 'run [--json] [--yes] [--plan-only] [--max-turns N] "TASK"',
    summary: 'run an agent session on the current directory; shows the diff, applies it only with --yes or when you answer yes',
    options: {
      json,
      yes: { type: 'boolean', short: 'y', help: 'apply the proposal without asking' },
      'plan-only': { type: 'boolean', help: 'stop after the plan' },
      'max-turns': { type: 'string', value: 'N', help: 'at most N model turns (default: agent.maxTurns)', range: { min: 1, max: 1000 } },
    },
    async run(values, positionals) {
      if (positionals.length !== 1) throw new UsageError('run', 'run takes one TASK (quote it)');
      return (await import('./cli/run-command.js')).runCommandLine(positionals[0], {
        json: !!values.json, yes: !!values.yes, planOnly: !!values['plan-only'], maxTurns: numberOption(this, 'max-turns', values),
      });
    },
  },
  doctor: {
    usage: 'doctor [DIR] [--json]',
    summary: 'check config, model endpoint and key, sandbox, index, daemon',
    options: { json },
    async run(values, positionals) {
      atMost(positionals, 1, 'doctor takes at most one directory');
      return (await import('./cli/doctor-command.js')).doctorCommand(positionals[0] ?? '.', { json: !!values.json });
    },
  },
  sessions: {
    usage: 'sessions list [DIR] [--json] | sessions show ID [--json] | sessions resume ID [--yes] [--json] | sessions pause ID | sessions steer ID "MESSAGE" | sessions rewind ID [TURN] [--json] | sessions revert ID [--json]',
    summary: 'list agent sessions (of the workspace holding DIR), show one\'s transcript (plan, tool calls, tests, cost, checkpoints), resume an interrupted one, pause one at work, send it a message, rewind one to a turn (default: one step back), or revert its applied proposal',
    options: { json, yes: { type: 'boolean', short: 'y', help: 'resume without a daemon: apply the proposal without asking' } },
    async run(values, positionals) {
      const [action, argument, ...extra] = positionals;
      const commands = await import('./cli/sessions-command.js');
      if (action === 'list' && !extra.length) return commands.sessionsListCommand(argument, { json: !!values.json });
      if (action === 'show' && argument && !extra.length) return commands.sessionsShowCommand(argument, { json: !!values.json });
      if (action === 'resume' && argument && !extra.length) return commands.sessionsResumeCommand(argument, { json: !!values.json, yes: !!values.yes });
      if (action === 'pause' && argument && !extra.length) return commands.sessionsPauseCommand(argument);
      if (action === 'steer' && argument && extra.length === 1) return commands.sessionsSteerCommand(argument, extra[0]);
      if (action === 'rewind' && argument && extra.length <= 1) {
        if (extra.length && !/^\d+$/.test(extra[0])) throw new UsageError('sessions', `TURN must be a turn number that \`codeloop sessions show ${argument}\` lists (got ${JSON.stringify(extra[0])})`);
        return commands.sessionsRewindCommand(argument, extra.length ? Number(extra[0]) : undefined, { json: !!values.json });
      }
      if (action === 'revert' && argument && !extra.length) return commands.sessionsRevertCommand(argument, { json: !!values.json });
      throw new UsageError('sessions', 'sessions takes `list [DIR]`, `show ID`, `resume ID`, `pause ID`, `steer ID "MESSAGE"` (quote the message), `rewind ID [TURN]` or `revert ID`');
    },
  },
  lsp: {
    usage: 'lsp [--standalone]',
    summary: 'language server on stdio: bridges to the shared daemon (starting it), or runs everything in this process with --standalone',
    options: {
      standalone: { type: 'boolean', help: 'run in this process, without the shared daemon' },
      stdio: { type: 'boolean', help: 'accepted for editors that pass it (stdio is the only transport)' },
    },
    async run(values, positionals) {
      atMost(positionals, 0, 'lsp takes no arguments');
      return (await import('./cli/daemon-commands.js')).lspCommand({ standalone: !!values.standalone });
    },
  },
  daemon: {
    usage: 'daemon [--idle-seconds N] | daemon stop',
    summary: 'run the shared daemon in the foreground, or stop the running one',
    options: {
      'idle-seconds': { type: 'string', value: 'N', help: 'exit after N seconds without clients (0: never; default: daemon.idleSeconds)', range: { min: 0, max: 31_536_000 } },
    },
    async run(values, positionals) {
      const commands = await import('./cli/daemon-commands.js');
      if (positionals[0] === 'stop' && positionals.length === 1) return commands.daemonStopCommand();
      if (positionals.length) throw new UsageError('daemon', `unknown daemon subcommand ${JSON.stringify(positionals[0])}`);
      return commands.daemonCommand({ idleSeconds: numberOption(this, 'idle-seconds', values) });
    },
  },
};

/** A mistake in how the command line was written: told with the usage of the command it concerns. */
class UsageError extends Error {
  constructor(readonly command: string | null, message: string) {
    super(message);
  }
}

function atMost(positionals: string[], count: number, message: string): void {
  if (positionals.length > count) throw new UsageError(null, message);
}

/** A numeric option checked against its range; the message names the flag and the range. */
function numberOption(command: Command, name: string, values: Values): number | undefined {
  const raw = values[name];
  if (typeof raw !== 'string') return undefined;
  const { min, max } = command.options[name].range!;
  const number = /^\d+$/.test(raw.trim()) ? Number(raw) : NaN;
  if (!(number >= min && number <= max)) {
    throw new UsageError(null, `--${name} takes a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return number;
}

function commandHelp(command: Command): string {
  const options = Object.entries({ ...command.options, help: { type: 'boolean', short: 'h', help: 'show this help' } as OptionSpec })
    .map(([option, spec]) => {
      const flag = `${spec.short ? `-${spec.short}, ` : '    '}--${option}${spec.value ? ` ${spec.value}` : ''}`;
      const range = spec.range ? ` (${spec.range.min}–${spec.range.max})` : '';
      return `  ${flag.padEnd(26)} ${spec.help}${range}`;
    });
  return `usage: codeloop ${command.usage}\n\n${command.summary}\n\noptions:\n${options.join('\n')}\n`;
}

const USAGE = `usage: codeloop <command> [options]

commands:
${Object.entries(COMMANDS).map(([name, command]) => `  ${name.padEnd(8)} ${command.summary}`).join('\n')}

codeloop <command> --help shows a command's options; codeloop --version its version.
`;

async function run(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-V' || name === 'version') {
    process.stdout.write(`codeloop ${CODELOOP_VERSION}\n`);
    return 0;
  }
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    const topic = name === 'help' && rest[0] ? COMMANDS[rest[0]] : undefined;
    process.stdout.write(topic ? commandHelp(topic) : USAGE);
    return name === undefined ? 2 : 0;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) throw new UsageError(null, `unknown command ${JSON.stringify(name)}`);
  let parsed;
  try {
    const options = Object.fromEntries(Object.entries(command.options).map(([option, spec]) => [option, { type: spec.type, ...(spec.short ? { short: spec.short } : {}) }]));
    parsed = parseArgs({ args: rest, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(name, (error as Error).message);
  }
  if (parsed.values.help) {
    process.stdout.write(commandHelp(command));
    return 0;
  }
  try {
    return await command.run(parsed.values as Values, parsed.positionals);
  } catch (error) {
    if (error instanceof UsageError && error.command === null) throw new UsageError(name, error.message);
    throw error;
  }
}

/**
 * Standard output that cannot be written: a reader gone (`| head -1`: EPIPE) ends the command quietly with 0, as
 * the native client does (clients/cli/codeloop-client.c) and as rg does; any other failure (a full disk: ENOSPC,
 * EIO) is said once, by its error code, with exit 74 (EX_IOERR, sysexits.h) — never an unhandled stack trace.
 */
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  process.stderr.write(`codeloop: cannot write to standard output (${error.code ?? error.message})\n`);
  process.exit(74);
});

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      const help = error.command ? `codeloop ${error.command} --help` : 'codeloop --help';
      process.stderr.write(`codeloop: ${error.message}\n(${help} shows the usage)\n`);
      process.exitCode = 2;
    } else if (error instanceof CodeloopError) {
      process.stderr.write(`codeloop: ${error.message}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`codeloop: internal error: ${error instanceof Error ? error.message : String(error)}\n`
        + (process.env.CODELOOP_DEBUG ? `${(error as Error).stack}\n` : 'set CODELOOP_DEBUG=1 for a stack trace\n'));
      process.exitCode = 70;
    }
  },
);
