import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { startLspClient } from '../helpers/lsp-client.js';
import { BROKEN_MATH, calcProject, codeloopOnPath, FIRST_FIX, FIX_WITH_NEW_FILE, PAUSABLE_FIX } from './calc-project.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const HELIX_CLIENT = path.resolve(HERE, '../../clients/helix');
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
  /**
   * Helix in tmux on a project with a failing test and a `codeloop:` comment, configured with the shipped
   * clients/helix/languages.toml and config.toml as they are (codeloop on PATH, as installed), with helpers.
   */
  async function helix(steps = FIRST_FIX, agent: Record<string, unknown> = {}, start = true) {
    const project = await calcProject(steps, cleanups, agent);
    const { root, state, env, fake } = project;
    const bin = codeloopOnPath(project, cleanups);
    let session = '';
    const config = env.XDG_CONFIG_HOME!;
    fs.mkdirSync(path.join(config, 'helix'), { recursive: true });
    for (const file of ['languages.toml', 'config.toml']) fs.copyFileSync(path.join(HELIX_CLIENT, file), path.join(config, 'helix', file));
    const environment = ['XDG_CONFIG_HOME', 'XDG_STATE_HOME', 'CODELOOP_RUNTIME_DIR', 'OPENAI_API_KEY'].flatMap((name) => ['-e', `${name}=${env[name]}`]);
    /** Starts Helix on src/math.js in a new tmux session (again after a quit: the user reopening the file). */
    const launch = () => {
      const name = `codeloop-e2e-${process.pid}-${Date.now()}`;
      cleanups.push(() => spawnSync('tmux', ['kill-session', '-t', name]));
      tmux('new-session', '-d', '-s', name, '-x', '160', '-y', '40', '-c', root, ...environment, '-e', `HOME=${state}`,
        // PATH through env(1): the shell tmux starts the command with resets PATH from -e.
        `env PATH='${bin}:${process.env.PATH}' ${HX} src/math.js`);
      tmux('set-option', '-s', 'escape-time', '0');
      session = name;
    };
    launch();
    const screen = () => tmux('capture-pane', '-p', '-t', session);
    const until = async (what: string, condition: () => boolean, timeoutMs = 30_000) => {
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
    const started = () => until('Helix to start', () => screen().includes('math.js'));
    await started();
    if (start) {
      await pickAction('codeloop: Run task in comment');
      await until('the proposal', () => screen().includes('proposal ready'));
    }
    /** Runs `:COMMAND` in Helix's command line. */
    const command = (line: string) => {
      keys('Escape');
      spawnSync('sleep', ['0.3']);
      keys(`:${line}`);
      spawnSync('sleep', ['0.3']);
      keys('Enter');
    };
    /** Applies the waiting proposal through its code action and saves until the fix is on disk. */
    const applyAndSave = async () => {
      await pickAction('codeloop: Apply proposal');
      await until('the save', () => {
        keys(':wa', 'Enter');
        spawnSync('sleep', ['0.3']);
        return fs.readFileSync(path.join(root, 'src/math.js'), 'utf8') === 'exports.add = (a, b) => a + b;\n';
      }, 30_000);
      expect(spawnSync('node', ['test.js'], { cwd: root }).status).toBe(0);
    };
    /** Quits Helix and opens the file in a new one. */
    const reopen = async () => {
      command('qa!');
      spawnSync('sleep', ['0.5']);
      launch();
      await started();
    };
    return { root, state, env, fake, screen, until, keys, pickAction, openCodeActions, command, applyAndSave, reopen };
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

  it('Space c w → codeloop.startTask runs the comment; the plan opens as a document; Space a there approves it; the verdict shows', async () => {
    const { root, screen, until, keys, pickAction } = await helix(FIRST_FIX, { autoApprovePlan: false }, false);
    const shown: string[] = [];
    // The picker lists the commands of the servers that have started: open it until codeloop's are there.
    await until('the command picker', () => {
      keys('Escape');
      spawnSync('sleep', ['0.3']);
      keys('Space', 'c', 'w');
      spawnSync('sleep', ['0.5']);
      return screen().includes('codeloop.startTask');
    }, 30_000);
    keys('startTask');
    spawnSync('sleep', ['0.3']);
    keys('Enter');
    await until('the plan as a document', () => screen().includes('# Plan: make add add'), 30_000);
    shown.push(screen());
    expect(screen()).toContain('1. Fix add');
    await pickAction('codeloop: Approve plan');
    // What the user sees meanwhile: a spinner in the statusline and (display-progress-messages in the shipped
    // config.toml) what codeloop does, in the message line.
    const seen = new Set<string>();
    await until('the proposal', () => {
      screen().split('\n').slice(-2).forEach((line) => seen.add(line.trim()));
      return screen().includes('proposal ready');
    }, 30_000);
    // Each message shows only until the next: which ones a screen capture catches depends on timing.
    expect([...seen]).toEqual(expect.arrayContaining([expect.stringMatching(/^\[[\w-]+\] (plan approved|editing src\/math\.js|running the tests \(npm test\)|tests passed)$/)]));
    shown.push(screen());
    expect(screen()).toContain('tests passed (npm test)');
    const menu = await pickAction('codeloop: Apply proposal');
    expect(menu.find((line) => line.includes('Apply proposal'))).toContain('(+1 −2 in 1 files; tests passed)');
    // The edit lands in src/math.js's buffer, not the plan on screen, and may arrive after the keys: save until it is there.
    await until('the save', () => {
      keys(':wa', 'Enter');
      spawnSync('sleep', ['0.3']);
      return fs.readFileSync(path.join(root, 'src/math.js'), 'utf8') === 'exports.add = (a, b) => a + b;\n';
    }, 30_000);
    keys(':qa!', 'Enter');
  });

  it(':lsp-workspace-command codeloop.rewindSession steps the proposal back → Space a Resume → Apply → :w → Space a Revert: a conflict is reported, then u and Revert restore the file', async () => {
    const steps = [...FIX_WITH_NEW_FILE.slice(0, 3), FIRST_FIX[2], FIRST_FIX[2]];
    const { root, screen, until, keys, pickAction } = await helix(steps);
    const math = path.join(root, 'src/math.js');
    // Helix sends a workspace command without arguments: codeloop steps the newest waiting session back a turn.
    keys(':lsp-workspace-command codeloop.rewindSession', 'Enter');
    await until('the rewind', () => screen().includes('rewound "make add add" to turn 2 (undoing src/double.js); it waits until you resume it'), 30_000);
    await pickAction('codeloop: Resume session "make add add"');
    await until('the resumed proposal', () => screen().includes('proposal ready'), 30_000);
    const menu = await pickAction('codeloop: Apply proposal');
    expect(menu.find((line) => line.includes('Apply proposal'))).toContain('(+1 −2 in 1 files; tests passed)');
    await until('the save', () => {
      keys(':w', 'Enter');
      spawnSync('sleep', ['0.3']);
      return fs.readFileSync(math, 'utf8') === 'exports.add = (a, b) => a + b;\n';
    }, 30_000);
    expect(fs.existsSync(path.join(root, 'src/double.js'))).toBe(false);

    // The user adds to the changed line (unsaved): the revert names it and leaves the buffer alone.
    // Escape and the next key must not merge into an Alt chord.
    keys('Escape');
    spawnSync('sleep', ['0.3']);
    keys('g', 'g', 'A');
    keys('-l', ' // mine');
    keys('Escape');
    await until('the typed line', () => screen().includes('exports.add = (a, b) => a + b; // mine'));
    await pickAction('codeloop: Revert applied proposal "make add add"');
    await until('the conflict', () => screen().includes("not reverted: src/math.js: the revert's change to line 1 conflicts with your edit, now line 1"), 30_000);
    expect(screen()).toContain('exports.add = (a, b) => a + b; // mine');
    keys('u');
    await until('the undo', () => !screen().includes('// mine'));
    await pickAction('codeloop: Revert applied proposal "make add add"');
    await until('the reverted buffer', () => screen().includes('// codeloop: make add add') && screen().includes('exports.add = (a, b) => a - b;'), 30_000);
    await until('the save', () => {
      keys(':w', 'Enter');
      spawnSync('sleep', ['0.3']);
      return fs.readFileSync(math, 'utf8') === BROKEN_MATH;
    }, 30_000);
    keys(':q!', 'Enter');
  });

  it('Space a → Apply proposal while another editor on the daemon holds src/math.js unsaved: the conflict names it; once it closes the buffer, Apply goes through', async () => {
    const { root, env, screen, until, keys, pickAction } = await helix();
    const other = startLspClient([], env);
    cleanups.push(() => other.close());
    await other.initialize(root, 'Neovim');
    const uri = pathToFileURL(path.join(root, 'src/math.js')).href;
    await other.connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'javascript', version: 1, text: `${BROKEN_MATH}// typed in Neovim\n` } });
    await expect.poll(async () => (await other.connection.sendRequest<{ matches: unknown[] }>('codeloop/search', { query: 'typed in Neovim' })).matches.length, { timeout: 30_000 }).toBe(1);

    await pickAction('codeloop: Apply proposal');
    await until('the conflict', () => screen().includes('not applied: src/math.js: Neovim (another editor) has unsaved changes to this file'), 30_000);
    expect(screen()).toContain('exports.add = (a, b) => a - b;');

    await other.connection.sendNotification('textDocument/didClose', { textDocument: { uri } });
    await expect.poll(async () => (await other.connection.sendRequest<{ matches: unknown[] }>('codeloop/search', { query: 'typed in Neovim' })).matches.length, { timeout: 30_000 }).toBe(0);
    await pickAction('codeloop: Apply proposal');
    await until('the edit in the buffer', () => screen().includes('exports.add = (a, b) => a + b;'), 30_000);
    await until('the save', () => {
      keys(':w', 'Enter');
      spawnSync('sleep', ['0.3']);
      return fs.readFileSync(path.join(root, 'src/math.js'), 'utf8') === 'exports.add = (a, b) => a + b;\n';
    }, 30_000);
    keys(':q!', 'Enter');
  });

  it('Space a → Reject proposal leaves the file alone and the session rejected', async () => {
    const { root, state, until, keys, pickAction } = await helix();
    await pickAction('codeloop: Reject proposal');
    const store = new Database(path.join(state, 'codeloop', 'sessions.db'), { readonly: true });
    cleanups.push(() => store.close());
    await until('the rejection', () => store.prepare('SELECT state FROM sessions').pluck().get() === 'rejected');
    expect(fs.readFileSync(path.join(root, 'src/math.js'), 'utf8')).toBe(BROKEN_MATH);
    keys(':q!', 'Enter');
  });

  it('the daemon killed mid-session: Helix reopened, Space a → Resume session goes on to the proposal → Apply → :w → the test passes', async () => {
    const steps = [FIRST_FIX[0], FIRST_FIX[1], { kind: 'hang' as const }, FIRST_FIX[2]];
    const { state, fake, screen, until, pickAction, command, applyAndSave, reopen } = await helix(steps, {}, false);
    await pickAction('codeloop: Run task in comment');
    // The edit is made and the model is asked for its next step, which never comes: then the daemon dies.
    await until('the session at work', () => fake.requests.length === 3, 30_000);
    const daemonPid = Number(fs.readFileSync(path.join(state, 'runtime', 'daemon.lock'), 'utf8'));
    process.kill(daemonPid, 'SIGKILL');
    await until('Helix to see its server go', () => screen().includes('Language server exited'), 30_000);
    // The user opens the file again: Helix starts `codeloop lsp`, which starts a new daemon.
    await reopen();
    const menu = await pickAction('codeloop: Resume session');
    expect(menu.find((line) => line.includes('Resume session'))).toContain('codeloop: Resume session "make add add"');
    await until('the proposal', () => screen().includes('proposal ready'), 30_000);
    // The model heard that it was interrupted, with its edit already in place.
    expect(JSON.stringify(fake.requests.at(-1)!.messages)).toContain('interrupted and has now been resumed');
    await applyAndSave();
    command('qa!');
  });

  it('a codeloop: comment typed while the session works → Space a → Steer sends it; the model reads it at its next step', async () => {
    const steps = [FIRST_FIX[0], { kind: 'tools' as const, calls: [{ name: 'run_command', arguments: { command: 'sleep 6' } }] }, ...FIRST_FIX.slice(1)];
    const { fake, screen, until, keys, pickAction, command } = await helix(steps, { allowedCommands: ['sleep'] }, false);
    await pickAction('codeloop: Run task in comment');
    await until('the 6-second command', () => fake.requests.length === 2, 30_000);
    // The user opens a line below the last one and types the message as a comment (Helix cannot prompt for text).
    keys('Escape');
    keys('g', 'e', 'o');
    keys('-l', '// codeloop: keep the arrow function');
    keys('Escape');
    const menu = await pickAction('codeloop: Steer');
    expect(menu.find((line) => line.includes('Steer'))).toContain('codeloop: Steer "make add add" with (keep the arrow function)');
    await until('the steer told', () => screen().includes('sent your message to "make add add"'), 30_000);
    await until('the proposal', () => screen().includes('proposal ready'), 30_000);
    expect(fake.requests.slice(2).some((request) => JSON.stringify(request.messages).includes('keep the arrow function'))).toBe(true);
    command('qa!');
  });

  it(':lsp-workspace-command codeloop.pauseSession pauses the session at work (Helix says so); codeloop.resumeSession goes on to the proposal', async () => {
    const { fake, screen, until, pickAction, command, applyAndSave } = await helix(PAUSABLE_FIX, { allowedCommands: ['sleep'] }, false);
    await pickAction('codeloop: Run task in comment');
    await until('the 2-second command', () => fake.requests.length === 2, 30_000);
    command('lsp-workspace-command codeloop.pauseSession');
    await until('the pause told', () => screen().includes('session "make add add" interrupted'), 30_000);
    const requestsWhenPaused = fake.requests.length;
    command('lsp-workspace-command codeloop.resumeSession');
    await until('the proposal', () => screen().includes('proposal ready'), 30_000);
    expect(JSON.stringify(fake.requests[requestsWhenPaused].messages)).toContain('interrupted and has now been resumed');
    await applyAndSave();
    command('qa!');
  });
});
