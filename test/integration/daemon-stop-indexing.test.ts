import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { daemonWorld, type DaemonWorld } from '../helpers/daemon-world.js';
import { makeTree } from '../helpers/fixture-tree.js';
import { CLI_PATH, runCli, runCliAsync } from '../helpers/run-cli.js';

/**
 * `codeloop daemon stop` while the daemon indexes a folder for `codeloop index` or `codeloop search`: the index
 * stops part done, so the command must not print partial counts or hits as if complete (it printed "indexed 532
 * files … 532 added" and exit 0 for a tree of 687); it says the daemon stopped and to run it again, exit 2.
 */
const STOPPED = (root: string) => `codeloop: the codeloop daemon stopped (\`codeloop daemon stop\`, or a newer codeloop replacing it) before it finished indexing ${root}; run the command again\n`;
const FILES = 20_000;

let root: string;
const worlds: DaemonWorld[] = [];

// 100 files a folder: a folder per file doubled the inodes, and removing them took over 60 s on a slow CI disk.
// Both hooks get minutes: creating and removing 20,000 files is bound by the disk, not by this code.
beforeAll(() => {
  const body = Array.from({ length: 40 }, (_, i) => `export function step${i}(value: number): number {\n  return value * ${i} + 1;\n}\n`).join('');
  root = fs.realpathSync(makeTree(Object.fromEntries(Array.from({ length: FILES }, (_, i) => [`src/part${Math.floor(i / 100)}/module${i}.ts`, `// needle ${i}\n${body}`]))));
}, 300_000);

afterAll(async () => {
  for (const tree of [root, ...worlds.map((world) => world.state)]) await fs.promises.rm(tree, { recursive: true, force: true });
}, 300_000);

/** A daemon of its own, listening. */
async function startDaemon(): Promise<DaemonWorld> {
  const world = daemonWorld();
  worlds.push(world);
  spawn(process.execPath, [CLI_PATH, 'daemon', '--idle-seconds', '0'], { env: world.env, stdio: 'ignore' });
  await expect.poll(() => fs.existsSync(world.socket), { timeout: 30_000, interval: 50 }).toBe(true);
  return world;
}

describe('`codeloop daemon stop` while the daemon indexes for a command', () => {
  it.each([
    ['index', ['index', '.']],
    ['search', ['search', 'needle 19999', '.']],
  ])('`codeloop %s` says the daemon stopped before it finished, not a partial answer', async (_, args) => {
    const world = await startDaemon();
    const command = runCliAsync(args, { cwd: root, stateHome: world.state, env: world.env });
    await expect.poll(() => runCli(['status', root], { stateHome: world.state, env: world.env }).stdout, { timeout: 60_000, interval: 100 }).toMatch(/, indexing$/m);
    expect(runCli(['daemon', 'stop'], { stateHome: world.state, env: world.env }).status).toBe(0);
    const result = await command;
    // On a loaded machine the command may first have said the daemon is busy (its answer was over 10 s away).
    expect(result.stderr.replace(/^codeloop: the daemon \(pid \d+\) is busy: .* Still waiting\.\n/, '')).toBe(STOPPED(root));
    expect(result.stdout).toBe('');
    expect(result.status).toBe(2);
  }, 180_000);
});
