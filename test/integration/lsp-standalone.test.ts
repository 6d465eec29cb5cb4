import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeStateHome, makeTree, removeTree } from '../helpers/fixture-tree.js';
import { startLspClient, type TestLspClient } from '../helpers/lsp-client.js';

const SOURCE = [
  'export function parseInput(text: string): string[] {',
  '  // codeloop: handle empty input',
  '  return text.split(",");',
  '}',
  '',
  'export class Stream {',
  '  next(): string { return parseInput("a")[0]; }',
  '}',
].join('\n');

let root: string;
let state: string;
let client: TestLspClient;
const uri = () => pathToFileURL(path.join(root, 'src/parse.ts')).href;

beforeAll(async () => {
  root = makeTree({ 'src/parse.ts': SOURCE, 'src/other.py': 'def parse_other():\n    pass\n' }, { git: true });
  state = makeStateHome();
  client = startLspClient(['--standalone'], { ...process.env, OPENAI_API_KEY: '', XDG_STATE_HOME: state, XDG_CONFIG_HOME: path.join(state, 'config') });
  const result = await client.initialize(root, 'standalone-test');
  expect(result.serverInfo.name).toBe('codeloop');
  await client.waitForNotification('codeloop/indexUpdate');
});
afterAll(async () => {
  await client.close();
  removeTree(root, state);
});

const range = (line: number, character = 2, endLine = line, endCharacter = character) =>
  ({ start: { line, character }, end: { line: endLine, character: endCharacter } });

describe('codeloop lsp --standalone over stdio', () => {
  it('announces only what it implements and reports indexing progress', async () => {
    expect(client.progress).toContainEqual(expect.objectContaining({ kind: 'begin', title: expect.stringContaining('codeloop: indexing') }));
    await expect.poll(() => client.progress.at(-1), { timeout: 30_000 }).toEqual(expect.objectContaining({ kind: 'end' }));
  });

  it('answers workspace/symbol from the index, ranked', async () => {
    const symbols = await client.connection.sendRequest<any[]>('workspace/symbol', { query: 'parse' });
    expect(symbols.map((symbol) => symbol.name)).toEqual(['parseInput', 'parse_other']);
    expect(symbols[0].location).toEqual({ uri: uri(), range: { start: { line: 0, character: 16 }, end: { line: 3, character: 1 } } });
  });

  it('offers code actions by context: diagnostic, comment task, symbol, selection', async () => {
    const diagnostic = { range: range(2), message: 'Type error: split may fail', source: 'tsc', severity: 1 };
    const actions = await client.connection.sendRequest<any[]>('textDocument/codeAction', {
      textDocument: { uri: uri() }, range: range(1, 0, 2, 5), context: { diagnostics: [diagnostic] },
    });
    expect(actions.map((action) => action.title)).toEqual([
      'codeloop: Fix this diagnostic (Type error: split may fail)',
      'codeloop: Run task in comment (handle empty input)',
      'codeloop: Write tests for `parseInput`',
      'codeloop: Explain `parseInput`',
      'codeloop: Refactor selection',
    ]);
    expect(actions[1].command).toEqual(expect.objectContaining({ command: 'codeloop.startTask', arguments: [expect.objectContaining({ prompt: 'handle empty input', kind: 'commentTask' })] }));
    const onlyFixes = await client.connection.sendRequest<any[]>('textDocument/codeAction', {
      textDocument: { uri: uri() }, range: range(6), context: { diagnostics: [diagnostic], only: ['quickfix'] },
    });
    expect(onlyFixes.map((action) => action.kind)).toEqual(['quickfix']);
    const inMethod = await client.connection.sendRequest<any[]>('textDocument/codeAction', { textDocument: { uri: uri() }, range: range(6), context: { diagnostics: [] } });
    expect(inMethod.map((action) => action.title)).toContain('codeloop: Write tests for `Stream.next`');
  });

  it('answers unknown sessions and a missing model key with proper JSON-RPC errors', async () => {
    await expect(client.connection.sendRequest('codeloop/getSession', { sessionId: 'nope' }))
      .rejects.toMatchObject({ code: -32803, message: expect.stringContaining('no session "nope"') });
    await expect(client.connection.sendRequest('workspace/executeCommand', { command: 'codeloop.startTask', arguments: ['add a flag'] }))
      .rejects.toMatchObject({ code: -32803, message: expect.stringContaining('no API key: set the environment variable OPENAI_API_KEY') });
    expect(await client.connection.sendRequest('codeloop/listSessions', {})).toEqual({ sessions: [] });
  });

  it('answers invalid params with InvalidParams and a readable message', async () => {
    await expect(client.connection.sendRequest('codeloop/search', { query: 42 }))
      .rejects.toMatchObject({ code: -32602, message: 'codeloop/search: invalid params at query: Invalid input: expected string, received number' });
    await expect(client.connection.sendRequest('codeloop/search', { query: 'x', mode: 'fuzzy' })).rejects.toMatchObject({ code: -32602 });
    await expect(client.connection.sendRequest('codeloop/search', { query: 'a(', mode: 'regex' }))
      .rejects.toMatchObject({ code: -32602, message: expect.stringContaining('invalid regex') });
    await expect(client.connection.sendRequest('workspace/executeCommand', { command: 'codeloop.cancelTask', arguments: [{ id: 1 }] }))
      .rejects.toMatchObject({ code: -32602 });
    await expect(client.connection.sendRequest('textDocument/codeAction', {
      textDocument: { uri: 'file:///etc/passwd' }, range: range(0), context: { diagnostics: [] },
    })).rejects.toMatchObject({ code: -32602, message: expect.stringContaining('not inside any workspace folder') });
  });

  it('overlays unsaved buffers: search sees what is typed, closing restores the disk', async () => {
    await client.connection.sendNotification('textDocument/didOpen', { textDocument: { uri: uri(), languageId: 'typescript', version: 1, text: SOURCE } });
    await client.connection.sendNotification('textDocument/didChange', {
      textDocument: { uri: uri(), version: 2 },
      contentChanges: [{ range: range(2, 9, 2, 9), text: 'unsavedMarker || ' }],
    });
    await client.waitForNotification('codeloop/indexUpdate', (params) => params.changedPaths.includes('src/parse.ts'));
    const found = await client.connection.sendRequest<any>('codeloop/search', { query: 'unsavedMarker' });
    expect(found.matches).toEqual([expect.objectContaining({ path: 'src/parse.ts', line: 3, text: '  return unsavedMarker || text.split(",");' })]);
    await client.connection.sendNotification('textDocument/didClose', { textDocument: { uri: uri() } });
    await expect.poll(async () => (await client.connection.sendRequest<any>('codeloop/search', { query: 'unsavedMarker' })).matches.length, { timeout: 30_000 }).toBe(0);
  });

  it('reports status and index status', async () => {
    const status = await client.connection.sendRequest<any>('codeloop/status', {});
    expect(status).toMatchObject({ mode: 'standalone', socketPath: null, clients: [{ name: 'standalone-test' }] });
    const index = await client.connection.sendRequest<any>('codeloop/indexStatus', {});
    expect(index.files).toBe(2);
  });

  it('shuts down and exits 0', async () => {
    const exited = new Promise((resolve) => client.child.once('exit', resolve));
    await client.connection.sendRequest('shutdown');
    await client.connection.sendNotification('exit');
    expect(await exited).toBe(0);
  });
});
