import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { daemonWorld, type DaemonWorld } from '../helpers/daemon-world.js';
import { makeStateHome, makeTree, removeTree } from '../helpers/fixture-tree.js';
import { CLI_PATH, runCli } from '../helpers/run-cli.js';

/**
 * The `codeloop` command as installed (package.json "bin": bin/codeloop) prints, for every `codeloop search`
 * command line, exactly what the Node CLI prints — stdout byte for byte, stderr and exit code — with a daemon
 * (answered by the native client, clients/cli/codeloop-client.c) and without one (handed over to Node). Where no
 * C compiler built the client, the command runs Node, and the tests that need the client are skipped (CI installs
 * a compiler and fails without the client).
 */
const PACKAGE = path.resolve(path.dirname(CLI_PATH), '../..');
const LAUNCHER = path.join(PACKAGE, 'bin/codeloop');
const CLIENT = path.join(PACKAGE, 'dist/clients/cli/codeloop-client');
const hasClient = fs.existsSync(CLIENT);
if (!hasClient && process.env.CI) throw new Error('the native client (dist/clients/cli/codeloop-client) must be built in CI: install a C compiler');

const FILES: Record<string, string | Buffer> = {
  'src/app.ts': 'export function startServer(port: number) {\n  return "port" + \'\\\\\' + port;\n}\n',
  'src/notes.md': 'café Straße ünïcode 😀 startServer\n-v is a flag\n--json too\n',
  'src/latin1.txt': Buffer.from('caf\xe9 startServer in Latin-1\n', 'latin1'),
  'lib/util.ts': 'export const helper = () => startServer(1);\n',
};

let world: DaemonWorld;
let daemon: ChildProcess;
let root: string;
let outside: string;

interface Printed { status: number | null; stdout: string; stderr: string }

function printed(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Printed {
  const result = spawnSync(command, args, { cwd: options.cwd ?? root, env: options.env ?? world.env, encoding: 'latin1', maxBuffer: 64 * 1024 * 1024 });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** `codeloop ARGS` as a user types it. */
const codeloop = (args: string[], options?: { cwd?: string; env?: NodeJS.ProcessEnv }) => printed(LAUNCHER, args, options);
/** The Node CLI itself, for comparison. */
const nodeCli = (args: string[], options?: { cwd?: string; env?: NodeJS.ProcessEnv }) => printed(process.execPath, [CLI_PATH, ...args], options);
/** The native client with no `node` to hand over to: whatever it prints, it answered alone. */
const clientAlone = (args: string[], env: NodeJS.ProcessEnv = world.env) => printed(CLIENT, args, { env: { ...env, PATH: '/nonexistent' } });

/** Search command lines a user may type: odd characters, options in every spelling, no hits, other folders. */
const ANSWERED_BY_THE_DAEMON = (): string[][] => [
  ['search', 'startServer'],
  ['search', '"port"'],
  ['search', '\'\\\\\''],
  ['search', 'café'],
  ['search', '😀 startServer'],
  ['search', '--', '-v is'],
  ['search', '--', '--json'],
  ['search', 'no such text anywhere'],
  ['search', '--json', 'startServer'],
  ['search', '--limit', '1', 'startServer'],
  ['search', '--limit=2', '--json', 'startServer'],
  ['search', '-i', 'STARTSERVER', 'src'],
  ['search', '--ignore-case', '--regex', 'STRASSE|straße'],
  ['search', '--regex', 'start\\w+\\(\\d\\)', './lib/../lib'],
  ['search', '--no-refresh', 'startServer', '.'],
  ['search', '--symbol', 'startServer'],
  ['search', 'Latin-1'],
  ['search', 'helper', outside],
  ['search', 'helper', path.relative(root, outside)],
];

/** Command lines the Node CLI answers (help, usage mistakes, errors): the command hands them over unchanged. */
const HANDED_OVER = (): string[][] => [
  ['search', '--regex', 'start('],
  ['search', ''],
  ['search', '--help'],
  ['search', '-v', 'startServer'],
  ['search', '--regex', '--symbol', 'x'],
  ['search', '--limit', '0', 'x'],
  ['search', '--limit', 'many', 'x'],
  ['search', 'x', 'no-such-folder'],
  ['search', 'x', 'src/app.ts'],
  ['search', 'a', 'b', 'c'],
  ['search'],
];

beforeAll(async () => {
  world = daemonWorld();
  root = makeTree(FILES, { git: true });
  outside = makeTree({ 'other.ts': 'export const helper = 1;\n' });
  daemon = spawn(process.execPath, [CLI_PATH, 'daemon', '--idle-seconds', '0'], { env: world.env, stdio: 'ignore' });
  for (const deadline = Date.now() + 30_000; !fs.existsSync(world.socket);) {
    if (Date.now() > deadline) throw new Error('the daemon did not listen within 30 s');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}, 60_000);

afterAll(async () => {
  runCli(['daemon', 'stop'], { stateHome: world.state, env: world.env });
  for (const deadline = Date.now() + 30_000; daemon.exitCode === null && daemon.signalCode === null && Date.now() < deadline;) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  removeTree(root, outside, world.state);
});

describe('codeloop search with a daemon running', () => {
  it('prints exactly what the Node CLI prints, and exits as it does', { timeout: 180_000 }, () => {
    for (const args of [...ANSWERED_BY_THE_DAEMON(), ...HANDED_OVER()]) {
      const expected = nodeCli(args);
      expect(codeloop(args), args.join(' ')).toEqual(expected);
    }
    expect(codeloop(['search', 'startServer']).stdout).toContain('src/notes.md:1:30:café Straße ünïcode 😀 startServer'.replace(/[^\x00-\x7f]/gu, (c) => Buffer.from(c).toString('latin1')));
    expect(codeloop(['search', 'Latin-1']).stdout).toBe('src/latin1.txt:1:21:caf\xe9 startServer in Latin-1\n');
  });

  it.skipIf(!hasClient)('answers without starting Node', { timeout: 120_000 }, () => {
    for (const args of ANSWERED_BY_THE_DAEMON()) {
      expect(clientAlone(args), args.join(' ')).toEqual(nodeCli(args));
    }
    // What it does not handle itself goes to Node, here missing: so it did not answer these alone.
    for (const args of HANDED_OVER()) {
      expect(clientAlone(args), args.join(' ')).toEqual({ status: 70, stdout: '', stderr: 'codeloop: cannot run node (needed by codeloop): No such file or directory\n' });
    }
  });

  it('never uses a socket in a folder others can reach, or behind a symbolic link', { timeout: 60_000 }, () => {
    const handedOver = { status: 70, stdout: '', stderr: 'codeloop: cannot run node (needed by codeloop): No such file or directory\n' };
    // With its own state folder unusable, the Node CLI can answer only through the daemon.
    const unusableState = path.join(world.state, 'not-a-folder');
    fs.writeFileSync(unusableState, '');
    const onlyTheDaemon = { ...world.env, XDG_STATE_HOME: unusableState };
    expect(nodeCli(['search', 'startServer'], { env: onlyTheDaemon }).status).toBe(0);
    fs.chmodSync(world.runtime, 0o755);
    try {
      const alone = nodeCli(['search', 'startServer'], { env: onlyTheDaemon });
      expect(alone.status).not.toBe(0);
      expect(alone.stdout).toBe('');
      expect(alone.stderr).toContain('not a directory');
      if (hasClient) expect(clientAlone(['search', 'startServer'])).toEqual(handedOver);
    } finally {
      fs.chmodSync(world.runtime, 0o700);
    }
    if (!hasClient) return;
    const link = path.join(world.state, 'runtime-link');
    fs.symlinkSync(world.runtime, link);
    expect(clientAlone(['search', 'startServer'], { ...world.env, CODELOOP_RUNTIME_DIR: link })).toEqual(handedOver);
    expect(clientAlone(['search', 'startServer'])).toEqual(nodeCli(['search', 'startServer']));
  });

  it('says once that stdout cannot be written (a full disk, exit 74), and prints nothing to a closed stdout, as Node does', { timeout: 120_000 }, () => {
    // `sh -c` redirects as a user's shell does: to /dev/full (every write fails with ENOSPC), or closes it.
    const redirected = (redirect: string, command: string[]) => printed('sh', ['-c', `"$@" ${redirect}`, 'sh', ...command]);
    for (const args of [['search', 'startServer'], ['search', '--json', 'café']]) {
      const full = { status: 74, stdout: '', stderr: 'codeloop: cannot write to standard output (ENOSPC)\n' };
      expect(redirected('>/dev/full', [LAUNCHER, ...args]), args.join(' ')).toEqual(full);
      expect(redirected('>/dev/full', [process.execPath, CLI_PATH, ...args]), args.join(' ')).toEqual(full);
      // A closed stdout is /dev/null to Node; the client must not write the output into the daemon's socket.
      expect(redirected('>&-', [LAUNCHER, ...args]), args.join(' ')).toEqual({ status: 0, stdout: '', stderr: '' });
      expect(redirected('>&-', [process.execPath, CLI_PATH, ...args]), args.join(' ')).toEqual({ status: 0, stdout: '', stderr: '' });
    }
    if (hasClient) {
      // The client answered alone (no node on its PATH to hand over to).
      const full = fs.openSync('/dev/full', 'w');
      try {
        const alone = spawnSync(CLIENT, ['search', 'startServer'], { cwd: root, env: { ...world.env, PATH: '/nonexistent' }, stdio: ['ignore', full, 'pipe'], encoding: 'latin1' });
        expect({ status: alone.status, stderr: alone.stderr }).toEqual({ status: 74, stderr: 'codeloop: cannot write to standard output (ENOSPC)\n' });
      } finally {
        fs.closeSync(full);
      }
    }
  });

  it('runs the Node CLI where no native client was built', { timeout: 120_000 }, () => {
    // An installation without dist/clients (no C compiler): the same launcher, the same dist/server.
    const installed = makeStateHome();
    try {
      fs.mkdirSync(path.join(installed, 'bin'));
      fs.mkdirSync(path.join(installed, 'dist'));
      fs.copyFileSync(LAUNCHER, path.join(installed, 'bin/codeloop'));
      fs.symlinkSync(path.join(PACKAGE, 'dist/server'), path.join(installed, 'dist/server'));
      fs.symlinkSync(path.join(PACKAGE, 'dist/protocol'), path.join(installed, 'dist/protocol'));
      // Reached through a symbolic link, as npm installs the command.
      fs.symlinkSync('../bin/codeloop', path.join(installed, 'dist/codeloop'));
      for (const args of [['search', 'startServer'], ['search', '--regex', 'start('], ['--version']]) {
        expect(printed(path.join(installed, 'dist/codeloop'), args), args.join(' ')).toEqual(nodeCli(args));
      }
      // Run by a shell from its own folder: no slash in $0.
      expect(printed('sh', ['codeloop', '--version'], { cwd: path.join(installed, 'bin') })).toEqual(nodeCli(['--version']));
      expect(printed('sh', ['codeloop', 'search', 'startServer', root], { cwd: path.join(PACKAGE, 'bin') })).toEqual(nodeCli(['search', 'startServer', root]));
    } finally {
      removeTree(installed);
    }
  });
});

describe('codeloop search without a daemon', () => {
  it('prints what the Node CLI prints: no socket, or a dead socket file left behind', { timeout: 240_000 }, async () => {
    const state = makeStateHome();
    const runtime = path.join(state, 'runtime');
    fs.mkdirSync(runtime, { mode: 0o700 });
    const env = { ...world.env, XDG_STATE_HOME: state, CODELOOP_RUNTIME_DIR: runtime };
    try {
      const lines = [['search', 'startServer'], ['search', '--json', '-i', 'CAFÉ'], ['search', 'no such text'], ['search', '--regex', 'start('], ['search', 'helper', outside]];
      for (const args of lines) expect(codeloop(args, { env }), args.join(' ')).toEqual(nodeCli(args, { env }));
      // A daemon that died without removing its socket: nothing listens on the file.
      const socket = path.join(runtime, 'daemon.sock');
      const leftBehind = spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(socket)}, () => process.exit(0))`]);
      expect(leftBehind.status).toBe(0);
      expect(fs.lstatSync(socket).isSocket()).toBe(true);
      await expect(new Promise((resolve, reject) => net.connect(socket).once('connect', resolve).once('error', reject))).rejects.toThrow(/ECONNREFUSED/);
      for (const args of lines) expect(codeloop(args, { env }), args.join(' ')).toEqual(nodeCli(args, { env }));
    } finally {
      removeTree(state);
    }
  });
});

describe('codeloop search with a daemon that does not answer', () => {
  it('says the daemon is busy once, after CODELOOP_BUSY_NOTICE_MS from the start, and keeps waiting', { timeout: 60_000 }, async () => {
    const silentWorld = daemonWorld();
    // A stand-in for a daemon stuck in a long request: this live process holds the lock, and its socket takes
    // connections and answers nothing.
    fs.mkdirSync(silentWorld.runtime, { recursive: true, mode: 0o700 });
    fs.writeFileSync(path.join(silentWorld.runtime, 'daemon.lock'), String(process.pid));
    const connections: net.Socket[] = [];
    const silent = net.createServer((connection) => {
      connections.push(connection);
      connection.resume(); // read (and drop) the requests, so that a client's close is seen
    });
    await new Promise<void>((resolve) => silent.listen(silentWorld.socket, resolve));
    const command = spawn(LAUNCHER, ['search', 'anything', root], { env: { ...silentWorld.env, CODELOOP_BUSY_NOTICE_MS: '4000' }, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let stderr = '';
      command.stderr.on('data', (chunk) => {
        stderr += chunk;
      });
      // The native client waits 4 s, then hands over to Node, which waits on: the notice counts from the start
      // (4 s plus Node's start), not 4 s more (8 s).
      await expect.poll(() => stderr, { timeout: 30_000 }).toMatch(/^codeloop: the daemon \(pid \d+\) is busy: the search has had no answer for \d+ s\. /);
      expect(stderr).toBe(`${stderr.split('\n')[0]}\n`);
      const waited = Number(/no answer for (\d+) s/.exec(stderr)![1]);
      expect(waited).toBeGreaterThanOrEqual(4);
      expect(waited).toBeLessThan(7);
      expect(command.exitCode).toBeNull();
      // The native client's connection (when it ran) is closed, not inherited by the Node CLI it handed over to:
      // only the Node CLI's own stays open on the daemon. (Without the client, the Node CLI's first connection is
      // its `codeloop/hello`, given up after 10 s; handed over by the client, which waited already, it asks none.)
      await expect.poll(() => [connections.length, connections.filter((connection) => !connection.closed).length], { timeout: 30_000 }).toEqual([2, 1]);
    } finally {
      command.kill('SIGKILL');
      silent.close();
      removeTree(silentWorld.state);
    }
  });
});

describe('building the native client', () => {
  it('is skipped with a message where no C compiler is found or it cannot build, and the build goes on', { timeout: 60_000 }, () => {
    const copy = makeStateHome();
    try {
      fs.mkdirSync(path.join(copy, 'clients/cli'), { recursive: true });
      for (const file of ['build.sh', 'codeloop-client.c']) fs.copyFileSync(path.join(PACKAGE, 'clients/cli', file), path.join(copy, 'clients/cli', file));
      const build = (cc: string) => spawnSync('sh', [path.join(copy, 'clients/cli/build.sh')], { env: { ...process.env, CC: cc }, encoding: 'utf8' });
      const client = path.join(copy, 'dist/clients/cli/codeloop-client');
      const missing = build('/nonexistent/cc');
      expect(missing.status).toBe(0);
      expect(missing.stdout).toBe('codeloop: no C compiler (/nonexistent/cc): the native search client is not built; codeloop runs every command in Node\n');
      expect(fs.existsSync(client)).toBe(false);
      const failing = build('false');
      expect(failing.status).toBe(0);
      expect(failing.stdout).toBe('codeloop: false could not build the native search client (see above); codeloop runs every command in Node\n');
      expect(fs.existsSync(client)).toBe(false);
      if (hasClient) {
        expect(build('cc').status).toBe(0);
        expect(fs.statSync(client).mode & 0o111).not.toBe(0);
        // A later build without a compiler removes it: no client from older sources stays behind.
        build('/nonexistent/cc');
        expect(fs.existsSync(client)).toBe(false);
      }
    } finally {
      removeTree(copy);
    }
  });
});
