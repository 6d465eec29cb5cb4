import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { makeTree, removeTree } from '../helpers/fixture-tree.js';
import { BROKEN_MATH, calcProject, FIRST_FIX, FIX_WITH_NEW_FILE, mathFile, NEW_FILE, PAUSABLE_FIX, REVISION, runEditor, versionOf } from './calc-project.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const STOCK_DRIVER = path.join(HERE, 'neovim-stock-driver.lua');
const PLUGIN_DRIVER = path.join(HERE, 'neovim-plugin-driver.lua');
const FOLDERS_DRIVER = path.join(HERE, 'neovim-folders-driver.lua');
const SESSIONS_DRIVER = path.join(HERE, 'neovim-sessions-driver.lua');
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
    it('stock LSP client: code action → proposal → apply through Neovim\'s own machinery (a new file without an extra blank line) → saved file passes its test', async () => {
      const project = await calcProject(FIX_WITH_NEW_FILE, cleanups);
      const { result, output } = await runEditor(nvim.command, ['--headless', '--clean', '-c', `luafile ${STOCK_DRIVER}`], project);
      expect(result, output).toMatchObject({ status: 'ok', task: 'codeloop: Run task in comment (make add add)', applied: { applied: true, conflicts: [] } });
      expect(result.apply).toMatch(/^codeloop: Apply proposal "make add add" \(\+2 −2 in 2 files; tests passed\)/);
      expect(mathFile(project)).toBe('exports.add = (a, b) => a + b;\n');
      expect(fs.readFileSync(path.join(project.root, 'src/double.js'), 'utf8')).toBe(NEW_FILE);
      expect(result.progress).toEqual(expect.arrayContaining([
        'codeloop "make add add"', 'planning', 'editing src/math.js', 'editing src/double.js', 'running the tests (npm test)', 'waiting for you: the proposal is ready',
      ]));
      expect(spawnSync('node', ['test.js'], { cwd: project.root }).status).toBe(0);
    });

    it('stock LSP client: adding folder B and removing folder A moves codeloop to B', async () => {
      const project = await calcProject([], cleanups);
      const other = fs.realpathSync(makeTree({ 'b.js': 'function onlyInB() {}\n' }, { git: true }));
      cleanups.push(() => removeTree(other));
      const { result, output } = await runEditor(nvim.command, ['--headless', '--clean', '-c', `luafile ${FOLDERS_DRIVER}`], project, { E2E_OTHER: other });
      expect(result.status, `${result.error}\n${output}`).toBe('ok');
      expect(result.workspaces).toEqual([other]);
      expect(result.symbols).toEqual(['onlyInB']);
    });

    it('stock LSP client: a line typed (unsaved) while the proposal waits is kept when it is applied', async () => {
      const project = await calcProject(FIRST_FIX, cleanups);
      const typed = 'exports.sub = (a, b) => a - b;';
      const { result, output } = await runEditor(nvim.command, ['--headless', '--clean', '-c', `luafile ${STOCK_DRIVER}`], project, { E2E_TYPE_LINE: typed });
      expect(result, output).toMatchObject({ status: 'ok', applied: { applied: true, conflicts: [] } });
      expect(mathFile(project)).toBe(`exports.add = (a, b) => a + b;\n${typed}\n`);
      expect(spawnSync('node', ['test.js'], { cwd: project.root }).status).toBe(0);
    });

    it('stock LSP client: typing on a line the proposal changes is reported as that hunk\'s conflict, and the buffer is kept', async () => {
      const project = await calcProject(FIRST_FIX, cleanups);
      const { result, output } = await runEditor(nvim.command, ['--headless', '--clean', '-c', `luafile ${STOCK_DRIVER}`], project, { E2E_CHANGE_LINE: '2=exports.add = (a, b) => a - b - 0;' });
      expect(result, output).toMatchObject({ status: 'ok', applied: { applied: false, conflicts: ['src/math.js: the proposal\'s change to lines 1-2 conflicts with your edit, now lines 1-2'] } });
      expect(mathFile(project)).toBe('// codeloop: make add add\nexports.add = (a, b) => a - b - 0;\n');
    });

    it('stock LSP client: codeloop.rewindSession steps the proposal back a turn → Resume → Apply → Revert (a typed line over the change is reported first, then the revert restores the file)', async () => {
      const steps = [...FIX_WITH_NEW_FILE.slice(0, 3), FIRST_FIX[2], FIRST_FIX[2]];
      const project = await calcProject(steps, cleanups);
      const { result, output } = await runEditor(nvim.command, ['--headless', '--clean', '-c', `luafile ${STOCK_DRIVER}`], project, { E2E_REWIND: '1', E2E_REVERT: '1' });
      expect(result.status, `${result.error}\n${output}`).toBe('ok');
      // Turn 3 wrote src/double.js: one step back undoes it, and the resumed session proposes the fix alone.
      expect(result.rewound).toEqual({ turn: 2 });
      expect(result.messages).toContain('codeloop: rewound "make add add" to turn 2 (undoing src/double.js); it waits until you resume it');
      expect(result.resume).toBe('codeloop: Resume session "make add add"');
      expect(result.apply).toMatch(/^codeloop: Apply proposal "make add add" \(\+1 −2 in 1 files; tests passed\)/);
      expect(fs.existsSync(path.join(project.root, 'src/double.js'))).toBe(false);
      expect(result.applied_buffer).toBe('exports.add = (a, b) => a + b;');
      expect(result.conflicted).toEqual({ reverted: false, conflicts: ["src/math.js: the revert's change to line 1 conflicts with your edit, now line 1"] });
      expect(result.conflicted_buffer).toBe('exports.add = (a, b) => b + a;');
      expect(result.messages).toContain('codeloop: not reverted: src/math.js: the revert\'s change to line 1 conflicts with your edit, now line 1');
      expect(result.revert).toBe('codeloop: Revert applied proposal "make add add" (+1 −2 in 1 files)');
      expect(result.reverted).toEqual({ reverted: true, conflicts: [] });
      expect(result.reverted_buffer).toBe(BROKEN_MATH.trimEnd());
      expect(mathFile(project)).toBe(BROKEN_MATH);
      expect(result.messages).toContain('codeloop: reverted "make add add" (src/math.js)');
    });

    it('the plugin: :Codeloop task (statusline planning) → :CodeloopReview with verdict and keys → reject with feedback refreshes it → reopen → a on the header → saved file passes', async () => {
      const project = await calcProject([...FIRST_FIX, ...REVISION], cleanups);
      const { result, output } = await runEditor(nvim.command, ['--headless', '--clean', '-c', `luafile ${PLUGIN_DRIVER}`], project, { E2E_PLUGIN: PLUGIN });
      expect(result.status, `${result.error}\n${output}`).toBe('ok');
      expect(result.status_at_start).toMatch(/^codeloop \w+:(planning|working|testing)$/);
      expect(result.status_line).toMatch(/^codeloop \w+:awaitingApproval$/);
      expect(result.first_review.slice(0, 3)).toEqual([
        '# codeloop proposal: make add add', '# verdict: tests passed (npm test)',
        '# a: apply the file under the cursor · A: apply all · r: reject (asks for feedback) · q: close',
      ]);
      expect(result.first_review).toContain('+exports.add = (a, b) => a + b;');
      expect(result.review).toContain('+exports.add = (a, b) => b + a;');
      expect(result.windows).toBe(2);
      expect(result.final_status).toMatch(/^codeloop \w+:applied$/);
      expect(mathFile(project)).toBe('exports.add = (a, b) => b + a;\n');
      expect(spawnSync('node', ['test.js'], { cwd: project.root }).status).toBe(0);
    });

    it('the plugin: :CodeloopSteer and :CodeloopPause while it works → :CodeloopTranscript shows the interruption → :CodeloopResume → the transcript, refreshed, shows the proposal', async () => {
      const project = await calcProject(PAUSABLE_FIX, cleanups, { allowedCommands: ['sleep'] });
      const { result, output } = await runEditor(nvim.command, ['--headless', '--clean', '-c', `luafile ${SESSIONS_DRIVER}`], project, { E2E_PLUGIN: PLUGIN });
      expect(result.status, `${result.error}\n${output}\n${JSON.stringify(result.messages)}`).toBe('ok');
      const id = result.session_id;
      expect(result.messages).toEqual(expect.arrayContaining([
        'codeloop: sent to the session: the model reads it at its next turn',
        'codeloop: the session pauses at its next step; :CodeloopResume goes on',
        `codeloop: resumed session ${id}`,
        `codeloop: proposal ready for session ${id}: :CodeloopReview ${id}`,
      ]));
      expect(result.paused_transcript.slice(0, 2)).toEqual([`session ${id}: interrupted`, 'task (prompt): make add add']);
      expect(result.paused_transcript).toEqual(expect.arrayContaining([
        expect.stringMatching(/^tokens: \d+ prompt \+ \d+ completion; cost \$\d+\.\d{4}$/),
        expect.stringMatching(/^\[\d+\] [\d:]{8} plan$/),
        '    1. Fix add',
        expect.stringMatching(/^\[\d+\] [\d:]{8} message: your message: keep the arrow function$/),
        expect.stringMatching(/^\[\d+\] [\d:]{8} message: paused; resume it to go on$/),
      ]));
      expect(result.final_transcript[0]).toBe(`session ${id}: awaitingApproval`);
      expect(result.final_transcript).toEqual(expect.arrayContaining([
        expect.stringMatching(/message: resumed from the last completed step$/),
        expect.stringMatching(/tool propose_edit /),
        expect.stringMatching(/tests passed in \d+\.\d s$/),
        expect.stringMatching(/proposal: src\/math\.js$/),
      ]));
      // What the user sent reached the model.
      expect(JSON.stringify(project.fake.requests.at(-1)!.messages)).toContain('keep the arrow function');
    });
  });
}
