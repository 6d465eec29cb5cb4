import type { SessionUpdate } from '../../protocol/lsp-methods.js';
import { SessionFollower } from '../agent/session-follower.js';
import type { TextDocumentConnection } from './bounded-documents.js';
import { Buffers } from './buffers.js';
import { ClientContext } from './client-context.js';
import type { EditorChannel } from './editor-channel.js';
import { applyProposal } from './proposal-requests.js';
import { clientRoutes, type ClientRoutes } from './routes.js';
import type { ServerContext } from './server-context.js';
import { WorkspaceFolders } from './workspace-folders.js';

/** Everything one editor connection serves, built around its EditorChannel; the transport only wires it. */
export interface ClientFeatures {
  client: ClientContext;
  buffers: Buffers;
  folders: WorkspaceFolders;
  follower: SessionFollower;
  routes: ClientRoutes;
}

/**
 * Builds the features of one editor: its context, buffers, folders, session follower (auto-apply goes through the
 * editor's own Apply) and routing table. Used by LspClientSession over a connection, and by tests over the
 * in-process fake editor (test/helpers/fake-editor.ts).
 */
export function clientFeatures(server: ServerContext, editor: EditorChannel): ClientFeatures {
  const client = new ClientContext(server, editor);
  const buffers = new Buffers(client);
  const folders = new WorkspaceFolders(client, (workspace) => buffers.adopt(workspace));
  const follower: SessionFollower = new SessionFollower(server.agent, editor, (sessionId) => applyProposal(client, follower, { sessionId }), () => client.disposed);
  client.onNotify((method, params) => {
    if (method === 'codeloop/sessionUpdate') follower.sessionUpdated(params as SessionUpdate);
  });
  return { client, buffers, folders, follower, routes: clientRoutes(client, follower, folders) };
}

/** Keeps the editor's buffers from its document notifications (didOpen, didChange, didClose). */
export function listenToDocuments({ client, buffers }: ClientFeatures, connection: TextDocumentConnection): void {
  client.documents.onDidChangeContent(({ document }) => buffers.changed(document));
  client.documents.onDidClose(({ document }) => buffers.closed(document.uri));
  client.documents.listen(connection);
}
