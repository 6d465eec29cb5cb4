import type { Connection, InitializeParams, InitializeResult } from 'vscode-languageserver';
import { boundedDocumentConnection } from './bounded-documents.js';
import { serverCapabilities } from './capabilities.js';
import { clientFeatures, listenToDocuments, type ClientFeatures } from './client-features.js';
import type { ClientContext } from './client-context.js';
import { ConnectionEditorChannel } from './editor-channel.js';
import { guarded, requestParams } from './response-errors.js';
import { handleRequest, type RequestMethod } from './routes.js';
import type { ConnectedClient, ServerContext } from './server-context.js';

/**
 * One editor (or CLI) connection: wires the connection to the client's features (client-features.ts) — the
 * routing table, its buffers, its workspace folders — over a ConnectionEditorChannel. State shared with other
 * clients lives in the registry.
 */
export class LspClientSession implements ConnectedClient {
  private readonly channel: ConnectionEditorChannel;
  private readonly features: ClientFeatures;
  private advertisesFolders = false;
  /** Requests being served: a stopping daemon lets their answers out before it ends the connection. */
  private readonly serving = new Set<Promise<unknown>>();

  constructor(private readonly connection: Connection, private readonly context: ServerContext) {
    this.channel = new ConnectionEditorChannel(connection, () => this.client.disposed);
    this.features = clientFeatures(context, this.channel);
  }

  get client(): ClientContext {
    return this.features.client;
  }

  get id(): number {
    return this.client.id;
  }

  get name(): string {
    return this.client.name;
  }

  listen(): void {
    const c = this.connection;
    const { buffers, folders, routes: { requests, notifications } } = this.features;
    c.onInitialize((params) => this.initialize(params));
    c.onInitialized(() => {
      // Only now (after the library has filled in the capabilities) does subscribing not trigger a registration;
      // for clients that advertise `workspaceFolders` the library's own handler replaced the routed one.
      if (this.advertisesFolders) c.workspace.onDidChangeWorkspaceFolders((event) => folders.change(event.added, event.removed));
      folders.initialized();
    });
    c.onShutdown(() => this.context.registry.detach(this.client));
    // Registered by name, not through the library's typed helpers: those read `params.workDoneToken` before any
    // validation, so a malformed request became an internal error instead of InvalidParams. Params absent or
    // `[]` (Neovim encodes an empty table so) reach a by-name handler as no argument: `requestParams` sorts it.
    for (const method of Object.keys(requests) as RequestMethod[]) {
      const handler = guarded((...args: unknown[]) => handleRequest(requests, method, requestParams(args, method)));
      c.onRequest(method, (...args: unknown[]) => {
        const answer = handler(...args);
        this.serving.add(answer);
        void answer.finally(() => this.serving.delete(answer));
        return answer;
      });
    }
    for (const [method, handler] of Object.entries(notifications)) c.onNotification(method, handler);
    listenToDocuments(this.features, boundedDocumentConnection(c, this.client.documents, (uri, characters) => buffers.tooLarge(uri, characters)));
    c.listen();
  }

  private initialize(params: InitializeParams): InitializeResult {
    const client = this.client;
    client.name = params.clientInfo ? `${params.clientInfo.name}${params.clientInfo.version ? ` ${params.clientInfo.version}` : ''}` : 'unknown client';
    client.configuration = { values: params.initializationOptions, source: `initializationOptions from ${client.name}` };
    client.workspaceEditCapabilities = params.capabilities.workspace?.workspaceEdit;
    this.channel.capabilities = params.capabilities;
    this.advertisesFolders = Boolean(params.capabilities.workspace?.workspaceFolders);
    this.features.folders.initialize(params);
    return { capabilities: serverCapabilities(), serverInfo: { name: 'codeloop', version: this.context.version } };
  }

  async answered(withinMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeUp = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, withinMs);
    });
    await Promise.race([Promise.allSettled([...this.serving]), timeUp]);
    clearTimeout(timer);
    // The library writes an answer a turn of the event loop after its handler settles.
    await new Promise((resolve) => setImmediate(resolve));
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
