import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { daemonWorld } from '../helpers/daemon-world.js';
import { makeTree, removeTree } from '../helpers/fixture-tree.js';
import { startLspClient, waitUntilIndexed } from '../helpers/lsp-client.js';
import { CLI_PATH, runCli } from '../helpers/run-cli.js';

/**
 * A busy daemon is told apart from a dead one wherever the user looks: `codeloop status`, `codeloop search` and
 * `index`, and the editor through `codeloop lsp`. A live process holding the daemon lock whose socket takes the
 * connection but never answers is busy, never "not running".
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

    // The commands the daemon answers wait for it, and say after a while that it is busy, not dead.
    for (const args of [['search', 'anything', root], ['index', root]]) {
      const command = spawn(process.execPath, [CLI_PATH, ...args], { env: { ...env, CODELOOP_BUSY_NOTICE_MS: '1000' }, stdio: ['ignore', 'pipe', 'pipe'] });
      cleanups.push(() => command.kill('SIGKILL'));
      let stderr = '';
      command.stderr.on('data', (chunk) => {
        stderr += chunk;
      });
      await expect.poll(() => stderr, { timeout: 30_000 }).toMatch(new RegExp(`^codeloop: the daemon \\(pid ${process.pid}\\) is busy: the (search|indexing) has had no answer for \\d+ s\\. It is still running; what it is doing is logged in .*daemon\\.log \\(\`codeloop status\` says the same\\)\\. Still waiting\\.\n$`));
      expect(command.exitCode).toBeNull();
    }
  });

  it('tells the editor, in its message area, that the daemon is busy but running, that it answers again, and when it has stopped', { timeout: 120_000 }, async () => {
    const world = daemonWorld();
    const root = makeTree({ 'src/a.ts': 'export function busyProbe() { return 1; }\n' });
    // The editor runs `codeloop lsp`, as Neovim, Emacs and Helix do; a request unanswered for 2 s is "busy".
    const editor = startLspClient([], { ...world.env, CODELOOP_BUSY_NOTICE_MS: '2000' });
    cleanups.push(() => {
      runCli(['daemon', 'stop'], { stateHome: world.state, env: world.env });
      removeTree(root, world.state);
    });
    await editor.initialize(root, 'busy');
    await waitUntilIndexed(editor.connection);
    const { pid } = await editor.connection.sendRequest<{ pid: number }>('codeloop/status', {});
    const messages = () => editor.notifications.filter((n) => n.method === 'window/showMessage').map((n) => (n.params as { message: string }).message);

    // A daemon stuck in long work: alive, its socket open, answering nothing (stopped by a signal here).
    process.kill(pid, 'SIGSTOP');
    let answered = false;
    const symbols = editor.connection.sendRequest<any[]>('workspace/symbol', { query: 'busyProbe' }).then((found) => {
      answered = true;
      return found;
    });
    const busy = await editor.waitForNotification('window/showMessage', (p) => p.message.includes('is busy'), 30_000);
    expect(busy.type).toBe(2);
    expect(busy.message).toMatch(new RegExp(`^codeloop: the daemon \\(pid ${pid}\\) is busy: workspace/symbol has had no answer for \\d+ s\\. It is still running; what it is doing is logged in .*daemon\\.log`));
    expect(answered).toBe(false);
    process.kill(pid, 'SIGCONT');
    expect((await symbols)[0].name).toBe('busyProbe');
    expect((await editor.waitForNotification('window/showMessage', (p) => p.message.includes('answers again'), 30_000)).type).toBe(3);
    expect(messages().filter((m) => m.includes('is busy'))).toHaveLength(1);

    // A dead daemon is said to be dead, never busy.
    process.kill(pid, 'SIGKILL');
    const stopped = await editor.waitForNotification('window/showMessage', (p) => p.message.includes('stopped'), 30_000);
    expect(stopped).toEqual({ type: 1, message: expect.stringMatching(/^codeloop: the daemon stopped \(it is not running any more\); see .*daemon\.log\. Restart the language server to start a new one\.$/) });
    await editor.close();
  });
});
