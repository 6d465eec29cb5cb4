import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeModel, type FakeStep } from '../fake-model/fake-model-server.js';
import { daemonWorld } from '../helpers/daemon-world.js';
import { makeTree, removeTree } from '../helpers/fixture-tree.js';
import { startLspClient, waitUntilIndexed, type TestLspClient } from '../helpers/lsp-client.js';
import { runCli } from '../helpers/run-cli.js';

/**
 * Apply looks at the unsaved buffers of every editor attached to the workspace, not only the one that asked:
 * two real editors on the shared daemon (`codeloop lsp`), one applying while the other holds a file unsaved.
 */
const SESSION_TEST = { timeout: 240_000 };
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const FILES = {
  'src/math.js': 'exports.add = (a, b) => a - b;\n',
  'src/names.js': 'exports.greet = (name) => "hi " + name;\n',
  'src/limits.js': 'exports.limit = 10;\r\nexports.floor = 0;\r\n',
};
const edit = (file: string, search: string, replace: string) => ({ path: file, blocks: [{ search, replace }] });
const propose = (...edits: ReturnType<typeof edit>[]): FakeStep => ({ kind: 'tools', calls: edits.map((args) => ({ name: 'propose_edit', arguments: args })) });
const done: FakeStep = { kind: 'tools', calls: [{ name: 'done', arguments: { summary: 'done' } }] };
const HELD = (file: string, editor: string) =>
  `${file}: ${editor} (another editor) has unsaved changes to this file; save or close it there, then try again (codeloop does not write under another editor's unsaved typing)`;

/** Two editors on one daemon, the first having a session waiting with the proposal the steps make. */
async function twoEditorsWithProposal(steps: FakeStep[]) {
  const fake = await startFakeModel([{ kind: 'text', content: '1. Change the files' }, ...steps, done]);
  const root = fs.realpathSync(makeTree(FILES, { git: true }));
  const world = daemonWorld({ model: { baseURL: fake.baseURL, model: 'fake', maxRetries: 0 }, agent: { autoApprovePlan: true, commandTimeoutSeconds: 60 } });
  const env = { ...world.env, OPENAI_API_KEY: 'sk-editor-test' };
  const helix = startLspClient([], env);
  cleanups.push(() => removeTree(root, world.state), () => fake.close(), () => runCli(['daemon', 'stop'], { stateHome: world.state, env }), () => helix.close());
  await helix.initialize(root, 'helix');
  const neovim = startLspClient([], env);
  cleanups.push(() => neovim.close());
  await neovim.initialize(root, 'Neovim');
  await waitUntilIndexed(helix.connection);
  const { sessionId } = await helix.connection.sendRequest<{ sessionId: string }>('workspace/executeCommand', { command: 'codeloop.startTask', arguments: ['change the files'] });
  await helix.waitForNotification('codeloop/sessionUpdate', (p) => p.sessionId === sessionId && p.state === 'awaitingApproval', 120_000);
  const uri = (relative: string) => pathToFileURL(path.join(root, relative)).href;
  const disk = (relative: string) => fs.readFileSync(path.join(root, relative), 'utf8');
  return { root, helix, neovim, sessionId, uri, disk };
}

const open = (editor: TestLspClient, uri: string, text: string) =>
  editor.connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'javascript', version: 1, text } });
const change = (editor: TestLspClient, uri: string, version: number, text: string) =>
  editor.connection.sendNotification('textDocument/didChange', { textDocument: { uri, version }, contentChanges: [{ text }] });
const apply = (editor: TestLspClient) => editor.connection.sendRequest<{ applied: boolean; conflicts: string[] }>('workspace/executeCommand', { command: 'codeloop.applyProposal' });
/** The daemon has taken an editor's buffer in when a search of the workspace finds its text. */
async function bufferArrived(editor: TestLspClient, text: string): Promise<void> {
  await expect.poll(async () => (await editor.connection.sendRequest<{ matches: unknown[] }>('codeloop/search', { query: text })).matches.length, { timeout: 30_000 }).toBeGreaterThan(0);
}
const sessionState = async (editor: TestLspClient, sessionId: string) => (await editor.connection.sendRequest<{ state: string }>('codeloop/getSession', { sessionId })).state;

describe('apply checks the unsaved buffers of every editor on the workspace', () => {
  it('a file another editor holds unsaved is a conflict naming that editor; once it closes the buffer, apply goes through', SESSION_TEST, async () => {
    const { helix, neovim, sessionId, uri, disk } = await twoEditorsWithProposal([propose(edit('src/math.js', 'a - b', 'a + b'))]);
    await open(neovim, uri('src/math.js'), 'exports.add = (a, b) => a - b;\n// typed in Neovim, not saved\n');
    await bufferArrived(helix, 'typed in Neovim');

    expect(await apply(helix)).toEqual({ applied: false, conflicts: [HELD('src/math.js', 'Neovim')] });
    expect(helix.appliedEdits).toEqual([]);
    // Said as a message too: stock clients show nothing of a command's result.
    await helix.waitForNotification('window/showMessage', (p) => p.message === `codeloop: not applied: ${HELD('src/math.js', 'Neovim')}`);
    expect(disk('src/math.js')).toBe('exports.add = (a, b) => a - b;\n');
    expect(await sessionState(helix, sessionId)).toBe('awaitingApproval');

    await neovim.connection.sendNotification('textDocument/didClose', { textDocument: { uri: uri('src/math.js') } });
    await expect.poll(async () => (await apply(helix)).applied, { timeout: 30_000 }).toBe(true);
    expect(disk('src/math.js')).toBe('exports.add = (a, b) => a + b;\n');
    expect(await sessionState(helix, sessionId)).toBe('applied');
  });

  it('a buffer another editor has open but unchanged, or changed back to the disk text, is no conflict', SESSION_TEST, async () => {
    const { helix, neovim, sessionId, uri, disk } = await twoEditorsWithProposal([propose(edit('src/math.js', 'a - b', 'a + b'))]);
    await open(neovim, uri('src/math.js'), 'exports.add = (a, b) => a - b; // draft\n');
    await bufferArrived(helix, '// draft');
    expect((await apply(helix)).conflicts).toEqual([HELD('src/math.js', 'Neovim')]);

    await change(neovim, uri('src/math.js'), 2, 'exports.add = (a, b) => a - b;\n');
    await expect.poll(async () => (await helix.connection.sendRequest<{ matches: unknown[] }>('codeloop/search', { query: '// draft' })).matches.length, { timeout: 30_000 }).toBe(0);
    expect(await apply(helix)).toEqual({ applied: true, conflicts: [] });
    expect(disk('src/math.js')).toBe('exports.add = (a, b) => a + b;\n');
    expect(await sessionState(helix, sessionId)).toBe('applied');
  });

  it('a CRLF file another editor has open unchanged with LF breaks (Emacs hands it over so) is no conflict; the disk keeps CRLF', SESSION_TEST, async () => {
    const { helix, neovim, sessionId, uri, disk } = await twoEditorsWithProposal([propose(edit('src/limits.js', 'exports.limit = 10;\n', 'exports.limit = 20;\nexports.step = 5;\n'))]);
    await open(neovim, uri('src/limits.js'), 'exports.limit = 10;\nexports.floor = 0;\n');
    // Arrived when `0;$` matches: in rg's dialect `$` is before a LF, so it does not match the file's CRLF line.
    await expect.poll(async () => (await helix.connection.sendRequest<{ matches: unknown[] }>('codeloop/search', { query: 'floor = 0;$', mode: 'regex' })).matches.length, { timeout: 30_000 }).toBe(1);
    expect(await apply(helix)).toEqual({ applied: true, conflicts: [] });
    expect(disk('src/limits.js')).toBe('exports.limit = 20;\r\nexports.step = 5;\r\nexports.floor = 0;\r\n');
    expect(await sessionState(helix, sessionId)).toBe('applied');
  });

  it('of a proposal of two files, the one held elsewhere waits and the other is applied; the proposal stays open until both are', SESSION_TEST, async () => {
    const { helix, neovim, sessionId, uri, disk } = await twoEditorsWithProposal([
      propose(edit('src/math.js', 'a - b', 'a + b'), edit('src/names.js', '"hi "', '"hello "')),
    ]);
    await open(neovim, uri('src/names.js'), 'exports.greet = (name) => "hi " + name; // unsaved in Neovim\n');
    await bufferArrived(helix, 'unsaved in Neovim');

    expect(await apply(helix)).toEqual({ applied: true, conflicts: [HELD('src/names.js', 'Neovim')] });
    await helix.waitForNotification('window/showMessage', (p) => p.message === `codeloop: applied src/math.js of "change the files"; not applied: ${HELD('src/names.js', 'Neovim')}`);
    expect(disk('src/math.js')).toBe('exports.add = (a, b) => a + b;\n');
    expect(disk('src/names.js')).toBe('exports.greet = (name) => "hi " + name;\n');
    expect(await sessionState(helix, sessionId)).toBe('awaitingApproval');

    await neovim.connection.sendNotification('textDocument/didClose', { textDocument: { uri: uri('src/names.js') } });
    await expect.poll(async () => (await apply(helix)).conflicts, { timeout: 30_000 }).toEqual([]);
    expect(disk('src/names.js')).toBe('exports.greet = (name) => "hello " + name;\n');
    expect(await sessionState(helix, sessionId)).toBe('applied');
  });

  it('an unsaved new buffer in another editor at the path a proposal creates is a conflict; the applying editor\'s own buffer is not', SESSION_TEST, async () => {
    const { helix, neovim, uri, root } = await twoEditorsWithProposal([
      { kind: 'tools', calls: [{ name: 'propose_edit', arguments: { path: 'src/new.js', edit: { kind: 'content', content: 'exports.made = true;\n' } } }] },
      propose(edit('src/math.js', 'a - b', 'a + b')),
    ]);
    await open(neovim, uri('src/new.js'), '// Neovim started this file\n');
    await open(helix, uri('src/math.js'), 'exports.add = (a, b) => a - b;\n// helix typing\n');
    await bufferArrived(helix, 'Neovim started this file');

    const result = await apply(helix);
    expect(result).toEqual({ applied: true, conflicts: [HELD('src/new.js', 'Neovim')] });
    expect(fs.existsSync(path.join(root, 'src/new.js'))).toBe(false);
    // Helix's own unsaved buffer is the base of its edit, as before: its typing is kept.
    const edits = JSON.stringify(helix.appliedEdits.at(-1));
    expect(edits).toContain('src/math.js');
    expect(edits).not.toContain('src/new.js');
  });
});
