import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeModel, type FakeStep } from '../fake-model/fake-model-server.js';
import { makeStateHome, makeTree, removeTree } from '../helpers/fixture-tree.js';
import { CLI_PATH } from '../helpers/run-cli.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const STOCK_DRIVER = path.join(HERE, 'emacs-eglot-driver.el');
const CLIENT_DRIVER = path.join(HERE, 'emacs-client-driver.el');
const PLUGIN = path.resolve(HERE, '../../clients/emacs');
const hasEmacs = spawnSync('emacs', ['--batch', '--eval', '(progn (package-initialize) (require (quote eglot)))'], { stdio: 'ignore' }).status === 0;
if (!hasEmacs && process.env.CI) throw new Error('Emacs 29+ (eglot built in) is required for the end-to-end tests in CI: apt-get install -t bookworm-backports emacs-nox');

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A project with a failing test and a `codeloop:` comment; Emacs loads `driver`; returns its JSON result. */
const FIRST_FIX: FakeStep[] = [
  { kind: 'text', content: '1. Fix add' },
  { kind: 'tools', calls: [{ name: 'propose_edit', arguments: { path: 'src/math.js', blocks: [{ search: '// codeloop: make add add\nexports.add = (a, b) => a - b;', replace: 'exports.add = (a, b) => a + b;' }] } }] },
  { kind: 'tools', calls: [{ name: 'done', arguments: { summary: 'add adds' } }] },
];
/** After the user rejects with "write it as b + a". */
const REVISION: FakeStep[] = [
  { kind: 'tools', calls: [{ name: 'propose_edit', arguments: { path: 'src/math.js', blocks: [{ search: 'a + b', replace: 'b + a' }] } }] },
  { kind: 'tools', calls: [{ name: 'done', arguments: { summary: 'b + a as asked' } }] },
];

async function runEmacs(driver: string, steps: FakeStep[]): Promise<{ root: string; result: any; output: string }> {
  const root = makeTree({
    'package.json': JSON.stringify({ name: 'calc', scripts: { test: 'node test.js' } }),
    'src/math.js': '// codeloop: make add add\nexports.add = (a, b) => a - b;\n',
    'test.js': "const { add } = require('./src/math');\nif (add(2, 3) !== 5) { console.error('expected 5, got ' + add(2, 3)); process.exit(1); }\n",
  }, { git: true });
  const state = makeStateHome();
  const fake = await startFakeModel(steps);
  cleanups.push(() => removeTree(root, state), () => fake.close());
  fs.mkdirSync(path.join(state, 'config', 'codeloop'), { recursive: true });
  fs.writeFileSync(path.join(state, 'config', 'codeloop', 'config.json'), JSON.stringify({
    model: { baseURL: fake.baseURL, model: 'fake', maxRetries: 0 }, agent: { autoApprovePlan: true },
  }));
  const out = path.join(state, 'emacs-result.json');
  const emacs = spawn('emacs', ['--batch', '-l', driver], {
    cwd: root,
    env: {
      ...process.env, HOME: state, XDG_STATE_HOME: state, XDG_CONFIG_HOME: path.join(state, 'config'), OPENAI_API_KEY: 'sk-e2e',
      E2E_FILE: path.join(fs.realpathSync(root), 'src/math.js'), E2E_NODE: process.execPath, E2E_CLI: CLI_PATH, E2E_OUT: out, E2E_PLUGIN: PLUGIN,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  emacs.stdout.on('data', (chunk) => { output += chunk; });
  emacs.stderr.on('data', (chunk) => { output += chunk; });
  const timer = setTimeout(() => emacs.kill('SIGKILL'), 45_000);
  const code = await new Promise((resolve) => emacs.on('close', resolve));
  clearTimeout(timer);
  if (!fs.existsSync(out)) throw new Error(`emacs exited ${code} without a result:\n${output}`);
  return { root, result: JSON.parse(fs.readFileSync(out, 'utf8')), output };
}

function expectFixed(root: string, body = 'a + b'): void {
  expect(fs.readFileSync(path.join(root, 'src/math.js'), 'utf8')).toBe(`exports.add = (a, b) => ${body};\n`);
  expect(spawnSync('node', ['test.js'], { cwd: root }).status).toBe(0);
}

describe.skipIf(!hasEmacs)('Emacs', () => {
  it('stock eglot: code action → proposal → apply through eglot → saved file passes its test', async () => {
    const { root, result, output } = await runEmacs(STOCK_DRIVER, FIRST_FIX);
    expect(result, output).toMatchObject({ status: 'ok', task: 'codeloop: Run task in comment (make add add)', applied: true });
    expectFixed(root);
  });

  it('codeloop.el: codeloop-task → reject with feedback → revised proposal → codeloop-review → apply all → saved file passes', async () => {
    const { root, result, output } = await runEmacs(CLIENT_DRIVER, [...FIRST_FIX, ...REVISION]);
    expect(result.status, `${result.error}\n${output}`).toBe('ok');
    expect(result.modeline).toMatch(/^ codeloop\[\w+:awaitingApproval\]$/);
    expect(result.review).toContain('+exports.add = (a, b) => b + a;');
    expectFixed(root, 'b + a');
  });

  it('codeloop.el byte-compiles without warnings', () => {
    const dir = fs.mkdtempSync(path.join(makeStateHome(), 'elc-'));
    fs.copyFileSync(path.join(PLUGIN, 'codeloop.el'), path.join(dir, 'codeloop.el'));
    const result = spawnSync('emacs', ['--batch', '--eval', '(progn (package-initialize) (setq byte-compile-error-on-warn t))',
      '-f', 'batch-byte-compile', path.join(dir, 'codeloop.el')], { encoding: 'utf8' });
    expect(result.status, result.stderr).toBe(0);
    expect(fs.existsSync(path.join(dir, 'codeloop.elc'))).toBe(true);
  });
});
