import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeModel, type FakeModel, type FakeStep } from '../fake-model/fake-model-server.js';
import { makeStateHome, makeTree, removeTree } from '../helpers/fixture-tree.js';
import { startLspClient, type TestLspClient } from '../helpers/lsp-client.js';
import { runCli } from '../helpers/run-cli.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const MATH = 'exports.add = (a, b) => a - b;\nexports.sub = (a, b) => a - b;\n';
const NOTES = '# notes\nadd adds now\n';

const plan: FakeStep = { kind: 'text', content: '1. Fix add\n2. Write notes' };
const fixAdd: FakeStep = { kind: 'tools', calls: [{ name: 'propose_edit', arguments: { path: 'src/math.js', blocks: [{ search: '(a, b) => a - b;\nexports.sub', replace: '(a, b) => a + b;\nexports.sub' }] } }] };
const listFiles: FakeStep = { kind: 'tools', calls: [{ name: 'list_files', arguments: { path: 'src' } }] };
const writeNotes: FakeStep = { kind: 'tools', calls: [{ name: 'propose_edit', arguments: { path: 'NOTES.md', content: NOTES } }] };
const done: FakeStep = { kind: 'tools', calls: [{ name: 'done', arguments: { summary: 'add adds' } }] };

async function setup(steps: FakeStep[], { daemon = false } = {}) {
  const root = fs.realpathSync(makeTree({
    'package.json': JSON.stringify({ name: 'calc', scripts: { test: 'node test.js' } }),
    'src/math.js': MATH,
    'test.js': "const { add } = require('./src/math');\nif (add(2, 3) !== 5) { console.error('add(2, 3) should be 5'); process.exit(1); }\n",
  }, { git: true }));
  const state = makeStateHome();
  const fake = await startFakeModel(steps);
  fs.mkdirSync(path.join(state, 'config', 'codeloop'), { recursive: true });
  fs.writeFileSync(path.join(state, 'config', 'codeloop', 'config.json'), JSON.stringify({
    model: { baseURL: fake.baseURL, model: 'fake', maxRetries: 0, toolCalls: 'native' },
    agent: { autoApprovePlan: true, commandTimeoutSeconds: 30 },
  }));
  const env = { ...process.env, OPENAI_API_KEY: 'sk-rewind-test', XDG_STATE_HOME: state, XDG_CONFIG_HOME: path.join(state, 'config'), CODELOOP_RUNTIME_DIR: path.join(state, 'runtime') };
  cleanups.push(() => removeTree(root, state), () => fake.close());
  const client = startLspClient(daemon ? [] : ['--standalone'], env);
  cleanups.push(() => client.close());
  if (daemon) cleanups.push(() => runCli(['daemon', 'stop'], { stateHome: state, env }));
  await client.initialize(root, 'rewind-test');
  const uri = pathToFileURL(path.join(root, 'src/math.js')).href;
  return { root, state, fake, client, uri };
}

const at0 = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };

function waitState(client: TestLspClient, sessionId: string, state: string) {
  return client.waitForNotification('codeloop/sessionUpdate', (p) => p.sessionId === sessionId && p.state === state, 60_000);
}

/** The `window/showMessage` texts the editor was shown, in order. */
function shown(client: TestLspClient): string[] {
  return client.notifications.filter((n) => n.method === 'window/showMessage').map((n) => (n.params as { message: string }).message);
}

function codeActions(client: TestLspClient, uri: string): Promise<{ title: string; command: { command: string; arguments: unknown[] } }[]> {
  return client.connection.sendRequest('textDocument/codeAction', { textDocument: { uri }, range: at0, context: { diagnostics: [] } });
}

function execute(client: TestLspClient, command: string, args?: unknown[]): Promise<any> {
  return client.connection.sendRequest('workspace/executeCommand', { command, arguments: args });
}

/** Every text the model was sent in a request, joined. */
function prompt(fake: FakeModel, index: number): string {
  return JSON.stringify(fake.requests[index].messages);
}

describe('rewind a session to a turn (LSP)', () => {
  it('steps back and to a named turn; resumed, the model goes on from that turn with the workspace as it was then', async () => {
    const { client, fake, uri, root, state } = await setup([plan, fixAdd, listFiles, writeNotes, done, done]);
    const { sessionId } = await client.connection.sendRequest<any>('codeloop/startTask', { prompt: 'fix add', uri });
    const first = await waitState(client, sessionId, 'awaitingApproval');
    expect(first.event.data.files).toEqual(['NOTES.md', 'src/math.js']);
    const detail = await client.connection.sendRequest<any>('codeloop/getSession', { sessionId });
    expect(detail.checkpoints.map((checkpoint: { turn: number; files: string[] }) => [checkpoint.turn, checkpoint.files]))
      .toEqual([[0, []], [1, []], [2, ['src/math.js']], [3, []], [4, ['NOTES.md']]]);

    // The CLI (no daemon runs) cannot take the proposal from the standalone server holding its workspace.
    const refused = runCli(['sessions', 'rewind', sessionId, '2'], { cwd: root, stateHome: state });
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain(`session ${sessionId}'s proposal is held by the process that made it (pid ${client.child.pid}, \`codeloop run\` or a codeloop server): rewind it there, or once that process has stopped`);

    // As Helix sends it: the command with no arguments steps the newest waiting session back over turn 4.
    expect(await execute(client, 'codeloop.rewindSession')).toEqual({ turn: 3 });
    await waitState(client, sessionId, 'interrupted');
    await expect.poll(() => shown(client), { timeout: 30_000 }).toContain('codeloop: rewound "fix add" to turn 3 (undoing NOTES.md); it waits until you resume it');
    expect(await execute(client, 'codeloop.rewindSession', [{ sessionId, turn: 2 }])).toEqual({ turn: 2 });
    const badTurn = client.connection.sendRequest('codeloop/rewind', { sessionId, turn: 3 });
    await expect(badTurn).rejects.toThrow(`session ${sessionId} has no checkpoint at turn 3; it can be rewound to turn 0, 1, 2`);
    const after = await client.connection.sendRequest<any>('codeloop/getSession', { sessionId });
    expect(after).toMatchObject({ state: 'interrupted', proposal: null, diff: null });

    const requestsBefore = fake.requests.length;
    const resume = (await codeActions(client, uri)).find((action) => action.command.command === 'codeloop.resumeSession');
    expect(resume?.title).toBe('codeloop: Resume session "fix add"');
    await execute(client, resume!.command.command, resume!.command.arguments);
    const proposals = () => client.notifications.filter((n) => n.method === 'codeloop/sessionUpdate' && (n.params as any).sessionId === sessionId && (n.params as any).state === 'awaitingApproval');
    await expect.poll(() => proposals().length, { timeout: 60_000 }).toBe(2);
    const second = proposals()[1].params as any;
    // The notes of turn 4 are gone from the workspace and from the conversation; the fix of turn 2 stays.
    expect(second.event.data.files).toEqual(['src/math.js']);
    expect(second.event.data.diff).toContain('+exports.add = (a, b) => a + b;');
    const resumed = prompt(fake, requestsBefore);
    expect(resumed).toContain('rewound this session to turn 2');
    expect(resumed).toContain('a + b');
    expect(resumed).not.toContain('add adds now');
    expect(resumed).not.toContain('list_files');
  });

  it('the CLI rewinds a proposal the daemon holds through the daemon; the editor hears of it and resumes it', async () => {
    const { client, fake, uri, root, state } = await setup([plan, fixAdd, writeNotes, done, done], { daemon: true });
    const { sessionId } = await client.connection.sendRequest<any>('codeloop/startTask', { prompt: 'fix add', uri });
    await waitState(client, sessionId, 'awaitingApproval');
    const rewound = runCli(['sessions', 'rewind', sessionId], { cwd: root, stateHome: state, env: client.env });
    expect(rewound.stdout, rewound.stderr).toBe(`rewound session ${sessionId} to turn 2 (undoing NOTES.md); it waits (interrupted) until you resume it\n`);
    await waitState(client, sessionId, 'interrupted');
    const requestsBefore = fake.requests.length;
    await client.connection.sendRequest('codeloop/resume', { sessionId });
    await expect.poll(() => fake.requests.length, { timeout: 60_000 }).toBeGreaterThan(requestsBefore);
    const proposal = await client.waitForNotification('codeloop/sessionUpdate',
      (p) => p.sessionId === sessionId && p.state === 'awaitingApproval' && p.event.type === 'proposal' && !p.event.data.files.includes('NOTES.md'), 60_000);
    expect(proposal.event.data.files).toEqual(['src/math.js']);
  });

  it('refuses a session at work (pause it first) and one that has ended', async () => {
    const { client, uri } = await setup([plan, fixAdd, done]);
    const { sessionId } = await client.connection.sendRequest<any>('codeloop/startTask', { prompt: 'fix add', uri });
    await waitState(client, sessionId, 'awaitingApproval');
    await client.connection.sendRequest('codeloop/applyProposal', { sessionId });
    await expect(client.connection.sendRequest('codeloop/rewind', { sessionId, turn: 1 }))
      .rejects.toThrow(`session ${sessionId} is applied; only a session that is interrupted or has a proposal waiting can be rewound`);
    await expect(execute(client, 'codeloop.rewindSession')).rejects.toThrow('codeloop.rewindSession: no session is awaitingApproval or interrupted');
  });
});

describe('revert an applied proposal (LSP)', () => {
  it('the code action sends the inverse edit; the files are as before and the session reverted', async () => {
    const { client, uri, root } = await setup([plan, fixAdd, writeNotes, done]);
    const { sessionId } = await client.connection.sendRequest<any>('codeloop/startTask', { prompt: 'fix add', uri });
    await waitState(client, sessionId, 'awaitingApproval');
    expect((await codeActions(client, uri)).some((action) => action.command.command === 'codeloop.revertProposal')).toBe(false);
    await client.connection.sendRequest('codeloop/applyProposal', { sessionId });
    expect(fs.readFileSync(path.join(root, 'NOTES.md'), 'utf8')).toBe(NOTES);

    const revert = (await codeActions(client, uri)).find((action) => action.command.command === 'codeloop.revertProposal');
    expect(revert?.title).toBe('codeloop: Revert applied proposal "fix add" (+3 −1 in 2 files)');
    expect(await execute(client, revert!.command.command, revert!.command.arguments)).toEqual({ reverted: true, conflicts: [] });
    expect(fs.readFileSync(path.join(root, 'src/math.js'), 'utf8')).toBe(MATH);
    expect(fs.existsSync(path.join(root, 'NOTES.md'))).toBe(false);
    await waitState(client, sessionId, 'reverted');
    await expect.poll(() => shown(client), { timeout: 30_000 }).toContain('codeloop: reverted "fix add" (NOTES.md, src/math.js)');
    expect((await codeActions(client, uri)).some((action) => action.command.command === 'codeloop.revertProposal')).toBe(false);
  });

  it('a line edited in the buffer since the apply is reported, not overwritten; the untouched file is reverted; after a fix the revert completes', async () => {
    const { client, uri, root } = await setup([plan, fixAdd, writeNotes, done]);
    const { sessionId } = await client.connection.sendRequest<any>('codeloop/startTask', { prompt: 'fix add', uri });
    await waitState(client, sessionId, 'awaitingApproval');
    await client.connection.sendRequest('codeloop/applyProposal', { sessionId });
    const applied = fs.readFileSync(path.join(root, 'src/math.js'), 'utf8');
    // The user changes the line the proposal changed, unsaved.
    const edited = applied.replace('a + b', 'b + a');
    await client.connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'javascript', version: 1, text: edited } });

    const result = await client.connection.sendRequest('codeloop/revert', { sessionId });
    expect(result).toEqual({ reverted: true, conflicts: ["src/math.js: the revert's change to line 1 conflicts with your edit, now line 1"] });
    expect(fs.existsSync(path.join(root, 'NOTES.md'))).toBe(false);
    expect(fs.readFileSync(path.join(root, 'src/math.js'), 'utf8')).toBe(applied);
    await expect.poll(() => shown(client), { timeout: 30_000 })
      .toContain('codeloop: reverted NOTES.md of "fix add"; not reverted: src/math.js: the revert\'s change to line 1 conflicts with your edit, now line 1');
    expect((await client.connection.sendRequest<any>('codeloop/getSession', { sessionId })).state).toBe('applied');

    // The user puts the line back: the revert goes through, as the command without arguments (Helix).
    await client.connection.sendNotification('textDocument/didChange', { textDocument: { uri, version: 2 }, contentChanges: [{ text: applied }] });
    expect(await execute(client, 'codeloop.revertProposal')).toEqual({ reverted: true, conflicts: [] });
    await waitState(client, sessionId, 'reverted');
    expect(client.appliedEdits.at(-1).edit.documentChanges[0].textDocument).toEqual({ uri, version: 2 });
  });
});
