import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeModel, type FakeStep } from '../fake-model/fake-model-server.js';
import { makeStateHome, makeTree, removeTree } from '../helpers/fixture-tree.js';
import { startLspClient, waitUntilIndexed, type TestLspClient } from '../helpers/lsp-client.js';
import { daemonWorld } from '../helpers/daemon-world.js';
import { CLI_PATH, runCli } from '../helpers/run-cli.js';

/**
 * What a user sees at each decision, through LSP as an editor speaks it: the verdict in titles, documents and
 * messages; the plan as a document; actions that fit each state; progress that says what happens.
 */
/** Each test runs whole sessions (sandboxed test runs included): a bound that holds on a busy two-core machine. */
const SESSION_TEST = { timeout: 240_000 };
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const CALC = {
  'package.json': JSON.stringify({ name: 'calc', scripts: { test: 'node test.js' } }),
  'src/math.js': 'exports.add = (a, b) => a - b; // codeloop: make add add\n',
  'test.js': "const { add } = require('./src/math');\nif (add(2, 3) !== 5) { console.error('add(2, 3) should be 5, got ' + add(2, 3)); process.exit(1); }\n",
};

interface Setup {
  files?: Record<string, string>;
  agent?: Record<string, unknown>;
  capabilities?: unknown;
  initializationOptions?: unknown;
}

async function setup(steps: FakeStep[], options: Setup = {}) {
  const root = fs.realpathSync(makeTree(options.files ?? CALC, { git: true }));
  const state = makeStateHome();
  const fake = await startFakeModel(steps);
  fs.mkdirSync(path.join(state, 'config', 'codeloop'), { recursive: true });
  fs.writeFileSync(path.join(state, 'config', 'codeloop', 'config.json'), JSON.stringify({
    model: { baseURL: fake.baseURL, model: 'fake', maxRetries: 0 }, agent: { autoApprovePlan: true, commandTimeoutSeconds: 60, ...options.agent },
  }));
  const client = startLspClient(['--standalone'], { ...process.env, OPENAI_API_KEY: 'sk-editor-test', XDG_STATE_HOME: state, XDG_CONFIG_HOME: path.join(state, 'config') });
  cleanups.push(() => removeTree(root, state), () => fake.close(), () => client.close());
  await client.initialize(root, 'decisions-test', { capabilities: options.capabilities, initializationOptions: options.initializationOptions });
  await waitUntilIndexed(client.connection);
  const uri = (relative: string) => pathToFileURL(path.join(root, relative)).href;
  return { root, state, client, fake, uri };
}

const edit = (search: string, replace: string, file = 'src/math.js'): FakeStep => ({ kind: 'tools', calls: [{ name: 'propose_edit', arguments: { path: file, blocks: [{ search, replace }] } }] });
const done: FakeStep = { kind: 'tools', calls: [{ name: 'done', arguments: { summary: 'done' } }] };
const at = (line: number) => ({ start: { line, character: 0 }, end: { line, character: 0 } });

async function titles(client: TestLspClient, uri: string, line = 0): Promise<string[]> {
  const actions = await client.connection.sendRequest<any[]>('textDocument/codeAction', { textDocument: { uri }, range: at(line), context: { diagnostics: [] } });
  return actions.map((action) => action.title);
}

async function pick(client: TestLspClient, uri: string, prefix: string, line = 0): Promise<any> {
  const actions = await client.connection.sendRequest<any[]>('textDocument/codeAction', { textDocument: { uri }, range: at(line), context: { diagnostics: [] } });
  const found = actions.find((action) => action.title.startsWith(prefix));
  if (!found) throw new Error(`no action starting with ${prefix}; offered: ${actions.map((action) => action.title).join(' | ')}`);
  return found;
}

const run = (client: TestLspClient, action: any) => client.connection.sendRequest<any>('workspace/executeCommand', action.command);
const messages = (client: TestLspClient) => client.notifications.filter((n) => n.method === 'window/showMessage').map((n: any) => n.params);
const waitState = (client: TestLspClient, sessionId: string, state: string, timeoutMs = 120_000) =>
  client.waitForNotification('codeloop/sessionUpdate', (p) => p.sessionId === sessionId && p.state === state, timeoutMs);

describe('the verdict where the user decides', () => {
  it('a proposal whose tests still fail says so in the action title, the diff header, the message and getSession', SESSION_TEST, async () => {
    const { client, uri } = await setup([{ kind: 'text', content: '1. Fix add' }, edit('a - b', 'a * b'), done], { agent: { maxRepairs: 0 } });
    const { sessionId } = await run(client, await pick(client, uri('src/math.js'), 'codeloop: Run task in comment'));
    await waitState(client, sessionId, 'awaitingApproval');

    const offered = await titles(client, uri('src/math.js'));
    expect(offered).toContain('codeloop: Apply proposal "make add add" (+1 −1 in 1 files; tests FAILED)');
    expect(offered).toContain('codeloop: Show proposal "make add add" (tests FAILED (npm test); the tests still fail after 0 repairs)');
    await expect.poll(() => messages(client).find((m) => m.message.includes('proposal ready')), { timeout: 30_000 }).toEqual({
      type: 2, message: 'codeloop: proposal ready for "make add add" — tests FAILED (npm test); the tests still fail after 0 repairs: code action "Apply proposal", "Show proposal" or "Reject proposal"',
    });

    const { uri: diffUri } = await run(client, await pick(client, uri('src/math.js'), 'codeloop: Show proposal'));
    const diff = fs.readFileSync(new URL(diffUri), 'utf8');
    expect(diff.split('\n').slice(0, 3)).toEqual([
      '# proposal: make add add',
      '# verdict: tests FAILED (npm test); the tests still fail after 0 repairs',
      '# last failure:',
    ]);
    expect(diff).toContain('\n#   add(2, 3) should be 5, got 6\n');
    expect(diff).toContain('+exports.add = (a, b) => a * b;');
    const session = await client.connection.sendRequest<any>('codeloop/getSession', { sessionId });
    expect(session.verdict).toMatchObject({ tests: 'failed', command: 'npm test', caveat: 'the tests still fail after 0 repairs' });
  });

  it('a passing proposal is an Info message; progress says planning, editing, running the tests', SESSION_TEST, async () => {
    const { client, uri } = await setup([{ kind: 'text', content: '1. Fix add' }, edit('a - b', 'a + b'), done]);
    const { sessionId } = await run(client, await pick(client, uri('src/math.js'), 'codeloop: Run task in comment'));
    await waitState(client, sessionId, 'awaitingApproval');
    expect(await titles(client, uri('src/math.js'))).toContain('codeloop: Apply proposal "make add add" (+1 −1 in 1 files; tests passed)');
    await expect.poll(() => messages(client).find((m) => m.message.includes('proposal ready'))?.type, { timeout: 30_000 }).toBe(3);
    const reported = client.progress.map((p: any) => p.message);
    expect(reported).toEqual(expect.arrayContaining(['planning', 'editing src/math.js', 'running the tests (npm test)', 'tests passed', 'waiting for you: the proposal is ready']));
    expect(client.progress).toContainEqual(expect.objectContaining({ kind: 'begin', title: 'codeloop "make add add"' }));
  });

  it('a Python project with test_*.py and no pytest config runs pytest; a project without tests says no tests ran', SESSION_TEST, async () => {
    const python = await setup([{ kind: 'text', content: '1. Fix' }, edit('a - b', 'a + b', 'calc.py'), done], {
      files: { 'calc.py': 'def add(a, b):\n    return a - b\n', 'test_calc.py': 'from calc import add\n\ndef test_add():\n    assert add(2, 3) == 5\n' },
      agent: { maxRepairs: 0 },
    });
    const first = await python.client.connection.sendRequest<any>('codeloop/startTask', { prompt: 'fix add', uri: python.uri('calc.py') });
    await waitState(python.client, first.sessionId, 'awaitingApproval').catch(() => {
      throw new Error(JSON.stringify(python.client.notifications.slice(-5)));
    });
    // Whether the sandbox's python3 has pytest depends on the machine; that the tests ran, and how, does not.
    const verdict = (await python.client.connection.sendRequest<any>('codeloop/getSession', first)).verdict;
    expect(verdict).toMatchObject({ command: 'python3 -m pytest -q', tests: expect.stringMatching(/^(passed|failed)$/) });
    expect(verdict.text).toMatch(/^tests (passed|FAILED) \(python3 -m pytest -q\)/);

    const bare = await setup([{ kind: 'text', content: '1. Fix' }, edit('a - b', 'a + b', 'calc.lua'), done], { files: { 'calc.lua': 'return function(a, b) return a - b end\n' } });
    const second = await bare.client.connection.sendRequest<any>('codeloop/startTask', { prompt: 'fix add', uri: bare.uri('calc.lua') });
    await waitState(bare.client, second.sessionId, 'awaitingApproval');
    expect(await titles(bare.client, bare.uri('calc.lua'))).toContain('codeloop: Apply proposal "fix add" (+1 −1 in 1 files; no tests ran)');
    expect((await bare.client.connection.sendRequest<any>('codeloop/getSession', second)).verdict.text)
      .toBe('no tests ran: no test command found (set agent.testCommand in .codeloop.json)');
  });
});

describe('the plan, read and answered where it is approved', () => {
  it('opens the plan as a document; a codeloop: comment rejects it with feedback; the new plan is approved', SESSION_TEST, async () => {
    const { root, client, uri, fake } = await setup([
      { kind: 'text', content: '1. Multiply' }, { kind: 'text', content: '1. Add with +' }, edit('a - b', 'a + b'), done,
    ], { agent: { autoApprovePlan: false } });
    const { sessionId } = await run(client, await pick(client, uri('src/math.js'), 'codeloop: Run task in comment'));
    await waitState(client, sessionId, 'awaitingPlanApproval');
    await expect.poll(() => client.shownDocuments.length, { timeout: 30_000 }).toBe(1);
    const planFile = new URL(client.shownDocuments[0].uri);
    expect(fs.readFileSync(planFile, 'utf8')).toContain('# Plan: make add add\n\n1. Multiply\n');

    // While the plan waits, its own comment is no new task; the plan's actions are offered instead.
    expect(await titles(client, uri('src/math.js'))).toEqual(expect.arrayContaining([
      'codeloop: Approve plan "make add add"', 'codeloop: Show plan "make add add"',
      'codeloop: Reject plan "make add add" (ends the session; a codeloop: comment under the cursor is sent as feedback instead)',
    ]));
    expect((await titles(client, uri('src/math.js'))).some((title) => title.startsWith('codeloop: Run task in comment'))).toBe(false);

    fs.writeFileSync(path.join(root, 'notes.js'), '// codeloop: use plus, not times\n');
    await client.connection.sendNotification('textDocument/didOpen', { textDocument: { uri: uri('notes.js'), languageId: 'javascript', version: 1, text: '// codeloop: use plus, not times\n' } });
    const reject = await pick(client, uri('notes.js'), 'codeloop: Reject plan');
    expect(reject.title).toBe('codeloop: Reject plan "make add add" with feedback (use plus, not times)');
    await run(client, reject);
    await expect.poll(() => messages(client).map((m) => m.message), { timeout: 30_000 })
      .toContain('codeloop: sent your feedback on the plan of "make add add": it is planning again');
    await expect.poll(() => client.shownDocuments.length, { timeout: 30_000 }).toBe(2);
    expect(fs.readFileSync(planFile, 'utf8')).toContain('1. Add with +');
    expect(JSON.stringify(fake.requests[1].messages)).toContain('use plus, not times');

    await run(client, await pick(client, uri('src/math.js'), 'codeloop: Approve plan'));
    await waitState(client, sessionId, 'awaitingApproval');
  });
});

describe('actions that fit the state, from any client', () => {
  it('offers Cancel while a session runs; commands without arguments act on the newest fitting session', SESSION_TEST, async () => {
    const { client, uri } = await setup([{ kind: 'text', content: '1. Fix add' }, { kind: 'hang' }]);
    await client.connection.sendNotification('textDocument/didOpen', { textDocument: { uri: uri('src/math.js'), languageId: 'javascript', version: 3, text: CALC['src/math.js'] } });
    // Helix's command picker sends no arguments: the comment of the edited buffer is the task.
    const { sessionId } = await client.connection.sendRequest<any>('workspace/executeCommand', { command: 'codeloop.startTask' });
    expect((await client.connection.sendRequest<any>('codeloop/getSession', { sessionId })).prompt).toBe('make add add');
    await waitState(client, sessionId, 'working');
    expect(await titles(client, uri('src/math.js'))).toContain('codeloop: Cancel "make add add" (working)');
    expect((await titles(client, uri('src/math.js'))).some((title) => title.startsWith('codeloop: Run task in comment'))).toBe(false);
    await client.connection.sendRequest('workspace/executeCommand', { command: 'codeloop.cancelTask' });
    expect((await client.connection.sendRequest<any>('codeloop/getSession', { sessionId })).state).toBe('cancelled');
    expect(messages(client).map((m) => m.message)).toContain('codeloop: cancelled "make add add"');
    await expect(client.connection.sendRequest('workspace/executeCommand', { command: 'codeloop.applyProposal' }))
      .rejects.toMatchObject({ code: -32602, message: 'codeloop.applyProposal: no session is awaitingApproval in this editor\'s workspaces' });
  });

  it('rejects a proposal with the feedback of a codeloop: comment, and confirms it', SESSION_TEST, async () => {
    const { root, client, uri } = await setup([{ kind: 'text', content: '1. Fix add' }, edit('a - b', 'a + b'), done, edit('a + b', 'b + a'), done]);
    const { sessionId } = await run(client, await pick(client, uri('src/math.js'), 'codeloop: Run task in comment'));
    await waitState(client, sessionId, 'awaitingApproval');
    const plain = await pick(client, uri('src/math.js'), 'codeloop: Reject proposal');
    expect(plain.title).toBe('codeloop: Reject proposal "make add add" (discards it; a codeloop: comment under the cursor is sent as feedback instead)');
    fs.writeFileSync(path.join(root, 'src/math.js'), `${CALC['src/math.js']}// codeloop: write it as b + a\n`);
    await client.connection.sendNotification('textDocument/didOpen', { textDocument: { uri: uri('src/math.js'), languageId: 'javascript', version: 1, text: `${CALC['src/math.js']}// codeloop: write it as b + a\n` } });
    const withFeedback = await pick(client, uri('src/math.js'), 'codeloop: Reject proposal', 1);
    expect(withFeedback.title).toBe('codeloop: Reject proposal "make add add" with feedback (write it as b + a)');
    await run(client, withFeedback);
    expect(messages(client).map((m) => m.message)).toContain('codeloop: sent your feedback on the proposal of "make add add": it is working again');
    const revised = await client.waitForNotification('codeloop/sessionUpdate', (p) => p.sessionId === sessionId && p.event.type === 'proposal' && p.event.data.diff.includes('b + a'), 60_000);
    expect(revised.state).toBe('awaitingApproval');
  });

  it('an explanation ends as finished, never as applied', SESSION_TEST, async () => {
    const { client, uri } = await setup([{ kind: 'text', content: '1. Read' }, { kind: 'tools', calls: [{ name: 'done', arguments: { summary: 'add subtracts.' } }] }]);
    const { sessionId } = await client.connection.sendRequest<any>('codeloop/startTask', { prompt: 'explain add', kind: 'explain', uri: uri('src/math.js') });
    await waitState(client, sessionId, 'finished');
    await expect.poll(() => messages(client).map((m) => m.message), { timeout: 30_000 }).toContain('codeloop: explanation ready for "explain add" (opened as a document)');
    await expect.poll(() => client.shownDocuments.length, { timeout: 30_000 }).toBe(1);
  });
});

describe('edits that fit what the client advertised', () => {
  const newFile: FakeStep[] = [
    { kind: 'text', content: '1. Add a test' },
    { kind: 'tools', calls: [{ name: 'propose_edit', arguments: { path: 'test/add.test.js', content: "require('../src/math');\n" } }] },
    { kind: 'tools', calls: [{ name: 'propose_edit', arguments: { path: 'test.js', delete: true } }] },
    done,
  ];

  it.each([
    ['Eglot (documentChanges, no resource operations)', { workspace: { workspaceEdit: { documentChanges: true } } }, 'documentChanges'],
    ['a client advertising nothing', {}, 'changes'],
  ])('%s: a new file is an edit of its URI, a deleted one is removed by the daemon after the apply', SESSION_TEST, async (_name, capabilities, form) => {
    const { root, client, uri } = await setup(newFile, { capabilities, agent: { testCommand: 'true' } });
    const { sessionId } = await client.connection.sendRequest<any>('codeloop/startTask', { prompt: 'add a test', uri: uri('src/math.js') });
    await waitState(client, sessionId, 'awaitingApproval');
    expect(await client.connection.sendRequest('codeloop/applyProposal', { sessionId })).toEqual({ applied: true, conflicts: [] });
    const { edit: sent } = client.appliedEdits[0];
    expect(Object.keys(sent)).toEqual([form]);
    expect(JSON.stringify(sent)).not.toMatch(/"kind":"(create|delete)"/);
    if (form === 'documentChanges') expect(sent.documentChanges).toEqual([{ textDocument: { uri: uri('test/add.test.js'), version: null }, edits: [{ range: { start: { line: 0, character: 0 }, end: { line: 1, character: 0 } }, newText: "require('../src/math');\n" }] }]);
    expect(fs.readFileSync(path.join(root, 'test/add.test.js'), 'utf8')).toBe("require('../src/math');\n");
    expect(fs.existsSync(path.join(root, 'test.js'))).toBe(false);
    expect(messages(client).map((m) => m.message)).toContain('codeloop: deleted test.js (the proposal removes them)');
  });

  it('Helix and Neovim (resource operations) get create and delete operations', SESSION_TEST, async () => {
    const { client, uri } = await setup(newFile, { capabilities: { workspace: { workspaceEdit: { resourceOperations: ['create', 'rename', 'delete'] } } }, agent: { testCommand: 'true' } });
    const { sessionId } = await client.connection.sendRequest<any>('codeloop/startTask', { prompt: 'add a test', uri: uri('src/math.js') });
    await waitState(client, sessionId, 'awaitingApproval');
    await client.connection.sendRequest('codeloop/applyProposal', { sessionId });
    expect(client.appliedEdits[0].edit.documentChanges.map((change: any) => change.kind ?? 'edit').sort()).toEqual(['create', 'delete', 'edit']);
  });
});

describe('workspaces and configuration', () => {
  it('workspace/didChangeWorkspaceFolders adds and removes folders when the client advertises workspaceFolders', SESSION_TEST, async () => {
    const { client } = await setup([]);
    const other = fs.realpathSync(makeTree({ 'b.js': 'function onlyInB() {}\n' }, { git: true }));
    cleanups.push(() => removeTree(other));
    const before = await client.connection.sendRequest<any>('codeloop/status', {});
    const first = before.clients[0].workspaces[0];
    await client.connection.sendNotification('workspace/didChangeWorkspaceFolders', {
      event: { added: [{ uri: pathToFileURL(other).href, name: 'b' }], removed: [{ uri: pathToFileURL(first).href, name: 'root' }] },
    });
    await expect.poll(async () => (await client.connection.sendRequest<any>('codeloop/status', {})).clients[0].workspaces, { timeout: 30_000 }).toEqual([other]);
    await waitUntilIndexed(client.connection);
    expect((await client.connection.sendRequest<any[]>('workspace/symbol', { query: 'onlyInB' })).map((symbol) => symbol.name)).toEqual(['onlyInB']);
  });

  it.each([
    { options: ['agent.autoApprovePlan', true], shape: 'a list' },
    { options: 'autoApprovePlan=true', shape: 'a string' },
  ])('initializationOptions that are not an object ($shape) warn, naming their source, and the workspace opens', SESSION_TEST, async ({ options, shape }) => {
    const { client } = await setup([], { initializationOptions: options });
    expect(messages(client).filter((m) => m.type === 2).map((m) => m.message))
      .toContain(`codeloop: initializationOptions from decisions-test: settings must be a JSON object, not ${shape} (ignored)`);
    expect((await client.connection.sendRequest<any>('codeloop/status', {})).workspaces).toHaveLength(1);
  });

  it('an unknown initializationOptions key warns, naming its source, and the workspace still opens; a wrong value is an error naming it', SESSION_TEST, async () => {
    const { client } = await setup([], { initializationOptions: { agent: { autoApprovePlan: true, maxTurn: 3 }, colour: 'blue' } });
    const warnings = messages(client).filter((m) => m.type === 2).map((m) => m.message);
    expect(warnings).toEqual(expect.arrayContaining([
      'codeloop: initializationOptions from decisions-test: unknown setting colour (ignored)',
      'codeloop: initializationOptions from decisions-test: unknown setting agent.maxTurn (ignored)',
    ]));
    expect((await client.connection.sendRequest<any>('codeloop/status', {})).workspaces).toHaveLength(1);

    const wrong = await setupRefused({ agent: { maxTurns: 'many' } });
    expect(messages(wrong.client).find((m) => m.type === 1)?.message).toMatch(/^codeloop: the folder .* was not opened: invalid config \(initializationOptions from decisions-test\) at agent\.maxTurns: /);
    await expect(wrong.client.connection.sendRequest('textDocument/codeAction', { textDocument: { uri: wrong.uri('src/math.js') }, range: at(0), context: { diagnostics: [] } }))
      .rejects.toMatchObject({ message: expect.stringContaining('was not opened: invalid config (initializationOptions from decisions-test)') });
  });
});

/** A server whose only folder is refused for a wrong setting (no indexing to wait for). */
async function setupRefused(initializationOptions: unknown) {
  const root = fs.realpathSync(makeTree(CALC, { git: true }));
  const state = makeStateHome();
  const client = startLspClient(['--standalone'], { ...process.env, XDG_STATE_HOME: state, XDG_CONFIG_HOME: path.join(state, 'config') });
  cleanups.push(() => removeTree(root, state), () => client.close());
  await client.initialize(root, 'decisions-test', { initializationOptions });
  await client.waitForNotification('window/showMessage', (p) => p.type === 1, 30_000);
  return { client, uri: (relative: string) => pathToFileURL(path.join(root, relative)).href };
}

describe('parameterless requests', () => {
  /** Sends raw JSON-RPC, as Neovim does (`params: []` for an empty Lua table), and returns the answers by id. */
  async function raw(requests: { id: number; method: string; params?: unknown }[]): Promise<Map<number, any>> {
    const root = makeTree({ 'a.js': 'x\n' }, { git: true });
    const state = makeStateHome();
    cleanups.push(() => removeTree(root, state));
    const child = spawn(process.execPath, [CLI_PATH, 'lsp', '--standalone'], { env: { ...process.env, XDG_STATE_HOME: state, XDG_CONFIG_HOME: path.join(state, 'config') } });
    cleanups.push(() => child.kill());
    const send = (message: unknown) => {
      const body = JSON.stringify({ jsonrpc: '2.0', ...message as object });
      child.stdin.write(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    };
    const answers = new Map<number, any>();
    let buffer = Buffer.alloc(0);
    child.stdout.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        const header = buffer.indexOf('\r\n\r\n');
        if (header < 0) return;
        const length = Number(/Content-Length: (\d+)/.exec(buffer.subarray(0, header).toString())![1]);
        if (buffer.length < header + 4 + length) return;
        const message = JSON.parse(buffer.subarray(header + 4, header + 4 + length).toString());
        buffer = buffer.subarray(header + 4 + length);
        if (message.id !== undefined && !message.method) answers.set(message.id, message);
      }
    });
    send({ id: 0, method: 'initialize', params: { processId: null, rootUri: pathToFileURL(root).href, capabilities: {} } });
    await expect.poll(() => answers.has(0), { timeout: 30_000 }).toBe(true);
    send({ method: 'initialized', params: {} });
    for (const request of requests) send(request);
    await expect.poll(() => requests.every((request) => answers.has(request.id)), { timeout: 30_000 }).toBe(true);
    return answers;
  }

  it('accepts absent, null, [] and {} params for every method that needs none', SESSION_TEST, async () => {
    const methods = ['codeloop/listSessions', 'codeloop/status', 'codeloop/indexStatus'];
    const shapes = [undefined, null, [], {}];
    const requests = methods.flatMap((method, m) => shapes.map((params, s) => ({ id: 1 + m * 10 + s, method, ...(params === undefined ? {} : { params }) })));
    const answers = await raw(requests);
    for (const request of requests) expect(answers.get(request.id), JSON.stringify(request)).toHaveProperty('result');
    const missing = await raw([{ id: 1, method: 'codeloop/getSession', params: [] }, { id: 2, method: 'codeloop/search', params: [1, 2] }]);
    expect(missing.get(1).error).toMatchObject({ code: -32602, message: expect.stringContaining('codeloop/getSession: invalid params at sessionId') });
    expect(missing.get(2).error).toMatchObject({ code: -32602, message: 'codeloop/search: invalid params: expected one object, got 2 positional values' });
  });
});

describe('several editors on one daemon', () => {
  it('a session applied in one editor is announced in the other that started it', SESSION_TEST, async () => {
    const fake = await startFakeModel([{ kind: 'text', content: '1. Fix add' }, edit('a - b', 'a + b'), done]);
    const root = fs.realpathSync(makeTree(CALC, { git: true }));
    const world = daemonWorld({ model: { baseURL: fake.baseURL, model: 'fake', maxRetries: 0 }, agent: { autoApprovePlan: true, commandTimeoutSeconds: 60 } });
    const env = { ...world.env, OPENAI_API_KEY: 'sk-editor-test' };
    const first = startLspClient([], env);
    cleanups.push(() => removeTree(root, world.state), () => fake.close(), () => runCli(['daemon', 'stop'], { stateHome: world.state, env }), () => first.close());
    await first.initialize(root, 'first-editor');
    const second = startLspClient([], env);
    cleanups.push(() => second.close());
    await second.initialize(root, 'second-editor');
    await waitUntilIndexed(first.connection);
    const file = pathToFileURL(path.join(root, 'src/math.js')).href;
    const { sessionId } = await run(first, await pick(first, file, 'codeloop: Run task in comment'));
    await waitState(second, sessionId, 'awaitingApproval');
    expect(await second.connection.sendRequest('workspace/executeCommand', { command: 'codeloop.applyProposal' })).toEqual({ applied: true, conflicts: [] });
    await expect.poll(() => messages(first).map((m) => m.message), { timeout: 30_000 }).toContain('codeloop: session "make add add" (from another editor) applied');
    expect(messages(second).map((m) => m.message)).not.toContain('codeloop: session "make add add" (from another editor) applied');
  });
});
