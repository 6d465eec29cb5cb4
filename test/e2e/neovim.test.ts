import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeModel, type FakeStep } from '../fake-model/fake-model-server.js';
import { makeStateHome, makeTree, removeTree } from '../helpers/fixture-tree.js';
import { CLI_PATH } from '../helpers/run-cli.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const STOCK_DRIVER = path.join(HERE, 'neovim-stock-driver.lua');
const PLUGIN_DRIVER = path.join(HERE, 'neovim-plugin-driver.lua');
const PLUGIN = path.resolve(HERE, '../../clients/neovim');
/** The system Neovim (Debian 12: 0.7.2) and the current one (0.10, from test/e2e/install-current-editors.sh). */
const EDITORS_DIR = process.env.CODELOOP_EDITORS_DIR ?? path.resolve(HERE, '../../.editors');
const NEOVIMS = [
  { name: 'system', command: 'nvim' },
  { name: 'current', command: path.join(EDITORS_DIR, 'bin', 'nvim-current') },
].map((nvim) => ({ ...nvim, version: spawnSync(nvim.command, ['--version'], { encoding: 'utf8' }).stdout?.split('\n')[0] ?? '' }));
for (const nvim of NEOVIMS) {
  if (!nvim.version && process.env.CI) {
    throw new Error(`Neovim (${nvim.command}) is required for the end-to-end tests in CI: apt-get install neovim; bash test/e2e/install-current-editors.sh .editors`);
  }
}

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A project with a failing test and a `codeloop:` comment; Neovim runs `driver`; returns its JSON result. */
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

async function runNeovim(nvimCommand: string, driver: string, steps: FakeStep[]): Promise<{ root: string; result: any; output: string }> {
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
  const out = path.join(state, 'nvim-result.json');
  const nvim = spawn(nvimCommand, ['--headless', '--clean', '-c', `luafile ${driver}`], {
    cwd: root,
    env: {
      ...process.env, XDG_STATE_HOME: state, XDG_CONFIG_HOME: path.join(state, 'config'), OPENAI_API_KEY: 'sk-e2e',
      E2E_ROOT: fs.realpathSync(root), E2E_FILE: path.join(fs.realpathSync(root), 'src/math.js'), E2E_NODE: process.execPath,
      E2E_CLI: CLI_PATH, E2E_OUT: out, E2E_PLUGIN: PLUGIN,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  nvim.stdout.on('data', (chunk) => { output += chunk; });
  nvim.stderr.on('data', (chunk) => { output += chunk; });
  const timer = setTimeout(() => nvim.kill('SIGKILL'), 45_000);
  const code = await new Promise((resolve) => nvim.on('close', resolve));
  clearTimeout(timer);
  if (!fs.existsSync(out)) throw new Error(`nvim exited ${code} without a result:\n${output}`);
  return { root, result: JSON.parse(fs.readFileSync(out, 'utf8')), output };
}

function expectFixed(root: string, body = 'a + b'): void {
  expect(fs.readFileSync(path.join(root, 'src/math.js'), 'utf8')).toBe(`exports.add = (a, b) => ${body};\n`);
  expect(spawnSync('node', ['test.js'], { cwd: root }).status).toBe(0);
}

for (const nvim of NEOVIMS) {
  describe.skipIf(!nvim.version)(`Neovim (${nvim.name}: ${nvim.version})`, () => {
    it('stock LSP client: code action → proposal → apply through Neovim\'s own machinery → saved file passes its test', async () => {
      const { root, result, output } = await runNeovim(nvim.command, STOCK_DRIVER, FIRST_FIX);
      expect(result, output).toMatchObject({ status: 'ok', task: 'codeloop: Run task in comment (make add add)', applied: { applied: true, conflicts: [] } });
      expect(result.apply).toMatch(/^codeloop: Apply proposal "make add add" \(\+1 −2 in 1 files\)/);
      expectFixed(root);
    });

    it('the plugin: :Codeloop task → reject with feedback → revised proposal → :CodeloopReview → A → saved file passes', async () => {
      const { root, result, output } = await runNeovim(nvim.command, PLUGIN_DRIVER, [...FIRST_FIX, ...REVISION]);
      expect(result.status, `${result.error}\n${output}`).toBe('ok');
      expect(result.status_line).toMatch(/^codeloop \w+:awaitingApproval$/);
      expect(result.review).toContain('+exports.add = (a, b) => b + a;');
      expectFixed(root, 'b + a');
    });
  });
}
