import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { makeStateHome } from '../helpers/fixture-tree.js';
import { BROKEN_MATH, calcProject, EXPLAIN, FIRST_FIX, FIX_WITH_NEW_FILE, hasEmacsWithEglot, mathFile, NEW_FILE, PAUSABLE_FIX, REVISION, runEditor } from './calc-project.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const STOCK_DRIVER = path.join(HERE, 'emacs-eglot-driver.el');
const CRLF_DRIVER = path.join(HERE, 'emacs-crlf-driver.el');
const CLIENT_DRIVER = path.join(HERE, 'emacs-client-driver.el');
const SESSIONS_DRIVER = path.join(HERE, 'emacs-sessions-driver.el');
const PLUGIN = path.resolve(HERE, '../../clients/emacs');
const hasEmacs = hasEmacsWithEglot();
if (!hasEmacs && process.env.CI) throw new Error('Emacs 29+ (eglot built in) is required for the end-to-end tests in CI: apt-get install -t bookworm-backports emacs-nox');

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

// Real editors under a loaded machine: a rare timing miss is retried rather than failing the run.
describe.skipIf(!hasEmacs)('Emacs', { retry: 2 }, () => {
  it('stock eglot (no resource operations): code action → proposal with its verdict → apply creates the new file too → explanation finished, as a document', async () => {
    const project = await calcProject([...FIX_WITH_NEW_FILE, ...EXPLAIN], cleanups);
    const { result, output } = await runEditor('emacs', ['--batch', '-l', STOCK_DRIVER], project);
    expect(result, output).toMatchObject({ status: 'ok', task: 'codeloop: Run task in comment (make add add)', applied: true });
    expect(result.apply).toBe('codeloop: Apply proposal "make add add" (+2 −2 in 2 files; tests passed)');
    expect(output).toContain('codeloop: proposal ready for "make add add" — tests passed (npm test): code action "Apply proposal", "Show proposal" or "Reject proposal"');
    expect(output).toContain('codeloop: explanation ready for "explain add" (opened as a document)');
    expect(result.states).toContain('finished');
    expect(result.states).not.toContain('failed');
    expect(mathFile(project)).toBe('exports.add = (a, b) => a + b;\n');
    expect(fs.readFileSync(path.join(project.root, 'src/double.js'), 'utf8')).toBe(NEW_FILE);
    expect(spawnSync('node', ['test.js'], { cwd: project.root }).status).toBe(0);
  });

  it('stock eglot applies a proposal to a CRLF file opened after the session made it (Emacs holds it with LF breaks); the file stays CRLF', async () => {
    const project = await calcProject(FIRST_FIX, cleanups);
    fs.writeFileSync(path.join(project.root, 'src/math.js'), BROKEN_MATH.replaceAll('\n', '\r\n'));
    const { result, output } = await runEditor('emacs', ['--batch', '-l', CRLF_DRIVER], project);
    expect(result, output).toEqual({ status: 'ok', coding: expect.stringMatching(/-dos$/), applied: true, conflicts: [] });
    expect(mathFile(project)).toBe('exports.add = (a, b) => a + b;\r\n');
  });

  it('codeloop.el: codeloop-task → codeloop-review with verdict → reject with feedback refreshes it → second review keeps its keys → apply all → saved file passes', async () => {
    const project = await calcProject([...FIRST_FIX, ...REVISION], cleanups);
    const { result, output } = await runEditor('emacs', ['--batch', '-l', CLIENT_DRIVER], project, { E2E_PLUGIN: PLUGIN });
    expect(result.status, `${result.error}\n${output}`).toBe('ok');
    expect(result.modeline).toMatch(/^ codeloop\[\w+:awaitingApproval\]$/);
    expect(result['first-review'].split('\n').slice(0, 3)).toEqual([
      '# codeloop proposal: make add add', '# verdict: tests passed (npm test)',
      '# a: apply the file at point · A: apply all · r: reject (asks for feedback) · q: close',
    ]);
    expect(result.binding).toBe('codeloop-review-apply-all');
    expect(result.review).toContain('+exports.add = (a, b) => b + a;');
    expect(mathFile(project)).toBe('exports.add = (a, b) => b + a;\n');
    expect(spawnSync('node', ['test.js'], { cwd: project.root }).status).toBe(0);
  });

  it('codeloop.el: the mode line shows sessions in a real terminal Emacs, never *invalid*', async () => {
    const state = makeStateHome();
    cleanups.push(() => fs.rmSync(state, { recursive: true, force: true }));
    const init = path.join(state, 'init.el');
    fs.writeFileSync(init, `(package-initialize)\n(add-to-list 'load-path ${JSON.stringify(PLUGIN)})\n(require 'codeloop)\n(codeloop-setup)\n(codeloop--track "abc123" "planning")\n`);
    const session = `codeloop-modeline-${process.pid}`;
    spawnSync('tmux', ['new-session', '-d', '-s', session, '-x', '160', '-y', '20', `emacs -nw -Q -l ${init} ${init}`]);
    cleanups.push(() => spawnSync('tmux', ['kill-session', '-t', session]));
    await expect.poll(() => spawnSync('tmux', ['capture-pane', '-p', '-t', session], { encoding: 'utf8' }).stdout, { timeout: 30_000, interval: 500 })
      .toContain('codeloop[abc123:planning]');
    expect(spawnSync('tmux', ['capture-pane', '-p', '-t', session], { encoding: 'utf8' }).stdout).not.toContain('*invalid*');
  });

  it('codeloop.el: codeloop-steer and codeloop-pause while it works → codeloop-transcript shows the interruption → codeloop-resume → g shows the proposal', async () => {
    const project = await calcProject(PAUSABLE_FIX, cleanups, { allowedCommands: ['sleep'] });
    const { result, output } = await runEditor('emacs', ['--batch', '-l', SESSIONS_DRIVER], project, { E2E_PLUGIN: PLUGIN });
    expect(result.status, `${result.error}\n${output}`).toBe('ok');
    const id = result.paused.match(/^session (\w+): interrupted\n/)?.[1];
    expect(id, result.paused).toBeTruthy();
    expect(result.messages).toEqual(expect.arrayContaining([
      `codeloop: sent to ${id}: the model reads it at its next turn`,
      `codeloop: session ${id} pauses at its next step; M-x codeloop-resume goes on`,
      `codeloop: resumed session ${id}`,
    ]));
    expect(result.buffer).toBe(`*codeloop transcript ${id}*`);
    expect(result.mode).toBe('codeloop-transcript-mode');
    expect(result.paused).toContain('task (prompt): make add add\n');
    expect(result.paused).toMatch(/\ntokens: \d+ prompt \+ \d+ completion; cost \$\d+\.\d{4}\n/);
    expect(result.paused).toMatch(/plan\n {4}1\. Fix add\n/);
    expect(result.paused).toMatch(/message: your message: keep the arrow function\n/);
    expect(result.paused).toMatch(/message: paused; resume it to go on\n/);
    expect(result.final).toMatch(new RegExp(`^session ${id}: awaitingApproval\n`));
    expect(result.final).toMatch(/tests passed in \d+\.\d s/);
    expect(result.final).toMatch(/proposal: src\/math\.js/);
    expect(JSON.stringify(project.fake.requests.at(-1)!.messages)).toContain('keep the arrow function');
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
