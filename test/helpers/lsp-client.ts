import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import { WorkDoneProgress } from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { CLI_PATH } from './run-cli.js';

export interface TestLspClient {
  connection: MessageConnection;
  child: ChildProcess;
  env: NodeJS.ProcessEnv;
  notifications: { method: string; params: unknown }[];
  progress: unknown[];
  appliedEdits: any[];
  shownDocuments: any[];
  stderr: () => string;
  /** `capabilities` replace the default ones (progress, workspace folders); `initializationOptions` go as given. */
  initialize(root: string, name?: string, options?: { capabilities?: unknown; initializationOptions?: unknown }): Promise<any>;
  waitForNotification(method: string, predicate?: (params: any) => boolean, timeoutMs?: number): Promise<any>;
  close(): Promise<void>;
}

/**
 * Spawns `codeloop lsp …` like an editor does and speaks JSON-RPC to it over its stdio. `wrapper` is a command
 * the server is started through (it gets the server's command line as its last arguments); `cli` is the
 * codeloop installation's dist/server/cli.js (another build's, say).
 */
export function startLspClient(args: string[], env: NodeJS.ProcessEnv, wrapper: string[] = [], cli = CLI_PATH): TestLspClient {
  const command = [...wrapper, process.execPath, cli, 'lsp', ...args];
  const child = spawn(command[0], command.slice(1), { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk) => {
    stderr += chunk;
  });
  const connection = createMessageConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
  const notifications: { method: string; params: unknown }[] = [];
  const progress: unknown[] = [];
  const appliedEdits: unknown[] = [];
  const shownDocuments: unknown[] = [];
  const waiters: (() => void)[] = [];
  connection.onNotification((method, params) => {
    notifications.push({ method, params });
    waiters.splice(0).forEach((wake) => wake());
  });
  // vscode-jsonrpc routes $/progress by token, so subscribe to each token the server creates.
  connection.onRequest('window/workDoneProgress/create', (params: { token: string | number }) => {
    connection.onProgress(WorkDoneProgress.type, params.token, (value) => {
      progress.push(value);
    });
    return null;
  });
  connection.onRequest('workspace/configuration', () => []);
  // Apply edits like an editor applies them to a buffer loaded from disk (a new file: an empty buffer), in either
  // form a server may send (documentChanges, changes), and keep them for asserts.
  connection.onRequest('workspace/applyEdit', (params: { edit: { documentChanges?: any[]; changes?: Record<string, any[]> } }) => {
    appliedEdits.push(params);
    const apply = (uri: string, edits: any[]) => {
      const file = fileURLToPath(uri);
      const before = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, TextDocument.applyEdits(TextDocument.create(uri, '', 0, before), edits));
    };
    for (const change of params.edit.documentChanges ?? []) {
      if (change.kind === 'create' || change.kind === 'rename') continue;
      if (change.kind === 'delete') fs.rmSync(fileURLToPath(change.uri), { force: true });
      else apply(change.textDocument.uri, change.edits);
    }
    for (const [uri, edits] of Object.entries(params.edit.changes ?? {})) apply(uri, edits);
    return { applied: true };
  });
  connection.onRequest('window/showDocument', (params: unknown) => {
    shownDocuments.push(params);
    return { success: true };
  });
  connection.onRequest('window/showMessageRequest', () => null);
  connection.listen();
  return {
    connection,
    child,
    env,
    notifications,
    progress,
    appliedEdits,
    shownDocuments,
    stderr: () => stderr,
    initialize(root, name = 'test-client', options = {}) {
      return connection.sendRequest('initialize', {
        processId: process.pid,
        clientInfo: { name },
        rootUri: pathToFileURL(root).href,
        workspaceFolders: [{ uri: pathToFileURL(root).href, name: 'root' }],
        capabilities: options.capabilities ?? {
          window: { workDoneProgress: true },
          workspace: { workspaceFolders: true, workspaceEdit: { documentChanges: true, resourceOperations: ['create', 'rename', 'delete'] } },
        },
        initializationOptions: options.initializationOptions,
      }).then(async (result) => {
        await connection.sendNotification('initialized', {});
        return result;
      });
    },
    async waitForNotification(method, predicate = () => true, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = notifications.find((n) => n.method === method && predicate(n.params));
        if (found) return found.params;
        if (Date.now() > deadline) throw new Error(`no ${method} notification within ${timeoutMs} ms; got ${notifications.map((n) => n.method).join(', ')}`);
        await Promise.race([new Promise<void>((resolve) => waiters.push(resolve)), new Promise((resolve) => setTimeout(resolve, 100))]);
      }
    },
    async close() {
      try {
        await Promise.race([connection.sendRequest('shutdown'), new Promise((resolve) => setTimeout(resolve, 2000))]);
        await connection.sendNotification('exit');
      } catch {
        // already gone
      }
      connection.dispose();
      child.stdin!.end();
      if (child.exitCode === null) await Promise.race([new Promise((resolve) => child.once('exit', resolve)), new Promise((resolve) => setTimeout(resolve, 3000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

/** Waits until every workspace the connection's daemon holds has finished (re-)indexing. */
export async function waitUntilIndexed(connection: { sendRequest<R>(method: string, params: unknown): Promise<R> }, timeoutMs = 30_000): Promise<void> {
  for (let waited = 0; ; waited += 50) {
    const status = await connection.sendRequest<{ workspaces: { indexing: boolean }[] }>('codeloop/status', {});
    if (status.workspaces.length && status.workspaces.every((workspace) => !workspace.indexing)) return;
    if (waited > timeoutMs) throw new Error(`the workspace was not indexed within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
