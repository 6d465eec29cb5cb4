import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI_PATH } from '../helpers/run-cli.js';
import { BROKEN_MATH, calcProject, FIRST_FIX } from './calc-project.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const HX = path.join(process.env.CODELOOP_EDITORS_DIR ?? path.resolve(HERE, '../../.editors'), 'bin', 'hx');
const hxVersion = spawnSync(HX, ['--version'], { encoding: 'utf8' }).stdout?.trim() ?? '';
const hasTmux = spawnSync('tmux', ['-V'], { stdio: 'ignore' }).status === 0;
if ((!hxVersion || !hasTmux) && process.env.CI) {
  throw new Error('Helix and tmux are required for the end-to-end tests in CI: apt-get install tmux; bash test/e2e/install-current-editors.sh .editors');
}

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const tmux = (...args: string[]) => execFileSync('tmux', args, { encoding: 'utf8' });

// A terminal UI driven by keystrokes under a loaded machine: a rare timing miss is retried rather than failing the run.
describe.skipIf(!hxVersion || !hasTmux)(`Helix (${hxVersion}) in tmux, stock LSP`, { retry: 2 }, () => {
  /** Helix in tmux on a project with a failing test and a `codeloop:` comment, with helpers to drive it. */
  async function helix() {
    const project = await calcProject(FIRST_FIX, cleanups);
    const { root, state, env } = project;
    const session = `codeloop-e2e-${process.pid}-${Date.now()}`;
    cleanups.push(() => spawnSync('tmux', ['kill-session', '-t', session]));
    const config = path.join(state, 'config');
    fs.mkdirSync(path.join(config, 'helix'), { recursive: true });
    // The server command Helix runs: codeloop with this test's private state.
    const server = path.join(state, 'codeloop-server.sh');
    fs.writeFileSync(server, `#!/bin/sh\nexport XDG_STATE_HOME='${env.XDG_STATE_HOME}' XDG_CONFIG_HOME='${config}' OPENAI_API_KEY=sk-e2e\nexec '${process.execPath}' '${CLI_PATH}' lsp --standalone\n`, { mode: 0o755 });
    fs.writeFileSync(path.join(config, 'helix', 'languages.toml'),
      `[language-server.codeloop]\ncommand = "${server}"\n\n[[language]]\nname = "javascript"\nlanguage-servers = ["codeloop"]\n`);

    tmux('new-session', '-d', '-s', session, '-x', '160', '-y', '40', '-c', root, '-e', `XDG_CONFIG_HOME=${config}`, '-e', `HOME=${state}`, `${HX} src/math.js`);
    tmux('set-option', '-s', 'escape-time', '0');
    const screen = () => tmux('capture-pane', '-p', '-t', session);
    const until = async (what: string, condition: () => boolean, timeoutMs = 20_000) => {
      const deadline = Date.now() + timeoutMs;
      while (!condition()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; screen:\n${screen()}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    const keys = (...k: string[]) => tmux('send-keys', '-t', session, ...k);
    // Escape and then Space must not merge into Alt-Space.
    const openCodeActions = () => {
      keys('Escape');
      spawnSync('sleep', ['0.3']);
      keys('Space');
      keys('a');
      spawnSync('sleep', ['0.5']);
    };
    /** Opens Space a until `title` is offered, moves down to it in the menu as shown, and picks it. */
    const pickAction = async (title: string) => {
      let menu: string[] = [];
      await until(`the code action ${title}`, () => {
        openCodeActions();
        menu = screen().split('\n').filter((line) => /codeloop: [A-Z]/.test(line) && !line.includes('//'));
        return menu.some((line) => line.includes(title));
      });
      for (let i = 0; i < menu.findIndex((line) => line.includes(title)); i++) keys('Down');
      keys('Enter');
      return menu;
    };
    await until('Helix to start', () => screen().includes('math.js'));
    await pickAction('codeloop: Run task in comment');
    await until('the proposal', () => screen().includes('proposal ready'));
    return { root, state, screen, until, keys, pickAction };
  }

  it('Space a → Run task in comment → proposal → Space a → Apply proposal → :w → the test passes', async () => {
    const { root, screen, until, keys, pickAction } = await helix();
    const menu = await pickAction('codeloop: Apply proposal');
    await until(`the edit in the buffer (menu was:\n${menu.join('\n')})`, () => screen().includes('exports.add = (a, b) => a + b;'));
    keys(':w', 'Enter');
    await until('the save', () => fs.readFileSync(path.join(root, 'src/math.js'), 'utf8') === 'exports.add = (a, b) => a + b;\n');
    expect(spawnSync('node', ['test.js'], { cwd: root }).status).toBe(0);
    keys(':q!', 'Enter');
  });

  it('Space a → Reject proposal leaves the file alone and the session rejected', async () => {
    const { root, state, until, keys, pickAction } = await helix();
    await pickAction('codeloop: Reject proposal');
    // Standalone server, no daemon to ask: the session store says what happened.
    const store = new Database(path.join(state, 'codeloop', 'sessions.db'), { readonly: true });
    cleanups.push(() => store.close());
    await until('the rejection', () => store.prepare('SELECT state FROM sessions').pluck().get() === 'rejected');
    expect(fs.readFileSync(path.join(root, 'src/math.js'), 'utf8')).toBe(BROKEN_MATH);
    keys(':q!', 'Enter');
  });
});
