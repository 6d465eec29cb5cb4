import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeModel } from '../fake-model/fake-model-server.js';
import { makeStateHome, makeTree, removeTree } from '../helpers/fixture-tree.js';
import { CLI_PATH, runCli } from '../helpers/run-cli.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const NVIM_DRIVER = path.join(HERE, 'shared-daemon-nvim-start.lua');
const EMACS_DRIVER = path.join(HERE, 'shared-daemon-emacs-apply.el');
const hasBoth = spawnSync('nvim', ['--version'], { stdio: 'ignore' }).status === 0
  && spawnSync('emacs', ['--batch', '--eval', '(progn (package-initialize) (require (quote eglot)))'], { stdio: 'ignore' }).status === 0;
if (!hasBoth && process.env.CI) throw new Error('Neovim and Emacs with eglot are required for the end-to-end tests in CI');

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function run(command: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => { output += chunk; });
    child.stderr.on('data', (chunk) => { output += chunk; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 45_000);
    child.on('close', () => {
      clearTimeout(timer);
      resolve(output);
    });
  });
}

describe.skipIf(!hasBoth)('Neovim and Emacs on one daemon', () => {
  it('Neovim starts a task; Emacs sees the same session and applies its proposal', async () => {
    const root = fs.realpathSync(makeTree({
      'package.json': JSON.stringify({ name: 'calc', scripts: { test: 'node test.js' } }),
      'src/math.js': 'exports.add = (a, b) => a - b;\n',
      'test.js': "const { add } = require('./src/math');\nif (add(2, 3) !== 5) process.exit(1);\n",
    }, { git: true }));
    const state = makeStateHome();
    const fake = await startFakeModel([
      { kind: 'text', content: '1. Fix add' },
      { kind: 'tools', calls: [{ name: 'propose_edit', arguments: { path: 'src/math.js', blocks: [{ search: 'a - b', replace: 'a + b' }] } }] },
      { kind: 'tools', calls: [{ name: 'done', arguments: { summary: 'add adds' } }] },
    ]);
    const env = {
      ...process.env, HOME: state, XDG_STATE_HOME: state, XDG_CONFIG_HOME: path.join(state, 'config'), CODELOOP_RUNTIME_DIR: path.join(state, 'runtime'),
      OPENAI_API_KEY: 'sk-e2e', E2E_FILE: path.join(root, 'src/math.js'), E2E_NODE: process.execPath, E2E_CLI: CLI_PATH,
    };
    cleanups.push(() => removeTree(root, state), () => fake.close(), () => runCli(['daemon', 'stop'], { stateHome: state, env }));
    fs.mkdirSync(path.join(state, 'config', 'codeloop'), { recursive: true });
    fs.writeFileSync(path.join(state, 'config', 'codeloop', 'config.json'), JSON.stringify({
      model: { baseURL: fake.baseURL, model: 'fake', maxRetries: 0 }, agent: { autoApprovePlan: true },
    }));

    const nvimOut = path.join(state, 'nvim.json');
    const nvimOutput = await run('nvim', ['--headless', '--clean', '-c', `luafile ${NVIM_DRIVER}`], { ...env, E2E_OUT: nvimOut, E2E_PLUGIN: path.resolve(HERE, '../../clients/neovim') }, root);
    const started = JSON.parse(fs.readFileSync(nvimOut, 'utf8'));
    expect(started.status, `${started.error}\n${nvimOutput}`).toBe('ok');
    expect(fs.readFileSync(path.join(root, 'src/math.js'), 'utf8')).toBe('exports.add = (a, b) => a - b;\n');

    const emacsOut = path.join(state, 'emacs.json');
    const emacsOutput = await run('emacs', ['--batch', '-l', EMACS_DRIVER], { ...env, E2E_OUT: emacsOut, E2E_PLUGIN: path.resolve(HERE, '../../clients/emacs') }, root);
    const applied = JSON.parse(fs.readFileSync(emacsOut, 'utf8'));
    expect(applied, emacsOutput).toMatchObject({ status: 'ok', session: started.session, applied: true });
    expect(fs.readFileSync(path.join(root, 'src/math.js'), 'utf8')).toBe('exports.add = (a, b) => a + b;\n');
    const status = JSON.parse(runCli(['status', '--json', root], { stateHome: state, env }).stdout);
    expect(status.daemon.sessions).toEqual([expect.objectContaining({ sessionId: started.session, state: 'applied' })]);
  });
});
