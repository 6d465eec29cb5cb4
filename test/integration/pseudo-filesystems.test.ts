import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { daemonWorld, type DaemonWorld } from '../helpers/daemon-world.js';
import { makeStateHome, makeTree, removeTree } from '../helpers/fixture-tree.js';
import { startLspClient } from '../helpers/lsp-client.js';
import { CLI_PATH, runCli } from '../helpers/run-cli.js';

/**
 * Folders that are not folders of files — kernel pseudo-filesystems (/proc, /sys, /dev/pts), whose files never
 * end or block when read, and special files (FIFOs, sockets, devices) — get a quick, plain refusal or are left
 * out of a walk, from the CLI alone, through the daemon, from `codeloop index` and from an editor. A CLI that has
 * not answered within HANG_MS is killed, and the test says it hung.
 */
const HANG_MS = 30_000;
const REFUSED = (dir: string, kind: string) => `codeloop: cannot index ${dir}: it is on ${kind}, a kernel pseudo-filesystem whose files the kernel makes up when read (some never end); codeloop searches folders of files\n`;
const PSEUDO_ROOTS: [string, string][] = [['/proc/self', 'proc'], ['/proc', 'proc'], ['/sys/kernel', 'sysfs'], ['/dev/pts', 'devpts']];

let stateHome: string;
let root: string;
let world: DaemonWorld;
let daemon: ChildProcess;
let listening: net.Server;

function cli(args: string[], env?: NodeJS.ProcessEnv) {
  const result = runCli(args, { cwd: root, stateHome, env, timeoutMs: HANG_MS });
  if (result.status === null) throw new Error(`codeloop ${args.join(' ')} hung (killed after ${HANG_MS / 1000} s)`);
  return result;
}

beforeAll(async () => {
  stateHome = makeStateHome();
  root = makeTree({ 'src/real.ts': 'export const needle = 1;\n' }, { git: true });
  // Special files inside a workspace: a FIFO (reading it blocks until a writer comes), a listening socket, and a
  // symbolic link to an endless device.
  spawnSync('mkfifo', [path.join(root, 'src/pipe')]);
  listening = net.createServer().listen(path.join(root, 'src/socket'));
  fs.symlinkSync('/dev/zero', path.join(root, 'src/zeros'));
  world = daemonWorld();
  daemon = spawn(process.execPath, [CLI_PATH, 'daemon', '--idle-seconds', '0'], { env: world.env, stdio: 'ignore' });
  for (const deadline = Date.now() + 30_000; !fs.existsSync(world.socket);) {
    if (Date.now() > deadline) throw new Error('the daemon did not listen within 30 s');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
});

afterAll(async () => {
  listening.close();
  runCli(['daemon', 'stop'], { stateHome: world.state, env: world.env });
  if (daemon.exitCode === null) await new Promise((resolve) => daemon.once('exit', resolve));
  removeTree(root, stateHome, world.state);
});

describe.each([
  ['without a daemon', () => undefined],
  ['through the daemon', () => world.env],
])('a pseudo-filesystem as the folder, %s', (_, env) => {
  it.each(PSEUDO_ROOTS)('`codeloop search x %s` is refused at once, naming %s', (dir, kind) => {
    const result = cli(['search', 'x', dir], env());
    expect(result.stderr).toBe(REFUSED(dir, kind));
    expect(result.stdout).toBe('');
    expect(result.status).toBe(2);
  });

  it('`codeloop index /proc/self` and `codeloop search --text` are refused the same way', () => {
    expect(cli(['index', '/proc/self'], env()).stderr).toBe(REFUSED('/proc/self', 'proc'));
    expect(cli(['search', '--text', 'where is the needle', '/sys/kernel'], env()).stderr).toBe(REFUSED('/sys/kernel', 'sysfs'));
  });
});

describe('special files', () => {
  it('a FIFO, a socket or a device given as the folder is "not a directory", at once', () => {
    for (const special of [path.join(root, 'src/pipe'), path.join(root, 'src/socket'), '/dev/zero']) {
      const result = cli(['search', 'x', special]);
      expect(result.stderr).toBe(`codeloop: cannot index ${special}: not a directory\n`);
      expect(result.status).toBe(2);
    }
  });

  it('inside a workspace they are left out of the walk: search ends and finds the real file, alone and through the daemon', () => {
    for (const env of [undefined, world.env]) {
      const result = cli(['search', 'needle', '.'], env);
      expect(result.stderr).toBe('');
      expect(result.stdout).toBe('src/real.ts:1:14:export const needle = 1;\n');
    }
  });
});

describe('a pseudo-filesystem mounted inside a workspace', () => {
  // /proc and /sys mounted into the tree, as in a container's root filesystem, in a private user and mount
  // namespace (ENVIRONMENT.md: unprivileged, works here and in CI).
  const mounted = spawnSync('unshare', ['-r', '-m', '-p', '-f', 'true']).status === 0;

  it.skipIf(!mounted)('is left out of `codeloop index` (said in a note) and of search', () => {
    const tree = makeTree({ 'src/real.ts': 'export const needle = 1;\n', 'rootfs/proc/.keep': '', 'rootfs/sys/.keep': '' });
    const state = makeStateHome();
    try {
      const env = `XDG_STATE_HOME=${state} XDG_CONFIG_HOME=${state}/config CODELOOP_RUNTIME_DIR=${state}/runtime`;
      const script = `mount -t proc proc rootfs/proc && mount --rbind /sys rootfs/sys && env ${env} ${process.execPath} ${CLI_PATH} index . && env ${env} ${process.execPath} ${CLI_PATH} search needle .`;
      const result = spawnSync('unshare', ['-r', '-m', '-p', '-f', 'sh', '-c', script], { cwd: tree, encoding: 'utf8', timeout: HANG_MS });
      expect(result.status, result.stderr).toBe(0);
      expect(result.stdout).toContain('note: Not indexed, being kernel pseudo-filesystems (their files never end or block when read): 2 folders (');
      expect(result.stdout).toMatch(/rootfs\/proc \(proc\)/);
      expect(result.stdout).toMatch(/rootfs\/sys \(sysfs\)/);
      expect(result.stdout).toMatch(/^indexed 1 files /m); // the .keep files are hidden under the mounts
      expect(result.stdout.trimEnd().split('\n').at(-1)).toBe('src/real.ts:1:14:export const needle = 1;');
    } finally {
      removeTree(tree, state);
    }
  });
});

describe('an editor opening a pseudo-filesystem', () => {
  it('is told in an error message that the folder was not opened, and why', async () => {
    const editor = startLspClient(['--standalone'], { ...process.env, XDG_STATE_HOME: stateHome, XDG_CONFIG_HOME: path.join(stateHome, 'config') });
    try {
      await editor.initialize('/proc/self');
      const shown = await editor.waitForNotification('window/showMessage', (params) => params.type === 1, HANG_MS);
      expect(shown.message).toBe(`codeloop: the folder /proc/self was not opened: ${REFUSED('/proc/self', 'proc').slice('codeloop: '.length).trimEnd()}`);
    } finally {
      await editor.close();
    }
  });
});
