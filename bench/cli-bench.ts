/**
 * Whole-process CLI benchmark: `npm run bench:cli -- CORPUS_DIR [--name kernel|node_modules] [--runs N]`.
 * What a user at a terminal waits for: `codeloop search QUERY` against `rg QUERY` on the same tree in the same
 * run, alternating one run of each (so load on the machine hits both alike), median wall time per query —
 * without a daemon (default re-validation, and `--no-refresh`) and with a running daemon (after one search
 * has made the daemon open the workspace). Every codeloop answer is checked to print exactly rg's lines.
 * `codeloop` is the installed command (bin/codeloop): with a daemon, `search` is answered by the native client
 * when one was built (clients/cli/), else by the Node CLI. A third process, `node -e 0`, runs in the same
 * rotation: the floor any Node CLI pays to start.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { corpusArguments, RG_ARGS } from './corpus-arguments.js';
import type { BenchQuery } from './queries.js';

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../server/cli.js');
// The `codeloop` command as installed (package.json "bin"): the native client for `search` when it was built.
const COMMAND = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/codeloop');
const { corpus, name, runs, queries, values } = corpusArguments(
  'npm run bench:cli -- CORPUS_DIR [--name kernel|node_modules] [--runs N] [--daemon-only] [--state-home DIR]',
  ['state-home'], ['daemon-only'],
);

// --state-home: an XDG_STATE_HOME whose index of the corpus is kept (indexing the kernel takes minutes).
const stateHome = values['state-home'] ? path.resolve(values['state-home']) : fs.mkdtempSync(path.join(os.tmpdir(), 'codeloop-cli-bench-'));
const configHome = path.join(stateHome, 'config');
fs.mkdirSync(path.join(configHome, 'codeloop'), { recursive: true });
fs.writeFileSync(path.join(configHome, 'codeloop', 'config.json'), JSON.stringify({ index: { exclude: ['.git/'] } }));
const env = { ...process.env, XDG_STATE_HOME: stateHome, XDG_CONFIG_HOME: configHome, CODELOOP_RUNTIME_DIR: path.join(stateHome, 'runtime') };

function run(command: string, args: string[]): { ms: number; lines: string[]; status: number | null } {
  const start = performance.now();
  const result = spawnSync(command, args, { cwd: corpus, env, encoding: 'latin1', maxBuffer: 1024 * 1024 * 1024 });
  const ms = performance.now() - start;
  return { ms, status: result.status, lines: result.stdout.split('\n').filter(Boolean).map((line) => line.replace(/^\.\//, '')).sort() };
}

const median = (samples: number[]) => [...samples].sort((a, b) => a - b)[Math.floor(samples.length / 2)];

const rgArgs = (query: BenchQuery) => [...RG_ARGS, ...(query.mode === 'literal' ? ['-F'] : []), '--', query.pattern, '.'];
const codeloopArgs = (query: BenchQuery, extra: string[]) => ['search', ...extra, ...(query.mode === 'regex' ? ['--regex'] : []), '--', query.pattern];

interface Row { query: BenchQuery; rgMs: number; codeloopMs: number; nodeMs: number; hits: number; identical: boolean }

/** Alternates rg and codeloop `runs` times per query; medians of wall time. */
function measure(extra: string[]): Row[] {
  return queries.map((query) => {
    const rgTimes: number[] = [];
    const ourTimes: number[] = [];
    const nodeTimes: number[] = [];
    let identical = true;
    let hits = 0;
    for (let i = 0; i < runs; i++) {
      const theirs = run('rg', rgArgs(query));
      const ours = run(COMMAND, codeloopArgs(query, extra));
      if (ours.status !== 0 && ours.status !== 1) throw new Error(`codeloop failed on ${query.pattern}`);
      rgTimes.push(theirs.ms);
      ourTimes.push(ours.ms);
      nodeTimes.push(run(process.execPath, ['-e', '0']).ms);
      hits = theirs.lines.length;
      identical &&= theirs.lines.length === ours.lines.length && theirs.lines.every((line, k) => line === ours.lines[k]);
    }
    return { query, rgMs: median(rgTimes), codeloopMs: median(ourTimes), nodeMs: median(nodeTimes), hits, identical };
  });
}

function table(title: string, rows: Row[]): string {
  const lines = [`### ${title}`, '', '| mode | query | rg ms | codeloop ms | speed-up | `node -e 0` ms | hits | identical |', '|---|---|---|---|---|---|---|---|'];
  for (const row of rows) {
    lines.push(`| ${row.query.mode} | \`${row.query.pattern.replaceAll('|', '\\|')}\` | ${row.rgMs.toFixed(0)} | ${row.codeloopMs.toFixed(0)} | ${(row.rgMs / row.codeloopMs).toFixed(2)}× | ${row.nodeMs.toFixed(0)} | ${row.hits} | ${row.identical ? 'yes' : '**no**'} |`);
  }
  const literals = rows.filter((row) => row.query.mode === 'literal');
  lines.push('', `literal median speed-up ${median(literals.map((row) => row.rgMs / row.codeloopMs)).toFixed(2)}×; all queries median ${median(rows.map((row) => row.rgMs / row.codeloopMs)).toFixed(2)}×`, '');
  return `${lines.join('\n')}\n`;
}

function waitForSocket(socket: string, daemon: ChildProcess): void {
  const deadline = Date.now() + 60_000;
  while (!fs.existsSync(socket)) {
    if (Date.now() > deadline || daemon.exitCode !== null) throw new Error('the daemon did not start');
    spawnSync('sleep', ['0.1']);
  }
}

// Index once (not timed here: bench:index measures that), then each way of asking.
const indexed = spawnSync(process.execPath, [CLI, 'index', '--json', corpus], { env, encoding: 'utf8' });
if (indexed.status !== 0) throw new Error(`indexing failed: ${indexed.stderr}`);
const files = JSON.parse(indexed.stdout).files as number;
process.stdout.write(`# codeloop search vs rg, whole processes: ${name} (${files} files), ${runs} alternating runs per query, medians; load average ${os.loadavg()[0].toFixed(1)}\n\n`);
if (!values['daemon-only']) {
  process.stdout.write(table('without a daemon: `codeloop search QUERY` (re-validates the index first)', measure([])));
  process.stdout.write(table('without a daemon: `codeloop search --no-refresh QUERY`', measure(['--no-refresh'])));
}

const daemon = spawn(process.execPath, [CLI, 'daemon', '--idle-seconds', '0'], { env, stdio: 'ignore' });
try {
  waitForSocket(path.join(stateHome, 'runtime', 'daemon.sock'), daemon);
  const opened = run(COMMAND, codeloopArgs(queries[0], []));
  process.stdout.write(`(the daemon opened the workspace on the first search: ${(opened.ms / 1000).toFixed(1)} s, re-validating it once)\n\n`);
  process.stdout.write(table('with a daemon running: `codeloop search QUERY`', measure([])));
  process.stdout.write(`load average at the end: ${os.loadavg()[0].toFixed(1)}\n`);
} finally {
  spawnSync(process.execPath, [CLI, 'daemon', 'stop'], { env });
  if (!values['state-home']) fs.rmSync(stateHome, { recursive: true, force: true });
}
