import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { makeStateHome } from '../helpers/fixture-tree.js';
import { calcProject, FIRST_FIX, hasEmacsWithEglot, mathFile, REVISION, runEditor } from './calc-project.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const STOCK_DRIVER = path.join(HERE, 'emacs-eglot-driver.el');
const CLIENT_DRIVER = path.join(HERE, 'emacs-client-driver.el');
const PLUGIN = path.resolve(HERE, '../../clients/emacs');
const hasEmacs = hasEmacsWithEglot();
if (!hasEmacs && process.env.CI) throw new Error('Emacs 29+ (eglot built in) is required for the end-to-end tests in CI: apt-get install -t bookworm-backports emacs-nox');

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

// Real editors under a loaded machine: a rare timing miss is retried rather than failing the run.
describe.skipIf(!hasEmacs)('Emacs', { retry: 2 }, () => {
  it('stock eglot: code action → proposal → apply through eglot → saved file passes its test', async () => {
    const project = await calcProject(FIRST_FIX, cleanups);
    const { result, output } = await runEditor('emacs', ['--batch', '-l', STOCK_DRIVER], project);
    expect(result, output).toMatchObject({ status: 'ok', task: 'codeloop: Run task in comment (make add add)', applied: true });
    expect(mathFile(project)).toBe('exports.add = (a, b) => a + b;\n');
    expect(spawnSync('node', ['test.js'], { cwd: project.root }).status).toBe(0);
  });

  it('codeloop.el: codeloop-task → reject with feedback → revised proposal → codeloop-review → apply all → saved file passes', async () => {
    const project = await calcProject([...FIRST_FIX, ...REVISION], cleanups);
    const { result, output } = await runEditor('emacs', ['--batch', '-l', CLIENT_DRIVER], project, { E2E_PLUGIN: PLUGIN });
    expect(result.status, `${result.error}\n${output}`).toBe('ok');
    expect(result.modeline).toMatch(/^ codeloop\[\w+:awaitingApproval\]$/);
    expect(result.review).toContain('+exports.add = (a, b) => b + a;');
    expect(mathFile(project)).toBe('exports.add = (a, b) => b + a;\n');
    expect(spawnSync('node', ['test.js'], { cwd: project.root }).status).toBe(0);
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
