import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/run-cli.js';
import { calcProject, FIRST_FIX, hasEmacsWithEglot, mathFile, runEditor, versionOf } from './calc-project.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const NVIM_DRIVER = path.join(HERE, 'shared-daemon-nvim-start.lua');
const EMACS_DRIVER = path.join(HERE, 'shared-daemon-emacs-apply.el');
const hasBoth = versionOf('nvim') !== '' && hasEmacsWithEglot();
if (!hasBoth && process.env.CI) throw new Error('Neovim and Emacs with eglot are required for the end-to-end tests in CI');

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe.skipIf(!hasBoth)('Neovim and Emacs on one daemon', { retry: 2 }, () => {
  it('Neovim starts a task; Emacs sees the same session and applies its proposal', async () => {
    const project = await calcProject(FIRST_FIX, cleanups);
    cleanups.push(() => runCli(['daemon', 'stop'], { stateHome: project.state, env: project.env }));
    const started = await runEditor('nvim', ['--headless', '--clean', '-c', `luafile ${NVIM_DRIVER}`], project, { E2E_PLUGIN: path.resolve(HERE, '../../clients/neovim') });
    expect(started.result.status, `${started.result.error}\n${started.output}`).toBe('ok');
    expect(mathFile(project)).toContain('a - b');

    const applied = await runEditor('emacs', ['--batch', '-l', EMACS_DRIVER], project, { E2E_PLUGIN: path.resolve(HERE, '../../clients/emacs') });
    expect(applied.result, applied.output).toMatchObject({ status: 'ok', session: started.result.session, applied: true });
    expect(mathFile(project)).toBe('exports.add = (a, b) => a + b;\n');
    const status = JSON.parse(runCli(['status', '--json', project.root], { stateHome: project.state, env: project.env }).stdout);
    expect(status.daemon.sessions).toEqual([expect.objectContaining({ sessionId: started.result.session, state: 'applied' })]);
  });
});
