import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { calcProject, FIRST_FIX, mathFile, REVISION, runEditor, versionOf } from './calc-project.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const STOCK_DRIVER = path.join(HERE, 'neovim-stock-driver.lua');
const PLUGIN_DRIVER = path.join(HERE, 'neovim-plugin-driver.lua');
const PLUGIN = path.resolve(HERE, '../../clients/neovim');
/** The system Neovim (Debian 12: 0.7.2) and the current one (0.10, from test/e2e/install-current-editors.sh). */
const EDITORS_DIR = process.env.CODELOOP_EDITORS_DIR ?? path.resolve(HERE, '../../.editors');
const NEOVIMS = [
  { name: 'system', command: 'nvim' },
  { name: 'current', command: path.join(EDITORS_DIR, 'bin', 'nvim-current') },
].map((nvim) => ({ ...nvim, version: versionOf(nvim.command) }));
for (const nvim of NEOVIMS) {
  if (!nvim.version && process.env.CI) {
    throw new Error(`Neovim (${nvim.command}) is required for the end-to-end tests in CI: apt-get install neovim; bash test/e2e/install-current-editors.sh .editors`);
  }
}

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

for (const nvim of NEOVIMS) {
  // Real editors under a loaded machine: a rare timing miss is retried rather than failing the run.
  describe.skipIf(!nvim.version)(`Neovim (${nvim.name}: ${nvim.version})`, { retry: 2 }, () => {
    it('stock LSP client: code action → proposal → apply through Neovim\'s own machinery → saved file passes its test', async () => {
      const project = await calcProject(FIRST_FIX, cleanups);
      const { result, output } = await runEditor(nvim.command, ['--headless', '--clean', '-c', `luafile ${STOCK_DRIVER}`], project);
      expect(result, output).toMatchObject({ status: 'ok', task: 'codeloop: Run task in comment (make add add)', applied: { applied: true, conflicts: [] } });
      expect(result.apply).toMatch(/^codeloop: Apply proposal "make add add" \(\+1 −2 in 1 files\)/);
      expect(mathFile(project)).toBe('exports.add = (a, b) => a + b;\n');
      expect(spawnSync('node', ['test.js'], { cwd: project.root }).status).toBe(0);
    });

    it('stock LSP client: a line typed (unsaved) while the proposal waits is kept when it is applied', async () => {
      const project = await calcProject(FIRST_FIX, cleanups);
      const typed = 'exports.sub = (a, b) => a - b;';
      const { result, output } = await runEditor(nvim.command, ['--headless', '--clean', '-c', `luafile ${STOCK_DRIVER}`], project, { E2E_TYPE_LINE: typed });
      expect(result, output).toMatchObject({ status: 'ok', applied: { applied: true, conflicts: [] } });
      expect(mathFile(project)).toBe(`exports.add = (a, b) => a + b;\n${typed}\n`);
      expect(spawnSync('node', ['test.js'], { cwd: project.root }).status).toBe(0);
    });

    it('the plugin: :Codeloop task → reject with feedback → revised proposal → :CodeloopReview → A → saved file passes', async () => {
      const project = await calcProject([...FIRST_FIX, ...REVISION], cleanups);
      const { result, output } = await runEditor(nvim.command, ['--headless', '--clean', '-c', `luafile ${PLUGIN_DRIVER}`], project, { E2E_PLUGIN: PLUGIN });
      expect(result.status, `${result.error}\n${output}`).toBe('ok');
      expect(result.status_line).toMatch(/^codeloop \w+:awaitingApproval$/);
      expect(result.review).toContain('+exports.add = (a, b) => b + a;');
      expect(mathFile(project)).toBe('exports.add = (a, b) => b + a;\n');
      expect(spawnSync('node', ['test.js'], { cwd: project.root }).status).toBe(0);
    });
  });
}
