import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ErrorCodes, LSPErrorCodes } from 'vscode-languageserver';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { clientRequests, commands, type CommandAlias } from '../../protocol/lsp-methods.js';
import { serverCapabilities } from '../../server/lsp/capabilities.js';
import type { ServerContext } from '../../server/lsp/server-context.js';
import { startFakeModel, type FakeStep } from '../fake-model/fake-model-server.js';
import { fakeEditorClient, inProcessServer, until, type FakeEditorClient } from '../helpers/fake-editor.js';
import { makeStateHome, makeTree, removeTree } from '../helpers/fixture-tree.js';

/**
 * The LSP features without a socket: each editor is the in-process FakeEditor (test/helpers/fake-editor.ts),
 * which records what the server says to it; the server, workspaces, SQLite index, agent and the model (the
 * scripted HTTP endpoint, through the real openai SDK) are real.
 */
const SESSION_TEST = { timeout: 120_000 };
const state = makeStateHome();
const saved = { XDG_STATE_HOME: process.env.XDG_STATE_HOME, XDG_CONFIG_HOME: process.env.XDG_CONFIG_HOME, OPENAI_API_KEY: process.env.OPENAI_API_KEY };
let server: { context: ServerContext; close(): Promise<void> };
const cleanups: (() => unknown)[] = [];

beforeAll(() => {
  Object.assign(process.env, { XDG_STATE_HOME: state, XDG_CONFIG_HOME: path.join(state, 'config'), OPENAI_API_KEY: 'sk-fake-editor-test' });
  server = inProcessServer();
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(async () => {
  await server.close();
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  removeTree(state);
});

const MATH = 'exports.add = (a, b) => a - b; // codeloop: make add add\n';
const edit = (search: string, replace: string, file = 'src/math.js'): FakeStep => ({ kind: 'tools', calls: [{ name: 'propose_edit', arguments: { path: file, blocks: [{ search, replace }] } }] });
const done: FakeStep = { kind: 'tools', calls: [{ name: 'done', arguments: { summary: 'done' } }] };

/** A workspace of the math file, a scripted model, and editors opened on it (the first starts sessions). */
async function workspace(steps: FakeStep[], agent: Record<string, unknown> = {}, names = ['first-editor']) {
  const root = fs.realpathSync(makeTree({ 'src/math.js': MATH }, { git: true }));
  const fake = await startFakeModel(steps);
  cleanups.push(() => removeTree(root), () => fake.close());
  const configuration = { model: { baseURL: fake.baseURL, model: 'fake', maxRetries: 0 }, agent: { autoApprovePlan: true, commandTimeoutSeconds: 60, ...agent } };
  const editors: FakeEditorClient[] = [];
  for (const name of names) {
    const editor = fakeEditorClient(server.context, name, configuration);
    cleanups.push(() => server.context.registry.detach(editor.features.client));
    await editor.openFolder(root);
    editors.push(editor);
  }
  const uri = (relative: string) => pathToFileURL(path.join(root, relative)).href;
  return { root, fake, editors, uri };
}

const stateOf = (editor: FakeEditorClient, sessionId: string) => server.context.agent.get(sessionId).state;
const waitState = (editor: FakeEditorClient, sessionId: string, wanted: string) => until(() => stateOf(editor, sessionId) === wanted, `session ${wanted}`, 90_000);

describe('one routing table: commands are aliases of requests', () => {
  it('every command names a request the table serves, and the server advertises exactly the commands', () => {
    const editor = fakeEditorClient(server.context, 'routing');
    for (const alias of Object.values(commands) as CommandAlias[]) {
      expect(Object.keys(clientRequests)).toContain(alias.request);
      expect(editor.features.routes.requests).toHaveProperty([alias.request]);
    }
    for (const method of Object.keys(clientRequests)) expect(editor.features.routes.requests).toHaveProperty([method]);
    expect(serverCapabilities().executeCommandProvider?.commands).toEqual(Object.keys(commands));
  });

  it('answers an unknown command, an argument that does not fit, and a command with no session to act on, each with its JSON-RPC error', async () => {
    const { editors: [editor] } = await workspace([]);
    await expect(editor.command('codeloop.rewriteEverything')).rejects.toMatchObject({ code: LSPErrorCodes.RequestFailed, message: 'codeloop: unknown command "codeloop.rewriteEverything"' });
    await expect(editor.command('codeloop.steerSession', { sessionId: 'x', message: 42 })).rejects.toMatchObject({
      code: ErrorCodes.InvalidParams, message: expect.stringMatching(/^codeloop\.steerSession: invalid params at message: /),
    });
    await expect(editor.command('codeloop.applyProposal')).rejects.toMatchObject({
      code: ErrorCodes.InvalidParams, message: 'codeloop.applyProposal: no session is awaitingApproval in this editor\'s workspaces',
    });
    await expect(editor.command('codeloop.cancelTask', 'no-such-session')).rejects.toMatchObject({ code: LSPErrorCodes.RequestFailed, message: 'no session "no-such-session"' });
    await expect(editor.command('codeloop.startTask')).rejects.toMatchObject({ code: ErrorCodes.InvalidParams, message: expect.stringMatching(/^codeloop\.startTask needs a prompt/) });
  });

  it('startTask without a prompt runs the newest codeloop: comment of the editor\'s buffers; showProposal is the request it aliases', SESSION_TEST, async () => {
    const { editors: [editor], uri } = await workspace([{ kind: 'text', content: '1. Fix add' }, edit('a - b', 'a + b'), done]);
    editor.open(uri('src/other.js'), '// codeloop: rename the helper\n', 1);
    editor.open(uri('src/math.js'), MATH, 2);
    const { sessionId } = await editor.command('codeloop.startTask');
    expect(server.context.agent.get(sessionId).prompt).toBe('make add add');
    await waitState(editor, sessionId, 'awaitingApproval');
    const shown = await editor.command('codeloop.showProposal');
    expect(shown).toEqual(await editor.request('codeloop/showProposal', { sessionId }));
    expect(editor.editor.shownDocuments).toEqual([shown.uri, shown.uri]);
    expect(fs.readFileSync(fileURLToPath(shown.uri), 'utf8')).toContain('+exports.add = (a, b) => a + b;');
  });
});

describe('workspace folders and buffers through the editor channel', () => {
  it('opening a folder shows indexing progress to its end; a folder that cannot be opened is an error message, and said again when a file of it is asked about', async () => {
    const root = fs.realpathSync(makeTree({ 'a.js': 'exports.a = 1;\n' }, { git: true }));
    cleanups.push(() => removeTree(root));
    const editor = fakeEditorClient(server.context, 'folders');
    cleanups.push(() => server.context.registry.detach(editor.features.client));
    await editor.openFolder(root);
    await until(() => editor.editor.progress.some((event) => event.kind === 'done'), 'indexing progress done');
    expect(editor.editor.progress[0]).toMatchObject({ kind: 'begin', title: `codeloop: indexing ${path.basename(root)}`, percentage: 0, cancellable: false });

    const missing = path.join(state, 'no-such-folder');
    editor.features.folders.change([{ uri: pathToFileURL(missing).href, name: 'missing' }], []);
    await until(() => editor.editor.messages.some((message) => message.severity === 'error'), 'the refusal');
    const refusal = editor.editor.messages.find((message) => message.severity === 'error')!.text;
    expect(refusal).toMatch(new RegExp(`^codeloop: the folder ${missing} was not opened: `));
    await expect(editor.request('codeloop/startTask', { prompt: 'fix it', uri: pathToFileURL(path.join(missing, 'a.js')).href }))
      .rejects.toMatchObject({ code: LSPErrorCodes.RequestFailed, message: refusal.slice('codeloop: '.length) });
  });

  it('a buffer over the size limit is said once, however often the editor sends it', () => {
    const editor = fakeEditorClient(server.context, 'buffers');
    editor.features.buffers.tooLarge('file:///tmp/huge.log', 12_000_000);
    editor.features.buffers.tooLarge('file:///tmp/huge.log', 12_000_001);
    expect(editor.editor.said()).toEqual([expect.stringMatching(/^codeloop: file:\/\/\/tmp\/huge\.log is 12,000,000 characters, over the limit of /)]);
  });
});

describe('the session follower talks to the editor only through the channel', () => {
  it('follows a session it started: progress saying what happens, then what to do next; Apply sends the edit', SESSION_TEST, async () => {
    const { editors: [editor], root } = await workspace([{ kind: 'text', content: '1. Fix add' }, edit('a - b', 'a + b'), done]);
    const { sessionId } = await editor.command('codeloop.startTask', 'make add add');
    await waitState(editor, sessionId, 'awaitingApproval');
    await until(() => editor.editor.said().some((text) => text.startsWith('codeloop: proposal ready')), 'the proposal message');
    const begin = editor.editor.progress.find((event) => event.kind === 'begin' && event.title === 'codeloop "make add add"');
    expect(begin).toMatchObject({ message: 'planning', cancellable: true });
    const progress = editor.editor.progress.filter((event) => event.id === begin!.id);
    expect(progress.filter((event) => event.kind === 'report').map((event) => 'message' in event && event.message)).toContain('editing src/math.js');
    expect(progress.at(-1)).toEqual({ kind: 'done', id: begin!.id });
    expect(editor.editor.messages.at(-1)).toEqual({
      severity: 'warning',
      text: 'codeloop: proposal ready for "make add add" — no tests ran: no test command found (set agent.testCommand in .codeloop.json): code action "Apply proposal", "Show proposal" or "Reject proposal"',
    });

    expect(await editor.command('codeloop.applyProposal', sessionId)).toEqual({ applied: true, conflicts: [] });
    expect(editor.editor.edits).toEqual([{ label: 'codeloop: make add add', edit: { documentChanges: [expect.objectContaining({ textDocument: { uri: pathToFileURL(path.join(root, 'src/math.js')).href, version: null } })] } }]);
    expect(stateOf(editor, sessionId)).toBe('applied');
  });

  it('auto-applies a proposal within the rules, saying so; an editor refusing the edit leaves the proposal waiting, with an error naming it', SESSION_TEST, async () => {
    const { editors: [editor] } = await workspace([{ kind: 'text', content: '1. Fix add' }, edit('a - b', 'a + b'), done], { autoApply: { maxChangedLines: 10, protectedGlobs: [] } });
    editor.editor.answerEdits = { applied: false, failureReason: 'the buffer changed meanwhile' };
    const { sessionId } = await editor.command('codeloop.startTask', 'make add add');
    await until(() => editor.editor.said().some((text) => text.startsWith('codeloop: could not auto-apply')), 'the auto-apply outcome', 90_000);
    expect(editor.editor.said().slice(-2)).toEqual([
      'codeloop: first-editor did not apply the proposal "make add add": the buffer changed meanwhile',
      'codeloop: could not auto-apply "make add add"; it waits for you: code action "Apply proposal", "Show proposal" or "Reject proposal"',
    ]);
    expect(stateOf(editor, sessionId)).toBe('awaitingApproval');

    editor.editor.answerEdits = { applied: true };
    expect(await editor.command('codeloop.applyProposal')).toEqual({ applied: true, conflicts: [] });
    expect(editor.editor.edits).toHaveLength(2);
    expect(stateOf(editor, sessionId)).toBe('applied');
  });

  it('announces a session another editor applied to the one that started it, never to the one that applied it', SESSION_TEST, async () => {
    const { editors: [first, second] } = await workspace([{ kind: 'text', content: '1. Fix add' }, edit('a - b', 'a + b'), done], {}, ['first-editor', 'second-editor']);
    const { sessionId } = await first.command('codeloop.startTask', 'make add add');
    await waitState(first, sessionId, 'awaitingApproval');
    expect(await second.command('codeloop.applyProposal')).toEqual({ applied: true, conflicts: [] });
    await until(() => first.editor.said().includes('codeloop: session "make add add" (from another editor) applied'), 'the announcement');
    expect(second.editor.said().filter((text) => text.includes('(from another editor)'))).toEqual([]);
    expect(second.editor.edits).toHaveLength(1);
    expect(first.editor.edits).toHaveLength(0);
  });

  it('apply leaves out a file another editor holds unsaved, naming that editor', SESSION_TEST, async () => {
    const { editors: [helix, neovim], uri } = await workspace([{ kind: 'text', content: '1. Fix add' }, edit('a - b', 'a + b'), done], {}, ['helix', 'Neovim 0.10']);
    const { sessionId } = await helix.command('codeloop.startTask', 'make add add');
    await waitState(helix, sessionId, 'awaitingApproval');
    neovim.open(uri('src/math.js'), `${MATH}// unsaved in Neovim\n`);
    expect(await helix.command('codeloop.applyProposal')).toEqual({
      applied: false,
      conflicts: ['src/math.js: Neovim 0.10 (another editor) has unsaved changes to this file; save or close it there, then try again (codeloop does not write under another editor\'s unsaved typing)'],
    });
    expect(helix.editor.edits).toEqual([]);
    expect(helix.editor.messages.at(-1)).toEqual({
      severity: 'warning',
      text: 'codeloop: not applied: src/math.js: Neovim 0.10 (another editor) has unsaved changes to this file; save or close it there, then try again (codeloop does not write under another editor\'s unsaved typing)',
    });
    neovim.close(uri('src/math.js'));
    expect(await helix.command('codeloop.applyProposal')).toEqual({ applied: true, conflicts: [] });
  });

  it('does not auto-apply over another editor\'s unsaved buffer: it says which file and why, and the proposal waits', SESSION_TEST, async () => {
    const { editors: [helix, neovim], uri } = await workspace([{ kind: 'text', content: '1. Fix add' }, edit('a - b', 'a + b'), done],
      { autoApply: { maxChangedLines: 10, protectedGlobs: [] } }, ['helix', 'Neovim 0.10']);
    neovim.open(uri('src/math.js'), `${MATH}// unsaved in Neovim\n`);
    const { sessionId } = await helix.command('codeloop.startTask', 'make add add');
    await until(() => helix.editor.said().some((text) => text.startsWith('codeloop: could not auto-apply')), 'the auto-apply outcome', 90_000);
    expect(helix.editor.said().slice(-2)).toEqual([
      'codeloop: not applied: src/math.js: Neovim 0.10 (another editor) has unsaved changes to this file; save or close it there, then try again (codeloop does not write under another editor\'s unsaved typing)',
      'codeloop: could not auto-apply "make add add"; it waits for you: code action "Apply proposal", "Show proposal" or "Reject proposal"',
    ]);
    expect(helix.editor.edits).toEqual([]);
    expect(stateOf(helix, sessionId)).toBe('awaitingApproval');
  });

  it('opens an explanation as a document when the session ends', SESSION_TEST, async () => {
    const { editors: [editor], uri } = await workspace([
      { kind: 'text', content: '1. Read add' },
      { kind: 'tools', calls: [{ name: 'done', arguments: { summary: 'add subtracts its arguments.' } }] },
    ]);
    const { sessionId } = await editor.command('codeloop.startTask', { prompt: 'Explain add', kind: 'explain', uri: uri('src/math.js') });
    await until(() => editor.editor.shownDocuments.length > 0, 'the explanation document', 90_000);
    expect(stateOf(editor, sessionId)).toBe('finished');
    expect(fs.readFileSync(fileURLToPath(editor.editor.shownDocuments[0]), 'utf8')).toContain('add subtracts its arguments.');
    expect(editor.editor.said()).toContain('codeloop: explanation ready for "Explain add" (opened as a document)');
  });
});
