import type { Connection, InitializeParams, InitializeResult } from 'vscode-languageserver';
import type { SessionUpdate } from '../../protocol/lsp-methods.js';
import { SessionFollower } from '../agent/session-follower.js';
import { boundedDocumentConnection } from './bounded-documents.js';
import { Buffers } from './buffers.js';
import { serverCapabilities } from './capabilities.js';
import { ClientContext } from './client-context.js';
import { ConnectionEditorChannel } from './editor-channel.js';
import { applyProposal } from './proposal-requests.js';
import { guarded, parseParams, requestParams } from './response-errors.js';
import { clientRoutes, requestSchema, route, type RequestRoutes } from './routes.js';
import type { ConnectedClient, ServerContext } from './server-context.js';
import { WorkspaceFolders } from './workspace-folders.js';

/**
 * One editor (or CLI) connection: wires the connection to the client's features — the routing table
 * (routes.ts), its buffers, its workspace folders — and its editor channel to the session follower. State shared
 * with other clients lives in the registry.
 */
export class LspClientSession implements ConnectedClient {
  readonly client: ClientContext;
  private readonly channel: ConnectionEditorChannel;
  private readonly buffers: Buffers;
  private readonly folders: WorkspaceFolders;
  private readonly follower: SessionFollower;
  private advertisesFolders = false;

  constructor(private readonly connection: Connection, private readonly context: ServerContext) {
    this.channel = new ConnectionEditorChannel(connection, () => this.client.disposed);
    this.client = new ClientContext(context, this.channel);
    this.buffers = new Buffers(this.client);
    this.folders = new WorkspaceFolders(this.client, (workspace) => this.buffers.adopt(workspace));
    this.follower = new SessionFollower(context.agent, this.channel, (sessionId) => applyProposal(this.client, this.follower, { sessionId }), () => this.client.disposed);
    this.client.onNotify((method, params) => {
      if (method === 'codeloop/sessionUpdate') this.follower.sessionUpdated(params as SessionUpdate);
    });
  }

  get id(): number {
    return this.client.id;
  }

  get name(): string {
    return this.client.name;
  }

  listen(): void {
    const c = this.connection;
    const { requests, notifications } = clientRoutes({ client: this.client, follower: this.follower, folders: this.folders });
    c.onInitialize((params) => this.initialize(params));
    c.onInitialized(() => {
      // Only now (after the library has filled in the capabilities) does subscribing not trigger a registration;
      // for clients that advertise `workspaceFolders` the library's own handler replaced the routed one.
      if (this.advertisesFolders) c.workspace.onDidChangeWorkspaceFolders((event) => this.folders.change(event.added, event.removed));
      this.folders.initialized();
    });
    c.onShutdown(() => this.context.registry.detach(this.client));
    // Registered by name, not through the library's typed helpers: those read `params.workDoneToken` before any
    // validation, so a malformed request became an internal error instead of InvalidParams. Params absent or
    // `[]` (Neovim encodes an empty table so) reach a by-name handler as no argument: `requestParams` sorts it.
    for (const method of Object.keys(requests) as (keyof RequestRoutes)[]) {
      c.onRequest(method, guarded((...args: unknown[]) => route(requests, method, parseParams(requestSchema(method), requestParams(args, method), method) as never)));
    }
    for (const [method, handler] of Object.entries(notifications)) c.onNotification(method, handler);
    const documents = this.client.documents;
    documents.onDidChangeContent(({ document }) => this.buffers.changed(document));
    documents.onDidClose(({ document }) => this.buffers.closed(document.uri));
    documents.listen(boundedDocumentConnection(c, documents, (uri, characters) => this.buffers.tooLarge(uri, characters)));
    c.listen();
  }

  private initialize(params: InitializeParams): InitializeResult {
    const client = this.client;
    client.name = params.clientInfo ? `${params.clientInfo.name}${params.clientInfo.version ? ` ${params.clientInfo.version}` : ''}` : 'unknown client';
    client.configuration = { values: params.initializationOptions, source: `initializationOptions from ${client.name}` };
    client.workspaceEditCapabilities = params.capabilities.workspace?.workspaceEdit;
    this.channel.capabilities = params.capabilities;
    this.advertisesFolders = Boolean(params.capabilities.workspace?.workspaceFolders);
    this.folders.initialize(params);
    return { capabilities: serverCapabilities(), serverInfo: { name: 'codeloop', version: this.context.version } };
  }

  /** The connection is gone (exit, closed socket, crashed editor): release what this client held. */
  async dispose(): Promise<void> {
    if (this.client.disposed) return;
    this.client.disposed = true;
    this.context.clients.delete(this);
    this.connection.dispose();
    await this.context.registry.detach(this.client);
  }
}
