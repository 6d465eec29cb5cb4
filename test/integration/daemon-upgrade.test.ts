import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeModel, type FakeStep } from '../fake-model/fake-model-server.js';
import { CALC_FILES } from '../helpers/calc-project.js';
import { daemonWorld, type DaemonWorld } from '../helpers/daemon-world.js';
import { makeTree, removeTree } from '../helpers/fixture-tree.js';
import { startLspClient, waitUntilIndexed, type TestLspClient } from '../helpers/lsp-client.js';
import { CLI_PATH, runCli } from '../helpers/run-cli.js';

/**
 * Two builds of codeloop meeting one daemon (issue: an older daemon left running after an upgrade kept serving).
 * The newer build is this checkout's dist/; the older one a copy of it whose build-info.json says another build,
 * made a day earlier (its native client rebuilt with that id). What the user sees is asserted: the CLI's stderr,
 * the editor's `window/showMessage`, and which daemon answers afterwards.
 */
const PACKAGE = path.resolve(path.dirname(CLI_PATH), '../..');
interface Build { buildId: string; builtAt: number; version: string }
const NEWER = JSON.parse(fs.readFileSync(path.join(PACKAGE, 'dist/server/build-info.json'), 'utf8')) as Build;
const OLDER: Build = { buildId: '0123456789abcdef', builtAt: NEWER.builtAt - 86_400_000, version: NEWER.version };
/** How a build is named to the user: "0.1.0 (build 0123…, built 2026-11-30 02:13 UTC)". */
const named = (build: Build) => `${build.version} (build ${build.buildId}, built ${new Date(build.builtAt).toISOString().slice(0, 10)} ${new Date(build.builtAt).toISOString().slice(11, 16)} UTC)`;

let older: string;
let olderCli: string;
let beforeHello: string;
const cleanups: (() => unknown)[] = [];

/** A copy of this installation (node_modules linked) saying it is `build`, its native client rebuilt to match. */
function copyOfThisBuild(build: Build | null): string {
  const copy = makeTree({});
  for (const part of ['dist/server', 'dist/protocol', 'bin', 'package.json', 'clients/cli/codeloop-client.c', 'clients/cli/build.sh']) {
    fs.cpSync(path.join(PACKAGE, part), path.join(copy, part), { recursive: true });
  }
  fs.symlinkSync(path.join(PACKAGE, 'node_modules'), path.join(copy, 'node_modules'));
  if (build) fs.writeFileSync(path.join(copy, 'dist/server/build-info.json'), JSON.stringify(build));
  else fs.rmSync(path.join(copy, 'dist/server/build-info.json'));
  expect(spawnSync('sh', ['clients/cli/build.sh'], { cwd: copy }).status).toBe(0);
  return copy;
}

beforeAll(() => {
  older = copyOfThisBuild(OLDER);
  olderCli = path.join(older, 'dist/server/cli.js');
  // A daemon from before build ids: no build-info.json, and `codeloop/hello` unknown (its route taken out).
  beforeHello = copyOfThisBuild(null);
  const routes = path.join(beforeHello, 'dist/server/lsp/routes.js');
  const withHello = fs.readFileSync(routes, 'utf8');
  fs.writeFileSync(routes, withHello.replace(/^ *'codeloop\/hello': .*\n/m, ''));
  expect(fs.readFileSync(routes, 'utf8')).not.toContain('codeloop/hello');
});
afterAll(() => removeTree(older, beforeHello));
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const plan: FakeStep = { kind: 'text', content: '1. Fix add' };
const edit: FakeStep = { kind: 'tools', calls: [{ name: 'propose_edit', arguments: { path: 'src/math.js', blocks: [{ search: 'a - b', replace: 'a + b' }] } }] };
const done: FakeStep = { kind: 'tools', calls: [{ name: 'done', arguments: { summary: 'add adds' } }] };

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const lockHolder = (world: DaemonWorld) => Number(fs.readFileSync(path.join(world.runtime, 'daemon.lock'), 'utf8'));

/** A world whose agent talks to a fake model playing `script`, with a calc project; everything removed afterwards. */
async function world(script: FakeStep[]): Promise<DaemonWorld & { root: string }> {
  const fake = await startFakeModel(script);
  const created = daemonWorld({ model: { baseURL: fake.baseURL, model: 'fake', maxRetries: 0, toolCalls: 'native' }, agent: { autoApprovePlan: true } });
  const root = makeTree(CALC_FILES, { git: true });
  cleanups.push(async () => {
    runCli(['daemon', 'stop'], { stateHome: created.state, env: created.env });
    for (const deadline = Date.now() + 30_000; fs.existsSync(created.socket) && Date.now() < deadline;) await new Promise((resolve) => setTimeout(resolve, 50));
    await fake.close();
    removeTree(root, created.state);
  });
  return { ...created, root };
}

/** An editor running `codeloop lsp` of the given installation, with `root` open and indexed. */
async function editor(w: DaemonWorld & { root: string }, cli: string): Promise<TestLspClient> {
  const client = startLspClient([], w.env, [], cli);
  cleanups.push(() => client.close());
  await client.initialize(w.root, cli === CLI_PATH ? 'newer' : 'older');
  await waitUntilIndexed(client.connection);
  return client;
}

function search(w: DaemonWorld & { root: string }, command: string[]) {
  const result = spawnSync(command[0], [...command.slice(1), 'search', 'exports.add', '.'], { cwd: w.root, env: w.env, encoding: 'utf8', timeout: 60_000 });
  if (result.status === null) throw new Error(`${command.join(' ')} search hung`);
  return result;
}

describe('a newer codeloop meeting an older daemon', () => {
  it('replaces it when idle: `codeloop search` says so, the older editor is told its daemon stopped, the session and its proposal are kept', { timeout: 180_000 }, async () => {
    const w = await world([plan, edit, done]);
    const oldEditor = await editor(w, olderCli);
    const uri = pathToFileURL(path.join(fs.realpathSync(w.root), 'src/math.js')).href;
    const { sessionId } = await oldEditor.connection.sendRequest<any>('codeloop/startTask', { prompt: 'fix add', uri });
    await oldEditor.waitForNotification('codeloop/sessionUpdate', (p) => p.sessionId === sessionId && p.state === 'awaitingApproval', 60_000);
    const oldPid = lockHolder(w);

    const result = search(w, [process.execPath, CLI_PATH]);
    expect(result.stderr).toBe(`codeloop: replaced the running daemon (pid ${oldPid}, ${named(OLDER)}) with this newer build, ${named(NEWER)}.\n`);
    expect(result.stdout).toBe('src/math.js:1:1:exports.add = (a, b) => a - b;\n');
    await expect.poll(() => alive(oldPid), { timeout: 30_000 }).toBe(false); // it let go of its lock first, then exits
    await oldEditor.waitForNotification('window/showMessage', (p) => p.type === 1 && p.message.startsWith('codeloop: the daemon stopped'), 30_000);

    // The next editor starts this build's daemon, which has the session with its proposal.
    const newEditor = await editor(w, CLI_PATH);
    expect(newEditor.notifications.filter((n) => n.method === 'window/showMessage')).toEqual([]);
    const status = await newEditor.connection.sendRequest<any>('codeloop/status', {});
    expect(status.pid).not.toBe(oldPid);
    const session = (await newEditor.connection.sendRequest<any>('codeloop/listSessions', {})).sessions.find((s: any) => s.sessionId === sessionId);
    expect(session).toMatchObject({ state: 'awaitingApproval', proposal: { files: 1, added: 1, removed: 1 } });
  });

  it('replaces one from before build ids (no `codeloop/hello`) when idle, judged by its status', { timeout: 180_000 }, async () => {
    const w = await world([]);
    await editor(w, path.join(beforeHello, 'dist/server/cli.js'));
    const oldPid = lockHolder(w);
    const result = search(w, [process.execPath, CLI_PATH]);
    expect(result.stderr).toBe(`codeloop: replaced the running daemon (pid ${oldPid}, ${NEWER.version} (build from before build ids)) with this newer build, ${named(NEWER)}.\n`);
    expect(result.stdout).toBe('src/math.js:1:1:exports.add = (a, b) => a - b;\n');
    await expect.poll(() => alive(oldPid), { timeout: 30_000 }).toBe(false);
  });

  it('leaves it serving while a session is at work, and says so in the editor and on the command line', { timeout: 180_000 }, async () => {
    const w = await world([plan, { kind: 'hang' }]);
    const oldEditor = await editor(w, olderCli);
    const uri = pathToFileURL(path.join(fs.realpathSync(w.root), 'src/math.js')).href;
    const { sessionId } = await oldEditor.connection.sendRequest<any>('codeloop/startTask', { prompt: 'fix add', uri });
    await oldEditor.waitForNotification('codeloop/sessionUpdate', (p) => p.sessionId === sessionId && p.state === 'working', 60_000);
    const oldPid = lockHolder(w);
    const told = `codeloop: the running daemon (pid ${oldPid}) is ${named(OLDER)}, older than this codeloop, ${named(NEWER)}; it has 1 session at work, so it keeps serving for now. `
      + "Once that is done, run `codeloop daemon stop` (sessions are kept) and the next editor or command starts this build's daemon.";

    const newEditor = startLspClient([], w.env);
    cleanups.push(() => newEditor.close());
    await newEditor.initialize(w.root, 'newer');
    expect((await newEditor.waitForNotification('window/showMessage', (p) => p.message.includes('older than this codeloop'), 30_000))).toEqual({ type: 2, message: told });
    expect((await newEditor.connection.sendRequest<any>('codeloop/status', {})).pid).toBe(oldPid);

    const result = search(w, [process.execPath, CLI_PATH]);
    expect(result.stderr).toBe(`${told}\n`);
    expect(result.stdout).toBe('src/math.js:1:1:exports.add = (a, b) => a - b;\n');
    const indexed = runCli(['index', '.'], { cwd: w.root, stateHome: w.state, env: w.env, timeoutMs: 60_000 });
    expect(indexed.stderr).toBe(`${told}\n`);
    expect(indexed.stdout).toMatch(/^indexed 3 files /);
    expect(alive(oldPid)).toBe(true);
    expect((await oldEditor.connection.sendRequest<any>('codeloop/listSessions', {})).sessions[0]).toMatchObject({ sessionId, state: 'working' });
  });
});

describe('an older codeloop meeting a newer daemon', () => {
  let daemon: ChildProcess;

  it('is told plainly which codeloop to use — the Node CLI, the native client and `codeloop lsp` — and the newer daemon keeps running', { timeout: 180_000 }, async () => {
    const w = await world([]);
    daemon = spawn(process.execPath, [CLI_PATH, 'daemon', '--idle-seconds', '0'], { env: w.env, stdio: 'ignore' });
    for (const deadline = Date.now() + 30_000; !fs.existsSync(w.socket);) {
      if (Date.now() > deadline) throw new Error('the daemon did not listen within 30 s');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const told = `codeloop: this codeloop, ${named(OLDER)}, is older than the running daemon (pid ${daemon.pid}), ${named(NEWER)}: use the codeloop that runs ${CLI_PATH} (this one goes on with that daemon).`;

    for (const command of [[process.execPath, olderCli], [path.join(older, 'bin/codeloop')]]) {
      const result = search(w, command);
      expect(result.stderr, command.join(' ')).toBe(`${told}\n`);
      expect(result.stdout).toBe('src/math.js:1:1:exports.add = (a, b) => a - b;\n');
    }
    // The same build, native client or not, meets it silently.
    for (const command of [[process.execPath, CLI_PATH], [path.join(PACKAGE, 'bin/codeloop')]]) expect(search(w, command).stderr).toBe('');

    const oldEditor = startLspClient([], w.env, [], olderCli);
    cleanups.push(() => oldEditor.close());
    await oldEditor.initialize(w.root, 'older');
    expect(await oldEditor.waitForNotification('window/showMessage', (p) => p.message.includes('is older than the running daemon'), 30_000)).toEqual({ type: 2, message: told });
    expect((await oldEditor.connection.sendRequest<any>('codeloop/status', {})).pid).toBe(daemon.pid);
    expect(alive(daemon.pid!)).toBe(true);
  });
});
