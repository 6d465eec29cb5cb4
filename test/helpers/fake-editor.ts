import { pathToFileURL } from 'node:url';
import type { InitializeParams, WorkspaceEdit } from 'vscode-languageserver';
import { ResponseError } from 'vscode-languageserver';
import type { TextDocumentConnection } from '../../server/lsp/bounded-documents.js';
import { clientFeatures, listenToDocuments, type ClientFeatures } from '../../server/lsp/client-features.js';
import type { ApplyEditResult, EditorChannel, EditorProgress, ProgressStart, Severity } from '../../server/lsp/editor-channel.js';
import { messageText } from '../../server/lsp/editor-channel.js';
import { guarded } from '../../server/lsp/response-errors.js';
import { handleRequest, type RequestMethod } from '../../server/lsp/routes.js';
import { createServerContext } from '../../server/lsp/server-context.js';
import type { ServerContext } from '../../server/lsp/server-context.js';

/** One thing a progress was told, in order. */
export type ProgressEvent =
  | ({ kind: 'begin'; id: number } & ProgressStart)
  | { kind: 'report'; id: number; message: string; percentage?: number }
  | { kind: 'done'; id: number };

/**
 * The in-process fake of an editor: an EditorChannel that records everything the server says to it (messages as
 * the user reads them, progress, shown documents, edits, notifications) and answers edits as `answerEdits` says.
 */
export class FakeEditor implements EditorChannel {
  readonly messages: { severity: Severity; text: string }[] = [];
  readonly progress: ProgressEvent[] = [];
  readonly shownDocuments: string[] = [];
  readonly edits: { label: string; edit: WorkspaceEdit }[] = [];
  readonly notifications: { method: string; params: any }[] = [];
  /** What the editor answers to the next `workspace/applyEdit`s. */
  answerEdits: ApplyEditResult = { applied: true };
  /** Whether it advertised `window.workDoneProgress` (without it, progress is silent). */
  supportsProgress = true;
  private progressCount = 0;

  async applyEdit(label: string, edit: WorkspaceEdit): Promise<ApplyEditResult> {
    this.edits.push({ label, edit });
    return this.answerEdits;
  }

  async beginProgress(start: ProgressStart): Promise<EditorProgress> {
    if (!this.supportsProgress) return { report: () => undefined, done: () => undefined };
    const id = ++this.progressCount;
    this.progress.push({ kind: 'begin', id, ...start });
    return {
      report: (message, percentage) => this.progress.push({ kind: 'report', id, message, ...(percentage === undefined ? {} : { percentage }) }),
      done: () => this.progress.push({ kind: 'done', id }),
    };
  }

  async showDocument(uri: string): Promise<boolean> {
    this.shownDocuments.push(uri);
    return true;
  }

  showMessage(severity: Severity, text: string): void {
    this.messages.push({ severity, text: messageText(text) });
  }

  notify(method: string, params: unknown): void {
    this.notifications.push({ method, params });
  }

  /** The text of every message shown (or logged), as the user reads it. */
  said(): string[] {
    return this.messages.map((message) => message.text);
  }
}

/** A server context in this process (standalone mode), over the process's XDG_STATE_HOME. */
export function inProcessServer(): { context: ServerContext; close(): Promise<void> } {
  return createServerContext({ mode: 'standalone', socketPath: null, stopDaemon: () => undefined, onIndexError: () => undefined, log: () => undefined });
}

/** An editor of the fake kind attached to an in-process server: its features, and what it says to them. */
export interface FakeEditorClient {
  editor: FakeEditor;
  features: ClientFeatures;
  /** A request as the editor sends it; a JSON-RPC error is thrown as the ResponseError the editor would get. */
  request<R = any>(method: RequestMethod, params?: unknown): Promise<R>;
  /** `workspace/executeCommand`. */
  command<R = any>(command: string, ...args: unknown[]): Promise<R>;
  /** `textDocument/didOpen` of a buffer (then its text overlays the workspace); a higher version is a newer buffer. */
  open(uri: string, text: string, version?: number): void;
  close(uri: string): void;
  /** Opens the folder as `initialize` + `initialized` do, resolving once its workspace is indexed. */
  openFolder(root: string): Promise<void>;
}

/** Waits, in 20 ms steps, until `ready` holds; throws after `timeoutMs`. */
export async function until(ready: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** An editor named `name` on `server`, talking through a FakeEditor; `configuration` is its initializationOptions. */
export function fakeEditorClient(server: ServerContext, name: string, configuration?: unknown): FakeEditorClient {
  const editor = new FakeEditor();
  const features = clientFeatures(server, editor);
  const client = features.client;
  client.name = name;
  client.configuration = { values: configuration, source: `initializationOptions from ${name}` };
  client.workspaceEditCapabilities = { documentChanges: true, resourceOperations: ['create', 'rename', 'delete'] };
  server.clients.add({ client, dispose: async () => server.registry.detach(client), answered: async () => undefined });
  const handlers: { open?: (params: any) => void; close?: (params: any) => void } = {};
  const documents: TextDocumentConnection = {
    onDidOpenTextDocument: (handler) => (handlers.open = handler, { dispose: () => undefined }),
    onDidChangeTextDocument: () => ({ dispose: () => undefined }),
    onDidCloseTextDocument: (handler) => (handlers.close = handler, { dispose: () => undefined }),
    onWillSaveTextDocument: () => ({ dispose: () => undefined }),
    onWillSaveTextDocumentWaitUntil: () => ({ dispose: () => undefined }),
    onDidSaveTextDocument: () => ({ dispose: () => undefined }),
  };
  listenToDocuments(features, documents);
  const request = async (method: RequestMethod, params?: unknown) => {
    const answer = await guarded(() => handleRequest(features.routes.requests, method, params))();
    if (answer instanceof ResponseError) throw answer;
    return answer as any;
  };
  return {
    editor,
    features,
    request,
    command: (command, ...args) => request('workspace/executeCommand', { command, arguments: args }),
    open: (uri, text, version = 1) => handlers.open?.({ textDocument: { uri, languageId: 'plaintext', version, text } }),
    close: (uri) => handlers.close?.({ textDocument: { uri } }),
    async openFolder(root) {
      const uri = pathToFileURL(root).href;
      features.folders.initialize({ workspaceFolders: [{ uri, name }] } as InitializeParams);
      features.folders.initialized();
      await until(() => client.workspaces().length > 0 && client.workspaces().every((workspace) => !workspace.indexing), `${root} indexed`);
    },
  };
}
