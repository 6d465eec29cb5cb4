import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { editorOnDaemon } from '../helpers/daemon-world.js';

/** Another local user must not reach the daemon: tried for real with a second account (needs root, as in CI). */
const OTHER_USER = 'codeloop-other';
const isRoot = process.getuid?.() === 0;
if (isRoot && spawnSync('id', ['-u', OTHER_USER]).status !== 0) {
  spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', OTHER_USER]);
}
const canSwitchUser = isRoot && spawnSync('id', ['-u', OTHER_USER]).status === 0 && spawnSync('runuser', ['--help'], { stdio: 'ignore' }).status === 0;

let world: Awaited<ReturnType<typeof editorOnDaemon>>;
beforeAll(async () => {
  world = await editorOnDaemon({ 'a.ts': 'export const a = 1;\n' }, 'owner');
  fs.chmodSync(world.state, 0o755); // the other user can reach the runtime folder; only its own 0700 mode keeps them out
});
afterAll(() => world.close());

describe.skipIf(!canSwitchUser)('local security', () => {
  it('a connection from another user is refused by the private runtime folder', () => {
    const { socket } = world;
    expect(fs.statSync(path.dirname(socket)).mode & 0o777).toBe(0o700);
    expect(fs.statSync(socket).mode & 0o777).toBe(0o600);
    const attempt = spawnSync('runuser', ['-u', OTHER_USER, '--', process.execPath, '-e',
      `require('net').connect(${JSON.stringify(socket)}).on('connect', () => { console.log('CONNECTED'); process.exit(0); }).on('error', (e) => { console.log(e.code); process.exit(3); })`],
    { encoding: 'utf8' });
    expect(attempt.stdout.trim()).toBe('EACCES');
    expect(attempt.status).toBe(3);
  });
});
