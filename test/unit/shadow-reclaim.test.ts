import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AgentService } from '../../server/agent/agent-service.js';
import { SessionStore } from '../../server/agent/session-store.js';
import { runCommand } from '../../server/sandbox/command-runner.js';
import { chooseShadowStrategy } from '../../server/sandbox/shadow-strategy.js';
import { ShadowWorkspace } from '../../server/sandbox/shadow-workspace.js';
import { makeTree, removeTree } from '../helpers/fixture-tree.js';

const cleanups: (() => unknown)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

describe('shadows left by a crash', () => {
  it('are removed at the next start, overlay work folders and unreadable leftovers included; a live process\'s probe is kept', async () => {
    const root = makeTree({ 'a.txt': 'a\n' });
    const state = fs.mkdtempSync(path.join(os.tmpdir(), 'codeloop-reclaim-'));
    cleanups.push(() => removeTree(root, state));
    const shadows = path.join(state, 'shadows');
    // A session of a process that died mid-command: layers in use, a folder its test locked.
    const orphan = new ShadowWorkspace(root, path.join(shadows, 'dead-session'), new Map(), chooseShadowStrategy('auto', shadows, root), { home: os.homedir(), hiddenHomePaths: [] });
    await orphan.ready;
    orphan.write('a.txt', null);
    await runCommand('mkdir -p locked/deep && echo x > locked/deep/f && chmod 000 locked/deep locked', orphan.sandbox(), orphan.commandEnvironment());
    const deadPid = spawnSync('true').pid!;
    fs.mkdirSync(path.join(shadows, `.probe-${deadPid}`, 'work', 'work'), { recursive: true });
    fs.chmodSync(path.join(shadows, `.probe-${deadPid}`, 'work', 'work'), 0);
    const liveProbe = path.join(shadows, `.probe-${process.ppid}`);
    fs.mkdirSync(liveProbe);

    const store = new SessionStore(path.join(state, 'sessions.db'));
    cleanups.push(() => store.close());
    new AgentService(store, shadows, () => undefined).recoverAfterRestart();
    expect(fs.readdirSync(shadows)).toEqual([path.basename(liveProbe)]);
  });
});
