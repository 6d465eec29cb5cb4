import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeStateHome, makeTree, removeTree } from '../helpers/fixture-tree.js';
import { startLspClient, type TestLspClient } from '../helpers/lsp-client.js';
import { runCli } from '../helpers/run-cli.js';

/** Another local user must not reach the daemon: tried for real with a second account (needs root, as in CI). */
const OTHER_USER = 'codeloop-other';
const isRoot = process.getuid?.() === 0;
if (isRoot && spawnSync('id', ['-u', OTHER_USER]).status !== 0) {
  spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', OTHER_USER]);
}
const canSwitchUser = isRoot && spawnSync('id', ['-u', OTHER_USER]).status === 0 && spawnSync('runuser', ['--help'], { stdio: 'ignore' }).status === 0;

let root: string;
let state: string;
let env: NodeJS.ProcessEnv;
let editor: TestLspClient;

beforeAll(async () => {
  root = makeTree({ 'a.ts': 'export const a = 1;\n' }, { git: true });
  state = makeStateHome();
  fs.chmodSync(state, 0o755); // the other user can reach the runtime folder; only its own 0700 mode keeps them out
  env = { ...process.env, XDG_STATE_HOME: state, XDG_CONFIG_HOME: path.join(state, 'config'), CODELOOP_RUNTIME_DIR: path.join(state, 'runtime') };
  editor = startLspClient([], env);
  await editor.initialize(root, 'owner');
});

afterAll(async () => {
  await editor.close();
  runCli(['daemon', 'stop'], { stateHome: state, env });
  removeTree(root, state);
});

describe.skipIf(!canSwitchUser)('local security', () => {
  it('a connection from another user is refused by the private runtime folder', () => {
    const socket = path.join(state, 'runtime', 'daemon.sock');
    expect(fs.statSync(path.dirname(socket)).mode & 0o777).toBe(0o700);
    expect(fs.statSync(socket).mode & 0o777).toBe(0o600);
    const attempt = spawnSync('runuser', ['-u', OTHER_USER, '--', process.execPath, '-e',
      `require('net').connect(${JSON.stringify(socket)}).on('connect', () => { console.log('CONNECTED'); process.exit(0); }).on('error', (e) => { console.log(e.code); process.exit(3); })`],
    { encoding: 'utf8' });
    expect(attempt.stdout.trim()).toBe('EACCES');
    expect(attempt.status).toBe(3);
  });
});
