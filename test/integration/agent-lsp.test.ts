import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeModel, type FakeStep } from '../fake-model/fake-model-server.js';
import { makeStateHome, makeTree, removeTree } from '../helpers/fixture-tree.js';
import { startLspClient, type TestLspClient } from '../helpers/lsp-client.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const MATH = 'exports.add = (a, b) => a - b; // codeloop: make add add\n';

async function setup(steps: FakeStep[], agent: Record<string, unknown> = {}, files: Record<string, string> = {}) {
  const root = makeTree({
    'package.json': JSON.stringify({ name: 'calc', scripts: { test: 'node test.js' } }),
    'src/math.js': MATH,
    'test.js': "const { add } = require('./src/math');\nif (add(2, 3) !== 5) { console.error('add(2, 3) should be 5, got ' + add(2, 3)); process.exit(1); }\n",
    ...files,
  }, { git: true });
  const state = makeStateHome();
  const fake = await startFakeModel(steps);
  fs.mkdirSync(path.join(state, 'config', 'codeloop'), { recursive: true });
  fs.writeFileSync(path.join(state, 'config', 'codeloop', 'config.json'), JSON.stringify({
    model: { baseURL: fake.baseURL, model: 'fake', maxRetries: 0 }, agent: { autoApprovePlan: true, commandTimeoutSeconds: 30, ...agent },
  }));
  const client: TestLspClient = startLspClient(['--standalone'], { ...process.env, OPENAI_API_KEY: 'sk-lsp-test', XDG_STATE_HOME: state, XDG_CONFIG_HOME: path.join(state, 'config') });
  cleanups.push(() => removeTree(root, state), () => fake.close(), () => client.close());
  await client.initialize(root, 'agent-test');
  await expect.poll(() => client.progress.some((p: any) => p.kind === 'end'), { timeout: 30_000 }).toBe(true);
  return { root, client, fake, uri: pathToFileURL(path.join(fs.realpathSync(root), 'src/math.js')).href };
}

const edit = (search: string, replace: string): FakeStep => ({ kind: 'tools', calls: [{ name: 'propose_edit', arguments: { path: 'src/math.js', blocks: [{ search, replace }] } }] });
const done: FakeStep = { kind: 'tools', calls: [{ name: 'done', arguments: { summary: 'done' } }] };
const at = (line: number) => ({ start: { line, character: 0 }, end: { line, character: 0 } });

async function actions(client: TestLspClient, uri: string): Promise<any[]> {
  return client.connection.sendRequest('textDocument/codeAction', { textDocument: { uri }, range: at(0), context: { diagnostics: [] } });
}

describe('the agent through LSP', () => {
  it('comment task → session updates → tests fail → repair → proposal → apply through workspace/applyEdit', async () => {
    const { root, client, uri } = await setup([
      { kind: 'text', content: '1. Fix add' },
      edit('a - b', 'a * b'), done,
      edit('a * b', 'a + b; // fixed'), done,
    ]);
    const task = (await actions(client, uri)).find((action) => action.title.startsWith('codeloop: Run task in comment'));
    expect(task.command.arguments[0]).toMatchObject({ prompt: 'make add add', kind: 'commentTask' });
    const { sessionId } = await client.connection.sendRequest<any>('workspace/executeCommand', task.command);

    const proposal = await client.waitForNotification('codeloop/sessionUpdate', (p) => p.sessionId === sessionId && p.state === 'awaitingApproval', 20_000);
    expect(proposal.event.type).toBe('proposal');
    const updates = client.notifications.filter((n) => n.method === 'codeloop/sessionUpdate').map((n: any) => n.params.event.type);
    expect(updates).toEqual(expect.arrayContaining(['plan', 'toolCall', 'toolResult', 'testRun', 'proposal']));
    const testRuns = client.notifications.filter((n: any) => n.method === 'codeloop/sessionUpdate' && n.params.event.type === 'testRun').map((n: any) => n.params.event.data.exitCode);
    expect(testRuns).toEqual([1, 0]);
    expect(fs.readFileSync(path.join(root, 'src/math.js'), 'utf8')).toBe(MATH); // nothing written before approval
    expect(client.progress).toContainEqual(expect.objectContaining({ kind: 'report', message: expect.stringMatching(/^model writing… \d+ characters$/) }));

    const offered = (await actions(client, uri)).map((action) => action.title);
    expect(offered).toContain('codeloop: Apply proposal "make add add" (+1 −1 in 1 files; tests passed)');
    await client.connection.sendRequest('workspace/executeCommand', { command: 'codeloop.showProposal', arguments: [sessionId] });
    expect(client.shownDocuments[0].uri).toMatch(/proposals\/.*\.diff$/);

    const result = await client.connection.sendRequest<any>('workspace/executeCommand', { command: 'codeloop.applyProposal', arguments: [{ sessionId }] });
    expect(result).toEqual({ applied: true, conflicts: [] });
    expect(client.appliedEdits[0].edit.documentChanges[0]).toMatchObject({ textDocument: { uri, version: null } });
    expect(fs.readFileSync(path.join(root, 'src/math.js'), 'utf8')).toBe('exports.add = (a, b) => a + b; // fixed; // codeloop: make add add\n');
    const session = await client.connection.sendRequest<any>('codeloop/getSession', { sessionId });
    expect(session).toMatchObject({ state: 'applied', plan: '1. Fix add' });
    expect(session.events.map((event: any) => event.type)).toContain('testRun');
  });

  it('rejection with feedback sends the session back to work; the user\'s unsaved typing is never clobbered', async () => {
    const { client, uri, fake } = await setup([
      { kind: 'text', content: '1. Fix add' },
      edit('a - b', 'a + b'), done,
      edit('a + b', 'b + a'), done,
    ]);
    const { sessionId } = await client.connection.sendRequest<any>('codeloop/startTask', { prompt: 'fix add', uri, range: at(0) });
    await client.waitForNotification('codeloop/sessionUpdate', (p) => p.sessionId === sessionId && p.state === 'awaitingApproval', 20_000);
    await client.connection.sendRequest('codeloop/reject', { sessionId, feedback: 'write it as b + a' });
    await client.waitForNotification('codeloop/sessionUpdate', (p) => p.sessionId === sessionId && p.event.type === 'proposal' && p.event.data.diff.includes('b + a'), 20_000);
    expect(JSON.stringify(fake.requests.at(-2)!.messages)).toContain('write it as b + a');

    // The user types on the changed line meanwhile: applying must report that hunk, not overwrite the typing.
    await client.connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'javascript', version: 1, text: MATH } });
    await client.connection.sendNotification('textDocument/didChange', { textDocument: { uri, version: 2 }, contentChanges: [{ text: `// typed by the user\n${MATH.replace('a - b', 'a - b - 0')}` }] });
    const result = await client.connection.sendRequest<any>('codeloop/applyProposal', { sessionId });
    expect(result).toEqual({ applied: false, conflicts: ['src/math.js: the proposal\'s change to line 1 conflicts with your edit, now lines 1-2'] });
    expect(client.appliedEdits).toHaveLength(0);
    const listed = await client.connection.sendRequest<any>('codeloop/listSessions', {});
    expect(listed.sessions).toEqual([expect.objectContaining({ sessionId, state: 'awaitingApproval' })]);

    // Typing elsewhere is kept: the proposal's hunk goes where its line is now, pinned to the buffer's version.
    await client.connection.sendNotification('textDocument/didChange', { textDocument: { uri, version: 3 }, contentChanges: [{ text: `// typed by the user\n${MATH}` }] });
    expect(await client.connection.sendRequest<any>('codeloop/applyProposal', { sessionId })).toEqual({ applied: true, conflicts: [] });
    expect(client.appliedEdits[0].edit.documentChanges).toEqual([{
      textDocument: { uri, version: 3 },
      edits: [{ range: { start: { line: 1, character: 0 }, end: { line: 2, character: 0 } }, newText: MATH.replace('a - b', 'b + a') }],
    }]);
  });

  it('applies a proposal over later edits of the saved file that do not touch its hunks, and names each hunk that conflicts', async () => {
    const calc = 'function total(items) {\n  let sum = 0;\n  for (const item of items) sum += item;\n  return sum;\n}\n\nfunction average(items) {\n  return total(items) / items.length;\n}\n';
    const calcEdit = (search: string, replace: string) => ({ name: 'propose_edit', arguments: { path: 'src/calc.js', edit: { kind: 'blocks', blocks: [{ search, replace }] } } });
    const { root, client } = await setup([
      { kind: 'text', content: '1. Guard empty lists' },
      { kind: 'tools', calls: [calcEdit('  let sum = 0;', '  let sum = 0; // running total'), calcEdit('  return total(items) / items.length;', '  return items.length ? total(items) / items.length : 0;')] }, done,
    ], {}, { 'src/calc.js': calc, 'test.js': '' });
    const { sessionId } = await client.connection.sendRequest<any>('codeloop/startTask', { prompt: 'guard empty lists' });
    await client.waitForNotification('codeloop/sessionUpdate', (p) => p.sessionId === sessionId && p.state === 'awaitingApproval', 20_000);
    const file = path.join(root, 'src/calc.js');

    fs.writeFileSync(file, calc.replace('  return total(items) / items.length;', '  return total(items) / (items.length || 1);'));
    const conflict = await client.connection.sendRequest<any>('codeloop/applyProposal', { sessionId });
    expect(conflict).toEqual({ applied: false, conflicts: ['src/calc.js: the proposal\'s change to line 8 conflicts with your edit, now line 8'] });
    expect(client.appliedEdits).toHaveLength(0);

    // The file became a link out of the workspace: nothing is sent, nothing outside is written
    const outside = makeTree({ 'calc.js': calc });
    cleanups.push(() => removeTree(outside));
    fs.rmSync(file);
    fs.symlinkSync(path.join(outside, 'calc.js'), file);
    const linked = await client.connection.sendRequest<any>('codeloop/applyProposal', { sessionId });
    expect(linked).toEqual({ applied: false, conflicts: [expect.stringMatching(/^src\/calc\.js: not applied: path "src\/calc\.js" leads outside the workspace through the symlink src\/calc\.js ->/)] });
    expect(client.appliedEdits).toHaveLength(0);
    expect(fs.readFileSync(path.join(outside, 'calc.js'), 'utf8')).toBe(calc);
    fs.rmSync(file);

    const saved = `// Copyright the user\n${calc}\nmodule.exports = { total, average };\n`;
    fs.writeFileSync(file, saved);
    expect(await client.connection.sendRequest<any>('codeloop/applyProposal', { sessionId })).toEqual({ applied: true, conflicts: [] });
    expect(fs.readFileSync(file, 'utf8')).toBe(saved.replace('  let sum = 0;', '  let sum = 0; // running total')
      .replace('  return total(items) / items.length;', '  return items.length ? total(items) / items.length : 0;'));
    expect((await client.connection.sendRequest<any>('codeloop/getSession', { sessionId })).state).toBe('applied');
  });

  it('applies to a CRLF file that the editor hands over with LF breaks (Emacs), in the buffer\'s breaks, with no conflict', async () => {
    const crlf = 'function total(items) {\r\n  let sum = 0;\r\n  return sum;\r\n}\r\n';
    const { root, client } = await setup([
      { kind: 'text', content: '1. Sum the items' },
      { kind: 'tools', calls: [{ name: 'propose_edit', arguments: { path: 'src/calc.js', edit: { kind: 'blocks', blocks: [{ search: '  let sum = 0;\n', replace: '  let sum = 0;\n  for (const item of items) sum += item;\n' }] } } }] }, done,
    ], {}, { 'src/calc.js': crlf, 'test.js': '' });
    const { sessionId } = await client.connection.sendRequest<any>('codeloop/startTask', { prompt: 'sum the items' });
    await client.waitForNotification('codeloop/sessionUpdate', (p) => p.sessionId === sessionId && p.state === 'awaitingApproval', 20_000);
    // Eglot sends an Emacs buffer's text: a CRLF file's lines end in LF there, and Emacs writes CRLF back on save.
    const uri = pathToFileURL(path.join(fs.realpathSync(root), 'src/calc.js')).href;
    await client.connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'javascript', version: 1, text: crlf.replaceAll('\r\n', '\n') } });
    await client.connection.sendNotification('textDocument/didChange', { textDocument: { uri, version: 2 }, contentChanges: [{ text: `// typed\n${crlf.replaceAll('\r\n', '\n')}` }] });
    expect(await client.connection.sendRequest<any>('codeloop/applyProposal', { sessionId })).toEqual({ applied: true, conflicts: [] });
    expect(client.appliedEdits[0].edit.documentChanges).toEqual([{
      textDocument: { uri, version: 2 },
      edits: [{ range: { start: { line: 3, character: 0 }, end: { line: 3, character: 0 } }, newText: '  for (const item of items) sum += item;\n' }],
    }]);
  });

  it('refuses a task on a file reached through a link out of the workspace or a percent-encoded climb, saying why', async () => {
    const { root, client } = await setup([]);
    const outside = makeTree({});
    cleanups.push(() => removeTree(outside));
    fs.symlinkSync(path.join(outside, 'new.txt'), path.join(root, 'notes'));
    const rootUri = pathToFileURL(fs.realpathSync(root)).href;
    await expect(client.connection.sendRequest('codeloop/startTask', { prompt: 'write notes', uri: `${rootUri}/notes` }))
      .rejects.toThrow(/path ".*\/notes" leads outside the workspace through the symlink notes -> /);
    await expect(client.connection.sendRequest('codeloop/startTask', { prompt: 'write notes', uri: `${rootUri}/src/%2e%2e/%2E%2E/x` }))
      .rejects.toThrow(/is not inside any workspace folder this client opened/);
    expect(fs.readdirSync(outside)).toEqual([]);
  });

  it('waits for plan approval unless auto-approved, and offers the approval as a code action', async () => {
    const { client, uri } = await setup([
      { kind: 'text', content: '1. Fix add\n2. Test' },
      edit('a - b', 'a + b'), done,
    ], { autoApprovePlan: false });
    const { sessionId } = await client.connection.sendRequest<any>('codeloop/startTask', { prompt: 'fix add' });
    await client.waitForNotification('codeloop/sessionUpdate', (p) => p.sessionId === sessionId && p.state === 'awaitingPlanApproval');
    const approve = (await actions(client, uri)).find((action) => action.command?.command === 'codeloop.approvePlan');
    expect(approve.title).toBe('codeloop: Approve plan "fix add"');
    await client.connection.sendRequest('workspace/executeCommand', approve.command);
    await client.waitForNotification('codeloop/sessionUpdate', (p) => p.sessionId === sessionId && p.state === 'awaitingApproval', 20_000);
    await client.connection.sendRequest('codeloop/cancel', { sessionId });
    expect((await client.connection.sendRequest<any>('codeloop/getSession', { sessionId })).state).toBe('cancelled');
  });

  it('cancelling while the plan awaits approval ends the session cleanly: no model call after it, no shadow left', async () => {
    const { client, fake } = await setup([{ kind: 'text', content: '1. Fix add' }, edit('a - b', 'a + b'), done], { autoApprovePlan: false });
    const { sessionId } = await client.connection.sendRequest<any>('codeloop/startTask', { prompt: 'fix add' });
    await client.waitForNotification('codeloop/sessionUpdate', (p) => p.sessionId === sessionId && p.state === 'awaitingPlanApproval');
    await client.connection.sendRequest('codeloop/cancel', { sessionId });
    expect((await client.connection.sendRequest<any>('codeloop/getSession', { sessionId })).state).toBe('cancelled');
    const approve = client.connection.sendRequest('codeloop/approvePlan', { sessionId });
    await expect(approve).rejects.toThrow(/cancelled/);
    const shadows = path.join(client.env.XDG_STATE_HOME!, 'codeloop', 'shadows');
    await expect.poll(() => fs.existsSync(shadows) ? fs.readdirSync(shadows) : [], { timeout: 30_000 }).toEqual([]);
    expect(fake.requests).toHaveLength(1);
  });

  it('a server killed while the session plans leaves it interrupted, never lost, its shadow reclaimed; resumed, it plans again and proposes', async () => {
    const { root, client, uri, fake } = await setup([{ kind: 'hang' }, { kind: 'text', content: '1. Fix add' }, edit('a - b', 'a + b'), done]);
    const { sessionId } = await client.connection.sendRequest<any>('codeloop/startTask', { prompt: 'fix add', uri });
    await expect.poll(() => fake.requests.length, { timeout: 30_000 }).toBe(1);
    const env = client.env;
    client.child.kill('SIGKILL');
    const shadows = path.join(env.XDG_STATE_HOME!, 'codeloop', 'shadows');
    expect(fs.readdirSync(shadows)).toEqual([sessionId]);

    const restarted = startLspClient(['--standalone'], env);
    cleanups.push(() => restarted.close());
    await restarted.initialize(root, 'after-restart');
    const session = await restarted.connection.sendRequest<any>('codeloop/getSession', { sessionId });
    expect(session).toMatchObject({ state: 'interrupted', error: null });
    expect(session.events.map((event: any) => event.data?.text)).toContain('the process running this session stopped; resume it to go on from its last step');
    expect(fs.readdirSync(shadows)).toEqual([]);

    await restarted.connection.sendRequest('codeloop/resume', { sessionId });
    const proposal = await restarted.waitForNotification('codeloop/sessionUpdate', (p) => p.sessionId === sessionId && p.state === 'awaitingApproval', 60_000);
    expect(proposal.event.data.diff).toContain('+exports.add = (a, b) => a + b;');
    // The plan was asked for again: the same request the killed server had sent.
    expect(JSON.stringify(fake.requests[1].messages)).toBe(JSON.stringify(fake.requests[0].messages));
  });

  it('shows an explanation as a document instead of proposing edits', async () => {
    const { client, uri } = await setup([
      { kind: 'text', content: '1. Read add' },
      { kind: 'tools', calls: [{ name: 'done', arguments: { summary: 'add subtracts its second argument from the first.' } }] },
    ]);
    const explain = (await actions(client, uri)).find((action) => action.title.startsWith('codeloop: Explain'));
    const { sessionId } = explain
      ? await client.connection.sendRequest<any>('workspace/executeCommand', explain.command)
      : await client.connection.sendRequest<any>('codeloop/startTask', { prompt: 'explain add', kind: 'explain', uri });
    await expect.poll(() => client.shownDocuments.length, { timeout: 20_000 }).toBe(1);
    const shown = client.shownDocuments[0].uri as string;
    expect(shown).toMatch(new RegExp(`explanations/${sessionId}\\.md$`));
    expect(fs.readFileSync(new URL(shown), 'utf8')).toContain('add subtracts its second argument');
  });

  it('a refactoring runs the tests before any edit and tells the model how they stand', async () => {
    const { client, uri, fake } = await setup([
      { kind: 'text', content: '1. Rename' },
      { kind: 'tools', calls: [{ name: 'done', arguments: { summary: 'nothing to change' } }] },
    ]);
    const { sessionId } = await client.connection.sendRequest<any>('codeloop/startTask', { prompt: 'tidy add', kind: 'refactor', uri });
    const baseline = await client.waitForNotification('codeloop/sessionUpdate', (p) => p.sessionId === sessionId && p.event.type === 'testRun' && p.event.data.baseline, 20_000);
    expect(baseline.event.data.exitCode).toBe(1);
    await expect.poll(() => fake.requests.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
    expect(JSON.stringify(fake.requests[1].messages)).toContain('The tests already fail before any change');
  });
});
