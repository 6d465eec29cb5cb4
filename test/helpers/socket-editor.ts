import net from 'node:net';
import { pathToFileURL } from 'node:url';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';

/** What a socket editor was sent by the daemon. */
export interface Received {
  notifications: { method: string; params: any }[];
  /** The `edit` of every workspace/applyEdit request (each answered `applied: true`). */
  appliedEdits: any[];
}

export async function connectSocket(socketPath: string): Promise<net.Socket> {
  const socket = net.connect(socketPath);
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  return socket;
}

/**
 * A minimal editor on the daemon's socket (as `codeloop lsp` would relay one): initialized on `root`, applying
 * every edit it is asked to, and recording what it was sent into `received` when given.
 */
export async function socketEditor(socket: net.Socket, root: string, name: string, received?: Received): Promise<MessageConnection> {
  const connection = createMessageConnection(new StreamMessageReader(socket), new StreamMessageWriter(socket));
  connection.onRequest('window/workDoneProgress/create', () => null);
  connection.onRequest('workspace/applyEdit', (params: any) => {
    received?.appliedEdits.push(params.edit);
    return { applied: true };
  });
  connection.onNotification((method, params) => {
    received?.notifications.push({ method, params });
  });
  connection.onError(() => undefined);
  // Disposing the connection is the editor going away: its socket closes too (else the daemon rightly keeps it).
  connection.onDispose(() => socket.end());
  connection.listen();
  const folder = pathToFileURL(root).href;
  await connection.sendRequest('initialize', { processId: null, clientInfo: { name }, rootUri: folder, workspaceFolders: [{ uri: folder, name }], capabilities: { workspace: { workspaceEdit: { documentChanges: true } } } });
  await connection.sendNotification('initialized', {});
  return connection;
}
