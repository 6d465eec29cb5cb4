/**
 * Huge-tree degradation run: `npm run bench:huge-tree -- [--files 1000000] [--dir DIR]`.
 * Makes (once) a tree of FILES small source files, 1,000 to a folder, then measures what a user of such a tree
 * meets: the first full index (time, peak RSS, database size), the re-validation after a restart, a rare-token
 * search against rg on the same tree, and an editor's LSP server opening it (time to ready, memory, and what it
 * says when the tree has more files than the system lets it watch).
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../server/cli.js');
const { values } = parseArgs({ options: { files: { type: 'string' }, dir: { type: 'string' } } });
const FILES = Number(values.files ?? 1_000_000);
const PER_FOLDER = 1000;
const dir = path.resolve(values.dir ?? path.join(os.tmpdir(), `codeloop-huge-tree-${FILES}`));
const RARE = 'rareNeedleToken';

async function makeTree(): Promise<void> {
  const marker = `${dir}.complete`;
  if (fs.existsSync(marker)) return;
  fs.rmSync(dir, { recursive: true, force: true });
  process.stdout.write(`making ${FILES} files in ${dir}…\n`);
  const started = performance.now();
  for (let folder = 0; folder * PER_FOLDER < FILES; folder++) {
    const folderPath = path.join(dir, `pkg${folder}`);
    fs.mkdirSync(folderPath, { recursive: true });
    const writes: Promise<void>[] = [];
    for (let i = folder * PER_FOLDER; i < Math.min(FILES, (folder + 1) * PER_FOLDER); i++) {
      const rare = i % 100_000 === 7 ? `export const ${RARE} = ${i};\n` : '';
      writes.push(fs.promises.writeFile(path.join(folderPath, `mod${i}.ts`), `export function handler${i}(input: string) {\n  return input.length + ${i};\n}\n${rare}`));
    }
    await Promise.all(writes);
  }
  fs.writeFileSync(marker, '');
  process.stdout.write(`made ${FILES} files in ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
}

function timed(command: string, args: string[], env: NodeJS.ProcessEnv) {
  const started = performance.now();
  const run = spawnSync('/usr/bin/time', ['-f', '%M', command, ...args], { env, encoding: 'utf8', maxBuffer: 256 * 2 ** 20 });
  const seconds = (performance.now() - started) / 1000;
  const peakMb = Number(run.stderr.trim().split('\n').at(-1)) / 1024;
  if (run.status !== 0 && run.status !== 1) throw new Error(`${command} ${args.join(' ')} failed: ${run.stderr.slice(-2000)}`);
  return { seconds, peakMb, stdout: run.stdout };
}

/** An editor's view: `codeloop lsp --standalone` on the tree, until indexed; what it reports and how fast. */
async function openInEditor(env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [CLI, 'lsp', '--standalone'], { env, stdio: ['pipe', 'pipe', 'inherit'] });
  const connection = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  connection.onRequest('window/workDoneProgress/create', () => null);
  connection.listen();
  const started = performance.now();
  const folder = pathToFileURL(dir).href;
  await connection.sendRequest('initialize', { processId: null, rootUri: folder, workspaceFolders: [{ uri: folder, name: 'huge' }], capabilities: {} });
  await connection.sendNotification('initialized', {});
  let status: any;
  for (;;) {
    status = await connection.sendRequest('codeloop/status', {});
    if (status.workspaces.length && !status.workspaces[0].indexing) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const readySeconds = (performance.now() - started) / 1000;
  const searchStarted = performance.now();
  const hits = await connection.sendRequest<any>('codeloop/search', { query: RARE });
  const searchMs = performance.now() - searchStarted;
  await connection.sendRequest('shutdown');
  await connection.sendNotification('exit');
  connection.dispose();
  return { readySeconds, searchMs, hits: hits.matches.length, memory: status.memory, problems: status.workspaces[0].problems };
}

await makeTree();
const stateHome = fs.mkdtempSync(path.join(os.tmpdir(), 'codeloop-huge-state-'));
const env = { ...process.env, XDG_STATE_HOME: stateHome, XDG_CONFIG_HOME: path.join(stateHome, 'config') };
const lines: string[] = [];
const log = (line: string) => {
  lines.push(line);
  process.stdout.write(`${line}\n`);
};
log(`## huge tree: ${FILES} files in ${FILES / PER_FOLDER} folders (${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} cores, node ${process.version}, inotify max_user_watches ${fs.readFileSync('/proc/sys/fs/inotify/max_user_watches', 'utf8').trim()})`);

const first = timed(process.execPath, [CLI, 'index', '--json', dir], env);
const summary = JSON.parse(first.stdout);
const databaseBytes = ['', '-wal'].reduce((sum, suffix) => sum + (fs.existsSync(summary.databasePath + suffix) ? fs.statSync(summary.databasePath + suffix).size : 0), 0);
log(`- first index: ${first.seconds.toFixed(0)} s (${summary.files} files), peak RSS ${first.peakMb.toFixed(0)} MB, database ${(databaseBytes / 2 ** 20).toFixed(0)} MiB`);
const again = timed(process.execPath, [CLI, 'index', '--json', dir], env);
log(`- re-validation of the unchanged tree (what a restart costs): ${again.seconds.toFixed(1)} s, peak RSS ${again.peakMb.toFixed(0)} MB`);

const rg = timed('rg', ['-l', '-F', RARE, dir], env);
const ours = timed(process.execPath, [CLI, 'search', '--no-refresh', RARE, dir], env);
const rgHits = rg.stdout.trim().split('\n').filter(Boolean).length;
const ourHits = new Set(ours.stdout.trim().split('\n').filter(Boolean).map((line) => line.split(':')[0])).size;
log(`- rare-token search, whole CLI process each: rg ${rg.seconds.toFixed(2)} s, codeloop ${ours.seconds.toFixed(2)} s (${(rg.seconds / ours.seconds).toFixed(1)}× rg); hits ${ourHits} vs rg ${rgHits}`);

const editor = await openInEditor(env);
log(`- an editor opens it: ready in ${editor.readySeconds.toFixed(1)} s, server memory ${(editor.memory.rssBytes / 2 ** 20).toFixed(0)} MB resident, rare-token search ${editor.searchMs.toFixed(0)} ms (${editor.hits} hits)`);
for (const problem of editor.problems) log(`- it reports (${problem.severity}): ${problem.message}`);
if (!editor.problems.length) log('- it reports no problem (the whole tree is watched)');
fs.rmSync(stateHome, { recursive: true, force: true });
