import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { probeIsolation, runCommand } from '../../server/sandbox/command-runner.js';
import { chooseShadowStrategy, type ShadowKind } from '../../server/sandbox/shadow-strategy.js';
import { ShadowWorkspace } from '../../server/sandbox/shadow-workspace.js';
import { makeTree, removeTree } from '../helpers/fixture-tree.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const limits = { timeoutMs: 20_000, outputBytes: 4000, fileSizeBytes: 1024 * 1024, processes: 128 };

async function shadowOf(kind: ShadowKind, files: Record<string, string | Buffer>, buffers = new Map<string, string>()) {
  const root = makeTree(files);
  const home = makeTree({ '.local/bin/tool': '#!/bin/sh\necho tool ok\n', '.aws/credentials': 'AWS SECRET' });
  fs.chmodSync(path.join(home, '.local/bin/tool'), 0o755);
  const shadows = fs.mkdtempSync(path.join(os.tmpdir(), 'codeloop-shadows-'));
  const strategy = chooseShadowStrategy(kind, shadows);
  const shadow = new ShadowWorkspace(root, path.join(shadows, 'session'), buffers, strategy, { home, hiddenHomePaths: [] });
  cleanups.push(() => removeTree(root, home, shadows));
  await shadow.ready;
  const run = (command: string, overrides: Partial<typeof limits> = {}) =>
    runCommand(command, shadow.sandbox(), { ...shadow.commandEnvironment(), PATH: `${home}/.local/bin:${process.env.PATH}` }, { ...limits, ...overrides });
  return { root, home, shadows, shadow, run };
}

describe.each(['overlay', 'clone', 'copy'] as const)('shadow workspace (%s)', (kind) => {
  it('keeps the agent\'s writes apart from the commands\' and from the user\'s tree', async () => {
    const { root, shadow, run } = await shadowOf(kind, { 'a.txt': 'user a\n', 'dir/b.txt': 'user b\n', 'c.txt': 'user c\n' }, new Map([['open.txt', 'unsaved buffer\n']]));
    shadow.write('a.txt', 'agent a\n');
    shadow.write('dir/new.txt', 'agent new\n');
    shadow.write('c.txt', null);
    expect(shadow.read('a.txt')).toBe('agent a\n');
    expect(shadow.read('c.txt')).toBeNull();
    expect(shadow.read('open.txt')).toBe('unsaved buffer\n');

    const result = await run('cat a.txt dir/new.txt open.txt; test -e c.txt || echo c gone; echo out > build.txt; echo test-edit > dir/b.txt; rm -f a.txt');
    expect(result.output).toBe('agent a\nagent new\nunsaved buffer\nc gone\n');
    // The agent sees what commands wrote (and deleted), but only its own writes are proposed.
    expect(shadow.read('build.txt')).toBe('out\n');
    expect(shadow.read('dir/b.txt')).toBe('test-edit\n');
    expect(shadow.read('a.txt')).toBe('agent a\n');
    expect(shadow.listFiles('.', 100)).toEqual(['a.txt', 'build.txt', 'dir/b.txt', 'dir/new.txt', 'open.txt']);
    expect(shadow.changes((file) => (fs.existsSync(path.join(root, file)) ? fs.readFileSync(path.join(root, file), 'utf8') : null))).toEqual([
      { path: 'a.txt', before: 'user a\n', after: 'agent a\n', encoding: { name: 'utf8', bom: false } },
      { path: 'c.txt', before: 'user c\n', after: null, encoding: undefined },
      { path: 'dir/new.txt', before: null, after: 'agent new\n', encoding: { name: 'utf8', bom: false } },
    ]);
    // The agent writing again a file a command deleted: commands see the agent's text again.
    shadow.write('a.txt', 'agent a again\n');
    expect((await run('cat a.txt')).output).toBe('agent a again\n');
    // The user's tree was never written.
    expect(fs.readdirSync(root).sort()).toEqual(['a.txt', 'c.txt', 'dir']);
    expect(fs.readFileSync(path.join(root, 'dir/b.txt'), 'utf8')).toBe('user b\n');
  });

  it('refuses paths out of the workspace and into .git, also through a symlink a command made', async () => {
    const { shadow, run } = await shadowOf(kind, { 'a.txt': 'a\n' });
    expect(() => shadow.read('../etc/passwd')).toThrow(/outside the workspace/);
    expect(() => shadow.write('.git/hooks/pre-commit', 'x')).toThrow(/inside \.git/);
    await run(`ln -s ${os.tmpdir()} escape`);
    expect(() => shadow.write('escape/pwned.txt', 'x')).toThrow(/leads outside/);
    expect(fs.existsSync(path.join(os.tmpdir(), 'pwned.txt'))).toBe(false);
  });

  it('keeps the sandbox\'s guarantees: no network, no writes outside, home readable but secrets hidden, time and output limits', async () => {
    const { home, run } = await shadowOf(kind, { 'a.txt': 'a\n' });
    const outside = fs.mkdtempSync(path.join(os.homedir(), '.codeloop-outside-'));
    cleanups.push(() => removeTree(outside));
    const result = await run(`tool; cat ${home}/.aws/credentials; echo x > ${outside}/escaped; echo x > ${home}/written; node -e "require('net').connect(80, '1.1.1.1').on('error', (e) => console.log('net ' + e.code))"`);
    expect(result.output).toContain('tool ok');
    expect(fs.existsSync(path.join(outside, 'escaped'))).toBe(false);
    expect(fs.existsSync(path.join(home, 'written'))).toBe(false);
    if (probeIsolation().filesystem) {
      expect(result.output).not.toContain('AWS SECRET');
      expect(result.output).toMatch(/net E(NETUNREACH|AI_AGAIN)/);
    }
    const slow = await run('sleep 30', { timeoutMs: 500 });
    expect(slow.timedOut).toBe(true);
    const loud = await run('yes | head -c 100000');
    expect(loud.droppedBytes).toBeGreaterThan(90_000);
  });

  it('writes a file back in its own encoding, in every layer commands see', async () => {
    const { shadow, run } = await shadowOf(kind, { 'latin.txt': Buffer.from('caf\xe9\n', 'latin1') });
    expect(shadow.read('latin.txt')).toBe('café\n');
    shadow.write('latin.txt', 'café au lait\n');
    expect((await run('od -An -c latin.txt | tr -s " "')).output.trim()).toBe('c a f 351 a u l a i t \\n');
    expect(shadow.changes(() => 'café\n')).toEqual([{ path: 'latin.txt', before: 'café\n', after: 'café au lait\n', encoding: { name: 'latin1', bom: false } }]);
  });

  it('is reclaimed whole, whatever the commands left (unreadable folders included)', async () => {
    const { shadow, shadows, run } = await shadowOf(kind, { 'a.txt': 'a\n' });
    shadow.write('a.txt', null);
    await run('mkdir -p locked/deep && echo x > locked/deep/f && chmod 000 locked/deep locked');
    await shadow.remove();
    expect(fs.readdirSync(shadows)).toEqual([]);
  });
});

describe('overlay shadow', () => {
  it('starts at once and holds only what changed, and sees the user\'s edits to the tree live', async () => {
    const files = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`pkg/file-${i}.js`, 'x'.repeat(10_000)]));
    const { root, shadow, shadows, run } = await shadowOf('overlay', { ...files, 'live.txt': 'before\n' });
    shadow.write('pkg/file-1.js', 'changed\n');
    fs.writeFileSync(path.join(root, 'live.txt'), 'edited by the user\n');
    expect(shadow.read('live.txt')).toBe('edited by the user\n');
    expect((await run('cat live.txt')).output).toBe('edited by the user\n');
    const du = (dir: string): number => fs.readdirSync(dir, { withFileTypes: true }).reduce((sum, entry) => {
      const full = path.join(dir, entry.name);
      return sum + (entry.isDirectory() ? du(full) : fs.lstatSync(full).size);
    }, 0);
    expect(du(shadows)).toBeLessThan(10_000); // 3 MB of tree, a few bytes of session
  });
});

describe.each(['overlay', 'copy'] as const)('a tree inside the home folder (%s)', (kind) => {
  it('shows the tree with the session\'s changes, hides secret stores and codeloop\'s own state, keeps the home unwritten', async () => {
    const home = makeTree({ 'src/proj/a.txt': 'a\n', '.ssh/id_ed25519': 'SSH KEY', '.local/state/codeloop/sessions.db': 'TRANSCRIPTS' });
    const root = path.join(home, 'src/proj');
    const previous = process.env.XDG_STATE_HOME;
    process.env.XDG_STATE_HOME = path.join(home, '.local/state');
    cleanups.push(() => {
      if (previous === undefined) delete process.env.XDG_STATE_HOME;
      else process.env.XDG_STATE_HOME = previous;
      removeTree(home);
    });
    const shadows = path.join(home, '.local/state/codeloop/shadows');
    const shadow = new ShadowWorkspace(root, path.join(shadows, 'session'), new Map(), chooseShadowStrategy(kind, shadows, root), { home, hiddenHomePaths: [] });
    await shadow.ready;
    shadow.write('b.txt', 'agent b\n');
    const result = await runCommand(`pwd; cat a.txt b.txt; cat ${home}/.ssh/id_ed25519 ${home}/.local/state/codeloop/sessions.db; echo built > out.txt; echo x > ${home}/.tool-cache`,
      shadow.sandbox(), shadow.commandEnvironment(), limits);
    expect(result.output).toContain(`${root}\na\nagent b\n`);
    if (probeIsolation().filesystem) {
      expect(result.output).not.toContain('SSH KEY');
      expect(result.output).not.toContain('TRANSCRIPTS');
    }
    expect(shadow.read('out.txt')).toBe('built\n');
    expect(fs.existsSync(path.join(root, 'out.txt'))).toBe(false);
    expect(fs.existsSync(path.join(home, '.tool-cache'))).toBe(false);
    await shadow.remove();
  });
});
