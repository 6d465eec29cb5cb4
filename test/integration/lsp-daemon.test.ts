import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { daemonWorld, type DaemonWorld } from '../helpers/daemon-world.js';
import { makeTree, removeTree } from '../helpers/fixture-tree.js';
import { startLspClient, type TestLspClient } from '../helpers/lsp-client.js';
import { runCli } from '../helpers/run-cli.js';

const clients: TestLspClient[] = [];
const worlds: DaemonWorld[] = [];
const trees: string[] = [];
function world(idleSeconds = 60) {
  const created = daemonWorld({ daemon: { idleSeconds } });
  worlds.push(created);
  return created;
}
function client(env: NodeJS.ProcessEnv): TestLspClient {
  const created = startLspClient([], env);
  clients.push(created);
  return created;
}
function tree(files: Record<string, string>): string {
  const root = makeTree(files, { git: true });
  trees.push(root);
  return root;
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  for (const w of worlds.splice(0)) {
    runCli(['daemon', 'stop'], { stateHome: w.state, env: w.env });
    await expect.poll(() => fs.existsSync(w.socket), { timeout: 20_000 }).toBe(false);
    removeTree(w.state);
  }
});
// One tree holds 30,000 files: removing it with both cores busy can take long, so the bound is deliberate.
afterAll(() => Promise.all(trees.map((root) => fs.promises.rm(root, { recursive: true, force: true }))), 300_000);

const status = (c: TestLspClient) => c.connection.sendRequest<any>('codeloop/status', {});

describe('shared daemon over the socket', () => {
  it('refuses a runtime folder others can write (CODELOOP_RUNTIME_DIR=a shared 1777 folder), leaving its permissions as they are', { timeout: 60_000 }, () => {
    const w = daemonWorld();
    try {
      const shared = path.join(w.state, 'shared');
      fs.mkdirSync(shared);
      for (const mode of [0o1777, 0o777, 0o770]) {
        fs.chmodSync(shared, mode);
        const env = { ...w.env, CODELOOP_RUNTIME_DIR: shared };
        for (const command of [['lsp'], ['daemon']]) {
          const refused = runCli(command, { stateHome: w.state, env });
          expect(refused.status, command[0]).toBe(2);
          expect(refused.stderr, command[0]).toBe(`codeloop: ${shared} can be written by other users (mode ${mode.toString(8)}); codeloop will not keep its socket there nor change the folder's permissions: set CODELOOP_RUNTIME_DIR to a folder of your own, or unset it (codeloop then makes a private one)\n`);
          expect(fs.statSync(shared).mode & 0o7777, command[0]).toBe(mode);
          expect(fs.readdirSync(shared), command[0]).toEqual([]);
        }
      }
    } finally {
      removeTree(w.state);
    }
  });

  it('lets two editors share one workspace: same index, same notifications, each other\'s unsaved buffers', async () => {
    const w = world();
    const root = tree({ 'lib/shared.ts': 'export function sharedHelper() { return 1; }\n' });
    const first = client(w.env);
    await first.initialize(root, 'editor-one');
    const second = client(w.env);
    await second.initialize(root, 'editor-two');
    await expect.poll(async () => (await status(second)).workspaces[0]?.indexing, { timeout: 30_000 }).toBe(false);

    const daemon = await status(second);
    expect(daemon.mode).toBe('daemon');
    expect(daemon.clients.map((c: any) => c.name).sort()).toEqual(['editor-one', 'editor-two']);
    expect(daemon.workspaces).toEqual([expect.objectContaining({ root: fs.realpathSync(root), clients: 2 })]);
    expect(fs.statSync(w.runtime).mode & 0o777).toBe(0o700);
    expect(fs.statSync(w.socket).mode & 0o777).toBe(0o600);

    const uri = pathToFileURL(path.join(root, 'lib/shared.ts')).href;
    await first.connection.sendNotification('textDocument/didOpen', {
      textDocument: { uri, languageId: 'typescript', version: 1, text: 'export function sharedHelper() { return typedInEditorOne; }\n' },
    });
    const update = await second.waitForNotification('codeloop/indexUpdate', (params) => params.changedPaths.includes('lib/shared.ts'));
    expect(update.root).toBe(fs.realpathSync(root));
    const hits = await second.connection.sendRequest<any>('codeloop/search', { query: 'typedInEditorOne' });
    expect(hits.matches).toEqual([expect.objectContaining({ path: 'lib/shared.ts', line: 1 })]);
    const symbols = await second.connection.sendRequest<any[]>('workspace/symbol', { query: 'sharedHelper' });
    expect(symbols[0].location.uri).toBe(pathToFileURL(path.join(fs.realpathSync(root), 'lib/shared.ts')).href);

    const cli = JSON.parse(runCli(['status', '--json', root], { stateHome: w.state, env: w.env }).stdout);
    expect(cli.daemon.pid).toBe(daemon.pid);
    expect(cli.daemon.memory.rssBytes).toBeGreaterThan(cli.daemon.memory.heapUsedBytes);
    expect(runCli(['status', root], { stateHome: w.state, env: w.env }).stdout).toMatch(/^memory {4}[\d.]+ MB resident, [\d.]+ MB JavaScript heap$/m);
  });

  it('keeps serving other clients when one is killed mid-request', async () => {
    const w = world();
    const files: Record<string, string> = {};
    for (let i = 0; i < 400; i++) files[`f${i}.txt`] = `line ${i} ${'word '.repeat(200)}\n`;
    const root = tree(files);
    const victim = client(w.env);
    await victim.initialize(root, 'victim');
    const survivor = client(w.env);
    await survivor.initialize(root, 'survivor');
    await expect.poll(async () => (await status(survivor)).workspaces[0]?.indexing, { timeout: 30_000 }).toBe(false);

    void victim.connection.sendRequest('codeloop/search', { query: 'w.r.d', mode: 'regex', limit: 10_000 }).catch(() => 'dropped');
    victim.child.kill('SIGKILL');
    await expect.poll(async () => (await status(survivor)).clients.map((c: any) => c.name), { timeout: 20_000 }).toEqual(['survivor']);
    const result = await survivor.connection.sendRequest<any>('codeloop/search', { query: 'line 399' });
    expect(result.matches).toHaveLength(1);
  });

  it('starts exactly one daemon when five editors start at once', { retry: 2 }, async () => {
    const w = world();
    const root = tree({ 'a.ts': 'export const a = 1;\n' });
    const editors = Array.from({ length: 5 }, () => client(w.env));
    await Promise.all(editors.map((editor, i) => editor.initialize(root, `editor-${i}`)));
    const pids = await Promise.all(editors.map(async (editor) => (await status(editor)).pid));
    const log = () => `pids ${pids.join(',')}; daemon log:\n${fs.readFileSync(path.join(w.state, 'codeloop', 'daemon.log'), 'utf8')}\nclients' stderr:\n${editors.map((e) => e.stderr()).join('\n')}`;
    expect(new Set(pids).size, log()).toBe(1);
    expect(Number(fs.readFileSync(path.join(w.runtime, 'daemon.lock'), 'utf8')), log()).toBe(pids[0]);
    expect((await status(editors[0])).clients, log()).toHaveLength(5);
  });

  it('stops on `codeloop daemon stop`, and after the idle time with no clients', async () => {
    const w = world(1);
    const root = tree({ 'a.ts': 'export const a = 1;\n' });
    const editor = client(w.env);
    await editor.initialize(root);
    expect(fs.existsSync(w.socket)).toBe(true);
    await editor.close();
    clients.splice(clients.indexOf(editor), 1);
    await expect.poll(() => fs.existsSync(w.socket), { timeout: 30_000, interval: 100 }).toBe(false);
    expect(runCli(['status', root], { stateHome: w.state, env: w.env }).stdout).toMatch(/^daemon {4}not running/);

    const again = client(w.env);
    await again.initialize(root);
    const stopped = runCli(['daemon', 'stop'], { stateHome: w.state, env: w.env });
    expect(stopped.stdout, stopped.stderr).toBe('codeloop daemon stopping\n');
    await expect.poll(() => fs.existsSync(w.socket), { timeout: 20_000 }).toBe(false);
  });

  it('stops promptly in the middle of a long first index, and the next start finishes it', { timeout: 300_000 }, async () => {
    const w = world();
    const files: Record<string, string> = {};
    for (let i = 0; i < 30_000; i++) files[`src/d${i % 300}/f${i}.ts`] = `export const value${i} = ${i}; // stopmarker\n`;
    const root = tree(files);
    const editor = client(w.env);
    await editor.initialize(root);
    await expect.poll(async () => (await status(editor)).workspaces[0]?.indexing, { timeout: 30_000 }).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const started = performance.now();
    runCli(['daemon', 'stop'], { stateHome: w.state, env: w.env });
    await expect.poll(() => fs.existsSync(w.socket), { timeout: 20_000, interval: 50 }).toBe(false);
    // Stopping may not wait for the index: the partial count below proves it stopped mid-way; the time bound is
    // generous because the suite must pass with both cores busy (a full index of this tree takes far longer then).
    expect(performance.now() - started).toBeLessThan(10_000);
    const partial = JSON.parse(runCli(['status', '--json', '--check', root], { stateHome: w.state, env: w.env }).stdout);
    expect(partial.integrity).toBe('ok');
    expect(partial.files).toBeLessThan(30_000);

    const again = client(w.env);
    await again.initialize(root);
    await expect.poll(async () => (await status(again)).workspaces[0]?.indexing, { timeout: 150_000, interval: 200 }).toBe(false);
    const hits = await again.connection.sendRequest<any>('codeloop/search', { query: 'stopmarker', limit: 10_000 });
    expect(hits.matches).toHaveLength(10_000);
    expect((await status(again)).workspaces[0].index.files).toBe(30_000);
  });
});
