#!/usr/bin/env node
import { parseArgs, type ParseArgsConfig } from 'node:util';
// Commands load their modules on demand: `codeloop lsp`, which editors start often, then loads only the proxy.
const commandModules = {
  index: () => import('./cli/index-command.js'),
  search: () => import('./cli/search-command.js'),
  status: () => import('./cli/status-command.js'),
  daemon: () => import('./cli/daemon-commands.js'),
  run: () => import('./cli/run-command.js'),
  doctor: () => import('./cli/doctor-command.js'),
  sessions: () => import('./cli/sessions-command.js'),
};
import { CodeloopError } from './errors.js';

const USAGE = `usage: codeloop <command> [options]

commands:
  index [DIR] [--rebuild] [--json]        index DIR (default .), or bring its index up to date
  search [--regex|--symbol|--text] [-i] [--json] [--limit N] [--no-refresh] QUERY [DIR]
                                          search DIR's index (indexes on first use)
  status [DIR] [--json] [--check]         show the daemon (clients, workspaces) and what the index of DIR holds
  run [--json] [--yes] [--plan-only] [--max-turns N] "TASK"
                                          run an agent session on the current directory; shows the diff,
                                          applies it only with --yes or when you answer yes
  sessions list [DIR] [--json]            list agent sessions (of the workspace holding DIR), newest first
  sessions show ID [--json]               a session's transcript: plan, tool calls and results, tests, cost
  doctor [DIR] [--json]                   check config, model endpoint and key, sandbox, index, daemon
  lsp [--standalone]                      language server on stdio: bridges to the shared daemon (starting it),
                                          or runs everything in this process with --standalone
  daemon [--idle-seconds N]               run the shared daemon in the foreground
  daemon stop                             stop the running daemon
`;

class UsageError extends Error {}

function parse<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function positiveInteger(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number <= 0) throw new UsageError(`${flag} takes a positive whole number, got ${JSON.stringify(value)}`);
  return number;
}

async function run(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'index': {
      const { values, positionals } = parse(rest, { rebuild: { type: 'boolean' }, json: { type: 'boolean' } });
      if (positionals.length > 1) throw new UsageError('index takes at most one directory');
      return (await commandModules.index()).indexCommand(positionals[0] ?? '.', { rebuild: !!values.rebuild, json: !!values.json });
    }
    case 'search': {
      const { values, positionals } = parse(rest, {
        regex: { type: 'boolean' }, symbol: { type: 'boolean' }, text: { type: 'boolean' },
        'ignore-case': { type: 'boolean', short: 'i' }, json: { type: 'boolean' }, limit: { type: 'string' },
        'no-refresh': { type: 'boolean' },
      });
      const modes = (['regex', 'symbol', 'text'] as const).filter((mode) => values[mode]);
      if (modes.length > 1) throw new UsageError(`choose one of --regex, --symbol, --text (got ${modes.map((m) => `--${m}`).join(' ')})`);
      if (positionals.length < 1 || positionals.length > 2) throw new UsageError('search takes a QUERY and at most one directory');
      return (await commandModules.search()).searchCommand(positionals[0], positionals[1], {
        mode: modes[0] ?? 'literal',
        caseInsensitive: !!values['ignore-case'],
        json: !!values.json,
        limit: positiveInteger(values.limit as string | undefined, '--limit'),
        noRefresh: !!values['no-refresh'],
      });
    }
    case 'status': {
      const { values, positionals } = parse(rest, { json: { type: 'boolean' }, check: { type: 'boolean' } });
      return (await commandModules.status()).statusCommand(positionals[0] ?? '.', { json: !!values.json, check: !!values.check });
    }
    case 'run': {
      const { values, positionals } = parse(rest, {
        json: { type: 'boolean' }, yes: { type: 'boolean', short: 'y' }, 'plan-only': { type: 'boolean' }, 'max-turns': { type: 'string' },
      });
      if (positionals.length !== 1) throw new UsageError('run takes one TASK (quote it)');
      return (await commandModules.run()).runCommandLine(positionals[0], {
        json: !!values.json, yes: !!values.yes, planOnly: !!values['plan-only'],
        maxTurns: positiveInteger(values['max-turns'] as string | undefined, '--max-turns'),
      });
    }
    case 'doctor': {
      const { values, positionals } = parse(rest, { json: { type: 'boolean' } });
      return (await commandModules.doctor()).doctorCommand(positionals[0] ?? '.', { json: !!values.json });
    }
    case 'sessions': {
      const { values, positionals } = parse(rest, { json: { type: 'boolean' } });
      const [action, argument, ...extra] = positionals;
      if (action === 'list' && !extra.length) return (await commandModules.sessions()).sessionsListCommand(argument, { json: !!values.json });
      if (action === 'show' && argument && !extra.length) return (await commandModules.sessions()).sessionsShowCommand(argument, { json: !!values.json });
      throw new UsageError('sessions takes `list [DIR]` or `show ID`');
    }
    case 'lsp': {
      const { values, positionals } = parse(rest, { standalone: { type: 'boolean' }, stdio: { type: 'boolean' } });
      if (positionals.length) throw new UsageError('lsp takes no arguments');
      return (await commandModules.daemon()).lspCommand({ standalone: !!values.standalone });
    }
    case 'daemon': {
      const { values, positionals } = parse(rest, { 'idle-seconds': { type: 'string' } });
      if (positionals[0] === 'stop' && positionals.length === 1) return (await commandModules.daemon()).daemonStopCommand();
      if (positionals.length) throw new UsageError(`unknown daemon subcommand ${JSON.stringify(positionals[0])}`);
      const idle = values['idle-seconds'] as string | undefined;
      return (await commandModules.daemon()).daemonCommand({ idleSeconds: idle === '0' ? 0 : positiveInteger(idle, '--idle-seconds') });
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  }
}

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`codeloop: ${error.message}\n${USAGE}`);
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
