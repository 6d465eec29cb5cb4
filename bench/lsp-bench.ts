/**
 * LSP latency benchmark: `npm run bench:lsp -- WORKSPACE_DIR [--requests N] [--state-home DIR]`.
 * In a private daemon world: indexes WORKSPACE_DIR, then measures the time from starting `codeloop lsp`
 * (daemon cold, then warm) to `initialize` answered and to the index re-validated; then codeAction and
 * workspace/symbol latency p50/p99 from one client, first quiet, then while a second client floods didChange
 * (one edit per millisecond timer tick to one open file). Beside them, what workspace/symbol's time is made of:
 * the same request with an empty query (answered at once: the editor → `codeloop lsp` → daemon round trip) and
 * the symbol queries alone in this process, on the same index (wall and CPU time).
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import { searchSymbols } from '../server/index/symbol-search.js';

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../server/cli.js');
const { values, positionals } = parseArgs({ allowPositionals: true, options: { requests: { type: 'string' }, 'state-home': { type: 'string' } } });
const workspace = positionals[0] ? fs.realpathSync(positionals[0]) : null;
if (!workspace) {
  process.stderr.write('usage: npm run bench:lsp -- WORKSPACE_DIR [--requests N] [--state-home DIR]\n');
  process.exit(2);
}
const requests = Number(values.requests ?? 300);
// --state-home: an XDG_STATE_HOME whose index of the workspace is kept (indexing the kernel takes many minutes).
const state = values['state-home'] ? path.resolve(values['state-home']) : fs.mkdtempSync(path.join(os.tmpdir(), 'codeloop-lsp-bench-'));
const env = { ...process.env, XDG_STATE_HOME: state, XDG_CONFIG_HOME: path.join(state, 'config'), CODELOOP_RUNTIME_DIR: path.join(state, 'runtime') };
fs.mkdirSync(path.join(state, 'config', 'codeloop'), { recursive: true });
fs.writeFileSync(path.join(state, 'config', 'codeloop', 'config.json'), JSON.stringify({ index: { exclude: ['.git/'] } }));

const percentile = (samples: number[], p: number) => [...samples].sort((a, b) => a - b)[Math.min(samples.length - 1, Math.floor((p / 100) * samples.length))];

interface Client {
  connection: MessageConnection;
  ready: Promise<void>;
  close(): void;
}

function startClient(name: string): { client: Client; initialized: Promise<number> } {
  const started = performance.now();
  const child = spawn(process.execPath, [CLI, 'lsp'], { env, stdio: ['pipe', 'pipe', 'inherit'] });
  const connection = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  connection.onRequest('window/workDoneProgress/create', () => null);
  connection.listen();
  const folder = pathToFileURL(workspace!).href;
  const initialized = connection.sendRequest('initialize', {
    processId: process.pid, clientInfo: { name }, rootUri: folder, workspaceFolders: [{ uri: folder, name: 'bench' }],
    capabilities: { window: { workDoneProgress: true } },
  }).then(async () => {
    const elapsed = performance.now() - started;
    await connection.sendNotification('initialized', {});
    return elapsed;
  });
  // Ready once the daemon lists the workspace as indexed: an editor joining a workspace already open gets no
  // indexing progress to wait for.
  const ready = initialized.then(async () => {
    for (;;) {
      const status = await connection.sendRequest('codeloop/status', {}) as { workspaces: { root: string; indexing: boolean }[] };
      if (status.workspaces.some((open) => open.root === workspace && !open.indexing)) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  });
  return { client: { connection, ready, close: () => { connection.dispose(); child.kill(); } }, initialized };
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await work();
  return performance.now() - start;
}

const indexRun = spawnSync(process.execPath, [CLI, 'index', '--json', workspace], { env, encoding: 'utf8' });
if (indexRun.status !== 0) throw new Error(indexRun.stderr);
const indexed = JSON.parse(indexRun.stdout);
process.stdout.write(`## LSP latency: ${workspace} (${indexed.files} files, ${os.cpus().length} cores, node ${process.version})\n\n`);

const coldStart = performance.now();
const first = startClient('bench-a');
const coldInitialize = await first.initialized;
await first.client.ready;
const coldReady = performance.now() - coldStart;
const warmStart = performance.now();
const second = startClient('bench-b');
const warmInitialize = await second.initialized;
await second.client.ready;
const warmReady = performance.now() - warmStart;
process.stdout.write(`- \`codeloop lsp\` → initialize answered: ${coldInitialize.toFixed(0)} ms with the daemon starting, ${warmInitialize.toFixed(0)} ms with it running\n`);
process.stdout.write(`- \`codeloop lsp\` → indexed workspace re-validated and ready: ${coldReady.toFixed(0)} ms cold daemon, ${warmReady.toFixed(0)} ms joining a running one\n\n`);

// A real file of the workspace, for code actions and for the flood.
const listing = spawnSync(process.execPath, [CLI, 'search', '--no-refresh', '--json', '--symbol', '--limit', '1', 'a', workspace], { env, encoding: 'utf8' });
const target = (JSON.parse(listing.stdout).symbols[0]?.path as string | undefined) ?? fs.readdirSync(workspace).find((file) => fs.statSync(path.join(workspace, file)).isFile())!;
const uri = pathToFileURL(path.join(workspace, target)).href;
const text = fs.readFileSync(path.join(workspace, target), 'utf8');
const queries = ['parse', 'create', 'get', 'emit', 'init', 'read', 'write', 'handle'];

async function measure(label: string): Promise<{ action: number[]; symbol: number[] }> {
  const action: number[] = [];
  const symbol: number[] = [];
  const roundTrip: number[] = [];
  for (let i = 0; i < requests; i++) {
    const line = i % Math.max(1, text.split('\n').length);
    action.push(await timed(() => first.client.connection.sendRequest('textDocument/codeAction', {
      textDocument: { uri }, range: { start: { line, character: 0 }, end: { line, character: 0 } }, context: { diagnostics: [] },
    })));
    symbol.push(await timed(() => first.client.connection.sendRequest('workspace/symbol', { query: queries[i % queries.length] })));
    roundTrip.push(await timed(() => first.client.connection.sendRequest('workspace/symbol', { query: '' })));
  }
  const cells = [action, symbol, roundTrip].flatMap((samples) => [percentile(samples, 50), percentile(samples, 99)]).map((ms) => ms.toFixed(2));
  process.stdout.write(`| ${label} | ${cells.join(' | ')} |\n`);
  return { action, symbol };
}

process.stdout.write(`| ${requests} requests each | codeAction p50 ms | p99 ms | workspace/symbol p50 ms | p99 ms | empty query (round trip) p50 ms | p99 ms |\n|---|---|---|---|---|---|---|\n`);
const quiet = await measure('quiet');
await second.client.connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'plaintext', version: 1, text } });
let flooding = true;
let changes = 0;
const floodStarted = performance.now();
const flood = (async () => {
  for (let version = 2; flooding; version++) {
    await second.client.connection.sendNotification('textDocument/didChange', {
      textDocument: { uri, version }, contentChanges: [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, text: 'x' }],
    });
    changes++;
    // One edit per timer tick (hundreds a second): far beyond a fast typist, like a generated-edit burst.
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
})();
const loaded = await measure('while another client floods didChange');
flooding = false;
await flood;
const floodSeconds = (performance.now() - floodStarted) / 1000;
process.stdout.write(`\n- didChange notifications sent during the loaded run: ${changes} in ${floodSeconds.toFixed(1)} s (${(changes / floodSeconds).toFixed(0)}/s)\n`);
process.stdout.write(`- p99 under flood ÷ quiet p99: codeAction ${(percentile(loaded.action, 99) / percentile(quiet.action, 99)).toFixed(1)}×, workspace/symbol ${(percentile(loaded.symbol, 99) / percentile(quiet.symbol, 99)).toFixed(1)}×\n`);

first.client.close();
second.client.close();
spawnSync(process.execPath, [CLI, 'daemon', 'stop'], { env });

// The symbol queries alone, in this process on the same index, in the same order (after one warm-up round).
const db = new Database(indexed.databasePath as string, { readonly: true });
db.pragma('cache_size = -32000'); // the daemon's page cache (index-database.ts)
for (const query of queries) searchSymbols(db, query, 100);
const wall: number[] = [];
const cpu: number[] = [];
for (let i = 0; i < requests; i++) {
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  searchSymbols(db, queries[i % queries.length], 100);
  wall.push(performance.now() - start);
  const used = process.cpuUsage(cpuBefore);
  cpu.push((used.user + used.system) / 1000);
}
db.close();
process.stdout.write(`- the symbol queries alone, in process (${requests}): wall p50 ${percentile(wall, 50).toFixed(2)} ms, p99 ${percentile(wall, 99).toFixed(2)} ms; CPU p50 ${percentile(cpu, 50).toFixed(2)} ms, p99 ${percentile(cpu, 99).toFixed(2)} ms\n`);
process.stdout.write(`- load average (1 min) at the end: ${os.loadavg()[0].toFixed(1)}\n`);
if (!values['state-home']) fs.rmSync(state, { recursive: true, force: true });
