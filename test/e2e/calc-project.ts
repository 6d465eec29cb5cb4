import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startFakeModel, type FakeModel, type FakeStep } from '../fake-model/fake-model-server.js';
import { makeStateHome, makeTree, removeTree } from '../helpers/fixture-tree.js';
import { CLI_PATH } from '../helpers/run-cli.js';

/** What the editors' end-to-end tests share: a tiny project whose test fails until add() adds. */
export const BROKEN_MATH = '// codeloop: make add add\nexports.add = (a, b) => a - b;\n';

/** The scripted model's first fix: remove the comment, make add add. */
export const FIRST_FIX: FakeStep[] = [
  { kind: 'text', content: '1. Fix add' },
  { kind: 'tools', calls: [{ name: 'propose_edit', arguments: { path: 'src/math.js', blocks: [{ search: BROKEN_MATH.trimEnd(), replace: 'exports.add = (a, b) => a + b;' }] } }] },
  { kind: 'tools', calls: [{ name: 'done', arguments: { summary: 'add adds' } }] },
];

/** The first fix with a 2-second command first: a session at work long enough to be steered and paused. */
export const PAUSABLE_FIX: FakeStep[] = [
  FIRST_FIX[0],
  { kind: 'tools', calls: [{ name: 'run_command', arguments: { command: 'sleep 2' } }] },
  ...FIRST_FIX.slice(1),
];

/** The first fix plus a new file (created through the editor's own edit machinery). */
export const NEW_FILE = 'exports.double = (x) => 2 * x;\n';
export const FIX_WITH_NEW_FILE: FakeStep[] = [
  ...FIRST_FIX.slice(0, 2),
  { kind: 'tools', calls: [{ name: 'propose_edit', arguments: { path: 'src/double.js', content: NEW_FILE } }] },
  FIRST_FIX[2],
];

/** An explanation session: a plan, then done with the answer. */
export const EXPLAIN: FakeStep[] = [
  { kind: 'text', content: '1. Read add' },
  { kind: 'tools', calls: [{ name: 'done', arguments: { summary: 'add adds its two arguments.' } }] },
];

/** Its revision after the user rejects with "write it as b + a". */
export const REVISION: FakeStep[] = [
  { kind: 'tools', calls: [{ name: 'propose_edit', arguments: { path: 'src/math.js', blocks: [{ search: 'a + b', replace: 'b + a' }] } }] },
  { kind: 'tools', calls: [{ name: 'done', arguments: { summary: 'b + a as asked' } }] },
];

export interface CalcProject {
  root: string;
  state: string;
  fake: FakeModel;
  /** Environment for anything that runs codeloop for this project (private state, config, runtime dir, key). */
  env: NodeJS.ProcessEnv;
}

/** Creates the project, a private codeloop state and config, and the scripted model; registers their cleanup. */
export async function calcProject(steps: FakeStep[], cleanups: (() => unknown)[], agent: Record<string, unknown> = {}): Promise<CalcProject> {
  const root = fs.realpathSync(makeTree({
    'package.json': JSON.stringify({ name: 'calc', scripts: { test: 'node test.js' } }),
    'src/math.js': BROKEN_MATH,
    'test.js': "const { add } = require('./src/math');\nif (add(2, 3) !== 5) { console.error('expected 5, got ' + add(2, 3)); process.exit(1); }\n",
  }, { git: true }));
  const state = makeStateHome();
  const fake = await startFakeModel(steps);
  cleanups.push(() => removeTree(root, state), () => fake.close());
  fs.mkdirSync(path.join(state, 'config', 'codeloop'), { recursive: true });
  fs.writeFileSync(path.join(state, 'config', 'codeloop', 'config.json'), JSON.stringify({
    model: { baseURL: fake.baseURL, model: 'fake', maxRetries: 0 }, agent: { autoApprovePlan: true, ...agent },
  }));
  const env = {
    ...process.env, HOME: state, XDG_STATE_HOME: state, XDG_CONFIG_HOME: path.join(state, 'config'),
    CODELOOP_RUNTIME_DIR: path.join(state, 'runtime'), OPENAI_API_KEY: 'sk-e2e',
    E2E_ROOT: root, E2E_FILE: path.join(root, 'src/math.js'), E2E_NODE: process.execPath, E2E_CLI: CLI_PATH,
  };
  return { root, state, fake, env };
}

/** Runs an editor that writes its outcome as JSON to E2E_OUT; returns that outcome and everything it printed. */
export async function runEditor(command: string, args: string[], project: CalcProject, extraEnv: NodeJS.ProcessEnv = {}): Promise<{ result: any; output: string }> {
  const out = path.join(project.state, `editor-${Date.now()}.json`);
  const child = spawn(command, args, { cwd: project.root, env: { ...project.env, ...extraEnv, E2E_OUT: out }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk) => { output += chunk; });
  child.stderr.on('data', (chunk) => { output += chunk; });
  // Generous: the editors' own waits (tens of seconds each) must run out first, and say what they waited for.
  const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
  const code = await new Promise((resolve) => child.on('close', resolve));
  clearTimeout(timer);
  if (!fs.existsSync(out)) throw new Error(`${command} exited ${code} without a result:\n${output}`);
  return { result: JSON.parse(fs.readFileSync(out, 'utf8')), output };
}

export function mathFile(project: CalcProject): string {
  return fs.readFileSync(path.join(project.root, 'src/math.js'), 'utf8');
}

/** Whether Emacs with eglot can run here (29+ has it built in). */
export function hasEmacsWithEglot(): boolean {
  return spawnSync('emacs', ['--batch', '--eval', '(progn (package-initialize) (require (quote eglot)))'], { stdio: 'ignore' }).status === 0;
}

/** The first line of `COMMAND --version` ('' when it cannot run). */
export function versionOf(command: string): string {
  return spawnSync(command, ['--version'], { encoding: 'utf8' }).stdout?.split('\n')[0] ?? '';
}

/**
 * A `codeloop` command on PATH, as an installed one would be: the returned folder goes first in PATH. Its daemon
 * (started by `codeloop lsp`) is stopped at cleanup.
 */
export function codeloopOnPath(project: CalcProject, cleanups: (() => unknown)[]): string {
  const bin = path.join(project.state, 'bin');
  fs.mkdirSync(bin, { recursive: true });
  fs.writeFileSync(path.join(bin, 'codeloop'), `#!/bin/sh\nexec '${process.execPath}' '${CLI_PATH}' "$@"\n`, { mode: 0o755 });
  cleanups.push(() => spawnSync(path.join(bin, 'codeloop'), ['daemon', 'stop'], { env: project.env, stdio: 'ignore', timeout: 20_000 }));
  return bin;
}

/** The fenced block that follows `<!-- snippet: NAME -->` in README.md, verbatim. */
export function readmeSnippet(name: string): string {
  const readme = fs.readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const match = new RegExp(`<!-- snippet: ${name} -->\\n\`\`\`\\w*\\n([\\s\\S]*?)\`\`\`\\n`).exec(readme);
  if (!match) throw new Error(`README.md has no snippet ${name}`);
  return match[1];
}
