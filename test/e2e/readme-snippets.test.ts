import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { calcProject, codeloopOnPath, FIRST_FIX, hasEmacsWithEglot, mathFile, readmeSnippet, runEditor, versionOf } from './calc-project.js';

/**
 * Each README snippet, extracted by its `<!-- snippet: NAME -->` marker and pasted verbatim (the documented
 * `/path/to/codeloop` placeholder aside) into a fresh editor configuration, with `codeloop` on PATH as installed:
 * the editor must then run the whole flow on the calc project.
 */
const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '../..');
const EDITORS_DIR = process.env.CODELOOP_EDITORS_DIR ?? path.resolve(HERE, '../../.editors');
const NVIM_CURRENT = path.join(EDITORS_DIR, 'bin', 'nvim-current');
const hasCurrentNeovim = versionOf(NVIM_CURRENT) !== '';
const hasEmacs = hasEmacsWithEglot();
if ((!hasCurrentNeovim || !hasEmacs) && process.env.CI) throw new Error('Neovim 0.10 and Emacs 29+ are required for the README snippet tests in CI');

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A project, `codeloop` on PATH, and the snippet written as the user's config file `relative` (under XDG_CONFIG_HOME). */
async function pasted(snippet: string, relative: string) {
  const project = await calcProject(FIRST_FIX, cleanups);
  const bin = codeloopOnPath(project, cleanups);
  const file = path.join(project.env.XDG_CONFIG_HOME!, relative);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, readmeSnippet(snippet).replaceAll('/path/to/codeloop', REPO));
  return { project, file, env: { PATH: `${bin}:${process.env.PATH}` } };
}

function expectFixed(project: Awaited<ReturnType<typeof calcProject>>): void {
  expect(mathFile(project)).toBe('exports.add = (a, b) => a + b;\n');
  expect(spawnSync('node', ['test.js'], { cwd: project.root }).status).toBe(0);
}

describe('README snippets, pasted as they are', { retry: 1 }, () => {
  it.skipIf(!hasCurrentNeovim)('Neovim 0.10, stock LSP: the FileType autocmd attaches codeloop and the flow runs', async () => {
    const { project, env } = await pasted('neovim-stock', 'nvim/init.lua');
    const { result, output } = await runEditor(NVIM_CURRENT, ['--headless', '-c', `luafile ${path.join(HERE, 'readme-neovim-driver.lua')}`, project.env.E2E_FILE!], project, env);
    expect(result.status, `${result.error}\n${output}`).toBe('ok');
    expect(result.apply).toMatch(/; tests passed\)$/);
    expectFixed(project);
  });

  it.skipIf(!hasCurrentNeovim)('Neovim 0.10, the plugin: runtimepath + setup() attach codeloop and the flow runs', async () => {
    const { project, env } = await pasted('neovim-plugin', 'nvim/init.lua');
    const { result, output } = await runEditor(NVIM_CURRENT, ['--headless', '-c', `luafile ${path.join(HERE, 'readme-neovim-driver.lua')}`, project.env.E2E_FILE!], project, env);
    expect(result.status, `${result.error}\n${output}`).toBe('ok');
    expectFixed(project);
  });

  it.skipIf(!hasEmacs)('Emacs, stock eglot: the eglot-server-programs entry starts codeloop and the flow runs', async () => {
    const { project, file, env } = await pasted('emacs-eglot', 'emacs/init.el');
    const { result, output } = await runEditor('emacs', ['--batch', '-Q', '-l', file, '-l', path.join(HERE, 'readme-emacs-driver.el')], project, env);
    expect(result.status, `${result.error}\n${output}`).toBe('ok');
    expect(result.server).toContain('"codeloop" "lsp"');
    expectFixed(project);
  });

  it.skipIf(!hasEmacs)('Emacs, codeloop.el: load-path + require + setup start codeloop and the flow runs', async () => {
    const { project, file, env } = await pasted('emacs-codeloop', 'emacs/init.el');
    const { result, output } = await runEditor('emacs', ['--batch', '-Q', '-l', file, '-l', path.join(HERE, 'readme-emacs-driver.el')], project, env);
    expect(result.status, `${result.error}\n${output}`).toBe('ok');
    expect(result.server).toContain('"codeloop" "lsp"');
    expectFixed(project);
  });
});
