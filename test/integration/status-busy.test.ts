import fs from 'node:fs';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { daemonWorld } from '../helpers/daemon-world.js';
import { makeTree, removeTree } from '../helpers/fixture-tree.js';
import { runCli } from '../helpers/run-cli.js';

/**
 * `codeloop status` tells a busy daemon from a dead one: a live process holding the daemon lock whose socket takes
 * the connection but never answers is "busy (not answering for N s)", never "not running".
 */
const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));

describe('codeloop status with a silent daemon', () => {
  it('says busy, with the pid, when the lock holder is alive but does not answer; not running when nothing holds the lock', { timeout: 60_000 }, async () => {
    const world = daemonWorld();
    const root = makeTree({ 'a.ts': 'export const a = 1;\n' });
    cleanups.push(() => removeTree(root, world.state));
    const env = { ...world.env, CODELOOP_STATUS_WAIT_MS: '1500' };
    expect(runCli(['status', root], { stateHome: world.state, env }).stdout).toMatch(/^daemon {4}not running/);

    // A stand-in for a daemon stuck in a long request: this (live) process holds the lock, its socket accepts
    // connections (the kernel does, while JavaScript is busy) and answers nothing.
    fs.mkdirSync(world.runtime, { recursive: true, mode: 0o700 });
    fs.writeFileSync(`${world.runtime}/daemon.lock`, String(process.pid));
    const silent = net.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(world.socket, resolve));
    cleanups.push(() => silent.close());
    const printed = runCli(['status', root], { stateHome: world.state, env }).stdout;
    expect(printed).toMatch(new RegExp(`^daemon {4}busy \\(not answering for 1.5 s\\): pid ${process.pid} is alive; what it is doing is logged in .*daemon\\.log$`, 'm'));
    expect(printed).toMatch(/^files {5}\d+/m);
  });
});
