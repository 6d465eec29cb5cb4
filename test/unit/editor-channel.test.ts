import { PassThrough } from 'node:stream';
import { MessageType, WorkDoneProgress } from 'vscode-languageserver';
import { createConnection } from 'vscode-languageserver/node';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectionEditorChannel } from '../../server/lsp/editor-channel.js';

/**
 * The EditorChannel over a real vscode-languageserver Connection, talking JSON-RPC over in-memory streams to an
 * editor that records what it is sent: what goes on the wire for each thing the server says, and silence once
 * the editor has gone.
 */
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/** A server connection initialized by an editor that does (or does not) advertise work-done progress. */
async function connected(options: { progress: boolean }) {
  const toServer = new PassThrough();
  const toEditor = new PassThrough();
  const server = createConnection(new StreamMessageReader(toServer), new StreamMessageWriter(toEditor));
  const editor: MessageConnection = createMessageConnection(new StreamMessageReader(toEditor), new StreamMessageWriter(toServer));
  const received: { method: string; params: any }[] = [];
  editor.onNotification((method, params) => {
    received.push({ method, params });
  });
  editor.onRequest('window/workDoneProgress/create', (params: { token: string | number }) => {
    received.push({ method: 'window/workDoneProgress/create', params });
    editor.onProgress(WorkDoneProgress.type, params.token, (value) => {
      received.push({ method: '$/progress', params: value });
    });
    return null;
  });
  editor.onRequest('workspace/applyEdit', (params: any) => {
    received.push({ method: 'workspace/applyEdit', params });
    return { applied: params.label !== 'refused', failureReason: params.label === 'refused' ? 'the buffer is read-only' : undefined };
  });
  editor.onRequest('window/showDocument', (params: any) => {
    received.push({ method: 'window/showDocument', params });
    return { success: true };
  });
  server.onInitialize(() => ({ capabilities: {} }));
  editor.listen();
  server.listen();
  const capabilities = options.progress ? { window: { workDoneProgress: true } } : {};
  await editor.sendRequest('initialize', { processId: null, rootUri: null, capabilities });
  let gone = false;
  const channel = new ConnectionEditorChannel(server, () => gone);
  channel.capabilities = capabilities;
  cleanups.push(() => {
    editor.dispose();
    server.dispose();
  });
  return { channel, received, leave: () => (gone = true) };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

describe('ConnectionEditorChannel', () => {
  it('says messages as notifications headed "codeloop: " (a log line as window/logMessage), never as a request needing an answer', async () => {
    const { channel, received } = await connected({ progress: true });
    channel.showMessage('warning', 'file watching stopped');
    channel.showMessage('error', 'the folder was not opened');
    channel.showMessage('log', 'src/big.bin left out of the index');
    channel.notify('codeloop/indexUpdate', { root: '/r', files: 1, changedPaths: [] });
    await expect.poll(() => received.length, { timeout: 10_000 }).toBe(4);
    expect(received).toEqual([
      { method: 'window/showMessage', params: { type: MessageType.Warning, message: 'codeloop: file watching stopped' } },
      { method: 'window/showMessage', params: { type: MessageType.Error, message: 'codeloop: the folder was not opened' } },
      { method: 'window/logMessage', params: { type: MessageType.Info, message: 'codeloop: src/big.bin left out of the index' } },
      { method: 'codeloop/indexUpdate', params: { root: '/r', files: 1, changedPaths: [] } },
    ]);
  });

  it('reports work-done progress begin, report and end to an editor that advertised it, and nothing to one that did not', async () => {
    const withProgress = await connected({ progress: true });
    const progress = await withProgress.channel.beginProgress({ title: 'codeloop: indexing calc', percentage: 0, cancellable: false });
    progress.report('3/10 files', 30);
    progress.report('model writing… 120 characters');
    progress.done();
    await expect.poll(() => withProgress.received.filter((r) => r.method === '$/progress').length, { timeout: 10_000 }).toBe(4);
    expect(withProgress.received.filter((r) => r.method === '$/progress').map((r) => r.params)).toEqual([
      { kind: 'begin', title: 'codeloop: indexing calc', percentage: 0, cancellable: false },
      { kind: 'report', message: '3/10 files', percentage: 30 },
      { kind: 'report', message: 'model writing… 120 characters' },
      { kind: 'end' },
    ]);

    const without = await connected({ progress: false });
    const silent = await without.channel.beginProgress({ title: 'codeloop "x"' });
    silent.report('planning');
    silent.done();
    await settle();
    expect(without.received).toEqual([]);
  });

  it('answers what the editor answered to applyEdit and showDocument', async () => {
    const { channel, received } = await connected({ progress: true });
    const edit = { changes: { 'file:///r/a.js': [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, newText: 'x' }] } };
    expect(await channel.applyEdit('codeloop: add x', edit)).toEqual({ applied: true, failureReason: undefined });
    expect(await channel.applyEdit('refused', edit)).toEqual({ applied: false, failureReason: 'the buffer is read-only' });
    expect(await channel.showDocument('file:///state/plans/1.md')).toBe(true);
    expect(received.filter((r) => r.method !== 'window/showDocument').map((r) => r.params)).toEqual([{ label: 'codeloop: add x', edit }, { label: 'refused', edit }]);
    expect(received.find((r) => r.method === 'window/showDocument')?.params).toEqual({ uri: 'file:///state/plans/1.md', takeFocus: true });
  });

  it('once the editor has gone, says nothing and never throws: an edit is not applied, a document not shown, progress silent', async () => {
    const { channel, received, leave } = await connected({ progress: true });
    const progress = await channel.beginProgress({ title: 'codeloop "x"' });
    leave();
    progress.report('working');
    progress.done();
    channel.showMessage('info', 'too late');
    channel.notify('codeloop/sessionUpdate', {});
    expect(await channel.applyEdit('late', { changes: {} })).toEqual({ applied: false, failureReason: 'the editor has disconnected' });
    expect(await channel.showDocument('file:///state/plans/1.md')).toBe(false);
    await channel.beginProgress({ title: 'after' });
    await settle();
    expect(received.map((r) => r.method)).toEqual(['window/workDoneProgress/create', '$/progress']);
  });
});
