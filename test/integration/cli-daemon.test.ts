import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { daemonWorld, type DaemonWorld } from '../helpers/daemon-world.js';
import { makeStateHome, makeTree, removeTree } from '../helpers/fixture-tree.js';
import { CLI_PATH, runCli, runCliAsync } from '../helpers/run-cli.js';

/**
 * `codeloop search`/`index`/`status` ask a running daemon; without one they work alone and load only what the
 * command needs. Which modules a command loaded is read from a module-resolution hook the test installs.
 */
const FILES = {
  'src/app.ts': 'export function startServer(port: number) {\n  return port;\n}\n',
  'src/util.ts': 'export const helper = () => startServer(1);\n',
};

let world: DaemonWorld;
let daemon: ChildProcess;
let root: string;
let hooks: string;

/** Polls outside a test (hooks): `expect.poll` only works inside one. */
async function waitFor(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !condition();) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

beforeAll(async () => {
  world = daemonWorld();
  root = makeTree(FILES, { git: true });
  hooks = makeStateHome();
  fs.writeFileSync(path.join(hooks, 'hooks.mjs'), 'export async function resolve(s, c, next) { const r = await next(s, c); process.stderr.write(`MODULE ${r.url}\\n`); return r; }\n');
  fs.writeFileSync(path.join(hooks, 'register.mjs'), `import { register } from 'node:module';\nregister(${JSON.stringify(`file://${hooks}/hooks.mjs`)});\n`);
  daemon = spawn(process.execPath, [CLI_PATH, 'daemon', '--idle-seconds', '0'], { env: world.env, stdio: 'ignore' });
  await waitFor(() => fs.existsSync(world.socket), 'the daemon to listen');
});

afterAll(async () => {
  runCli(['daemon', 'stop'], { stateHome: world.state, env: world.env });
  await waitFor(() => daemon.exitCode !== null || daemon.signalCode !== null, 'the daemon to stop');
  removeTree(root, hooks, world.state);
});

/** The CLI against the world's daemon, with its own state folder unusable: anything it answers came from the daemon. */
function viaDaemon(args: string[], cwd = root) {
  const unusableState = path.join(hooks, 'not-a-folder');
  fs.writeFileSync(unusableState, '');
  return runCli(args, { cwd, stateHome: world.state, env: { ...world.env, XDG_STATE_HOME: unusableState, NODE_OPTIONS: `--import=${hooks}/register.mjs` } });
}

const packagesLoaded = (stderr: string) => new Set([...stderr.matchAll(/^MODULE .*\/node_modules\/((?:@[^/]+\/)?[^/]+)\//gm)].map((match) => match[1]));

describe('the CLI with a daemon running', () => {
  it('searches through the daemon, which opens the workspace and then keeps it fresh by watching', { timeout: 120_000 }, async () => {
    const first = viaDaemon(['search', 'startServer']);
    expect(first.stderr.replace(/^MODULE .*\n/gm, '')).toBe('');
    expect(first.stdout).toBe('src/app.ts:1:17:export function startServer(port: number) {\nsrc/util.ts:1:29:export const helper = () => startServer(1);\n');
    // The daemon keeps it: a file written now is found without re-validating (the watcher told the daemon).
    fs.writeFileSync(path.join(root, 'src/new.ts'), 'startServer(2);\n');
    await expect.poll(() => viaDaemon(['search', '--regex', 'startServer\\(\\d\\)']).stdout, { timeout: 30_000 })
      .toBe('src/new.ts:1:1:startServer(2);\nsrc/util.ts:1:29:export const helper = () => startServer(1);\n');
    const status = JSON.parse(runCli(['status', '--json'], { cwd: root, stateHome: world.state, env: world.env }).stdout);
    expect(status.daemon.workspaces.map((workspace: { root: string }) => workspace.root)).toEqual([fs.realpathSync(root)]);
  });

  it('loads no index, database, model, LSP or parser code to answer', () => {
    const result = viaDaemon(['search', '-i', 'STARTSERVER']);
    expect(result.status).toBe(0);
    expect([...packagesLoaded(result.stderr)]).toEqual([]);
    expect(result.stderr).not.toMatch(/server\/index\/workspace-index|server\/lsp\//);
  });

  it('passes the daemon\'s refusal on as one line, with rg\'s exit code', () => {
    const result = viaDaemon(['search', '--regex', 'start(']);
    expect(result.status).toBe(2);
    expect(result.stderr.replace(/^MODULE .*\n/gm, '')).toBe('codeloop: invalid regex "start(": unclosed group\n');
  });

  it('indexes through the daemon and refuses a rebuild under it', () => {
    const indexed = viaDaemon(['index', '--json']);
    expect(indexed.status, indexed.stderr).toBe(0);
    expect(JSON.parse(indexed.stdout)).toMatchObject({ files: 3, unchanged: 3, added: 0 });
    const rebuild = runCli(['index', '--rebuild'], { cwd: root, stateHome: world.state, env: world.env });
    expect(rebuild.status).toBe(2);
    expect(rebuild.stderr).toBe(`codeloop: the codeloop daemon has ${fs.realpathSync(root)} open; stop it first (codeloop daemon stop), then run codeloop index --rebuild\n`);
  });
});

describe('the CLI without a daemon', () => {
  it('works on its own and loads only what a literal search needs', { timeout: 120_000 }, async () => {
    const tree = makeTree(FILES, { git: true });
    const stateHome = makeStateHome();
    try {
      // Indexing parses files (tree-sitter, in workers); a search of an indexed tree re-validates and parses nothing.
      expect(runCli(['index'], { cwd: tree, stateHome }).status).toBe(0);
      const result = await runCliAsync(['search', 'startServer'], { cwd: tree, stateHome, env: { NODE_OPTIONS: `--import=${hooks}/register.mjs` } });
      expect(result.status).toBe(0);
      expect(result.stdout).toContain('src/util.ts:1:29:');
      const loaded = packagesLoaded(result.stderr);
      for (const unneeded of ['openai', 'vscode-languageserver', 'vscode-jsonrpc', 'web-tree-sitter', '@vscode/tree-sitter-wasm']) expect(loaded.has(unneeded), unneeded).toBe(false);
      expect(loaded.has('better-sqlite3')).toBe(true);
    } finally {
      removeTree(tree, stateHome);
    }
  });

  it('passes over the binary files it left out, unread, until they change', { timeout: 120_000 }, async () => {
    const tree = makeTree({ ...FILES, 'assets/logo.png': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01, 0x73, 0x74]) }, { git: true });
    const stateHome = makeStateHome();
    const search = () => runCliAsync(['search', 'startServer'], { cwd: tree, stateHome, env: { NODE_OPTIONS: `--import=${hooks}/register.mjs` } });
    const analysed = (stderr: string) => /^MODULE .*\/analysis-worker\.js$/m.test(stderr);
    try {
      expect(JSON.parse(runCli(['index', '--json'], { cwd: tree, stateHome }).stdout)).toMatchObject({ files: 2, skippedBinary: 1 });
      const unchanged = await search();
      expect(unchanged.stdout).toContain('src/app.ts:1:17:');
      expect(analysed(unchanged.stderr), 'an unchanged binary file started the analysis workers').toBe(false);
      // Changed, it is read again (and found binary again, remembered at its new stamp).
      fs.appendFileSync(path.join(tree, 'assets/logo.png'), Buffer.from([0x00, 0x02]));
      expect(analysed((await search()).stderr)).toBe(true);
      expect(analysed((await search()).stderr)).toBe(false);
      expect(JSON.parse(runCli(['index', '--json'], { cwd: tree, stateHome }).stdout)).toMatchObject({ files: 2, unchanged: 2, skippedBinary: 1 });
    } finally {
      removeTree(tree, stateHome);
    }
  });
});
