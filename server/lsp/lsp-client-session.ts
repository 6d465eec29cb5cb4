import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  DidChangeWorkspaceFoldersNotification, ErrorCodes, LogMessageNotification, LSPErrorCodes, MessageType, ResponseError, ShowMessageNotification, TextDocuments,
  type CodeAction, type Connection, type InitializeParams,
  type InitializeResult, type SymbolInformation, type WorkspaceFolder,
} from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { ConfigSchema } from '../../protocol/config.js';
import { describeLimit, groupThousands } from '../../protocol/limits.js';
import {
  clientRequests, commandArgumentsFromString, commands, lspRequests, type ClientRequestMethod, type CommandId, type DaemonStatus,
  type LspRequestParams, type RequestParams, type RequestResult,
} from '../../protocol/lsp-methods.js';
import fs from 'node:fs';
import type { AgentService } from '../agent/agent-service.js';
import type { SessionRecord } from '../agent/session-store.js';
import { loadConfig } from '../config/load-config.js';
import { diskText, planProposalApply } from '../edits/apply-proposal.js';
import { stateHome } from '../config/state-paths.js';
import { CodeloopError, errorMessage } from '../errors.js';
import { tooLargeBufferProblem, type IndexProblem } from '../index/index-problems.js';
import { ModelClient } from '../model/model-client.js';
import { proposalDocumentChanges } from './proposal-edits.js';
import { isUriInside, isUriUnder, uriToWorkspacePath, workspacePathToUri } from '../workspace/path-confinement.js';
import type { AttachedClient, Workspace, WorkspaceRegistry } from '../workspace/workspace-registry.js';
import { serverCapabilities } from './capabilities.js';
import type { EventLoopMonitor } from './event-loop-monitor.js';
import { codeActionsFor } from './code-actions.js';
import { boundedDocumentConnection } from './bounded-documents.js';
import { OVERSIZED_MESSAGE_METHOD, OversizedMessageSchema, oversizedMessageText } from './frame-guard.js';
import { guarded, parseParams } from './response-errors.js';
import { LSP_SYMBOL_KIND } from './symbol-kinds.js';

/** What every client connection of one process shares. */
export interface ServerContext {
  readonly registry: WorkspaceRegistry;
  readonly mode: 'daemon' | 'standalone';
  readonly socketPath: string | null;
  readonly startedAt: string;
  readonly version: string;
  readonly clients: Set<LspClientSession>;
  readonly agent: AgentService;
  /** The shared event loop's delay and the requests behind its stalls. */
  readonly loop: EventLoopMonitor;
  /** Stops the daemon (answered first); refused in standalone mode. */
  stopDaemon(): void;
}

const WORKSPACE_SYMBOL_LIMIT = 100;
const STATUS_SESSION_LIMIT = 50;
let nextClientId = 1;

function folderPath(uri: string): string {
  return fileURLToPath(uri);
}

/**
 * One editor (or CLI) connection: the wiring table that binds each LSP and codeloop method to a few lines that
 * validate, call a service and map the result. State shared with other clients lives in the registry.
 */
export class LspClientSession implements AttachedClient {
  readonly id = nextClientId++;
  name = 'unknown client';
  private readonly documents = new TextDocuments(TextDocument);
  private initializationOptions: unknown;
  private supportsProgress = false;
  private disposed = false;
  /** Documents already reported as too large to index (said once, not at every keystroke). */
  private readonly toldTooLarge = new Set<string>();
  /** Folders from `initialize`, attached on `initialized` (when progress may be reported). */
  private pendingFolders: WorkspaceFolder[] = [];

  constructor(
    private readonly connection: Connection,
    private readonly context: ServerContext,
  ) {}

  listen(): void {
    const c = this.connection;
    c.onInitialize((params) => this.initialize(params));
    c.onInitialized(() => this.attachInitialFolders());
    c.onShutdown(() => this.detachAll());
    c.onDidChangeConfiguration((params) => this.changeConfiguration(params.settings));
    c.onNotification(DidChangeWorkspaceFoldersNotification.type, (params) => this.changeFolders(params.event.added, params.event.removed));
    // Registered by name, not through the library's typed helpers: those read `params.workDoneToken` before any
    // validation, so a malformed request became an internal error instead of InvalidParams.
    const standard = <M extends keyof typeof lspRequests>(method: M, handler: (params: LspRequestParams<M>) => unknown) => {
      c.onRequest(method, guarded((params: unknown) => handler(parseParams(lspRequests[method], params, method) as LspRequestParams<M>)));
    };
    standard('workspace/symbol', (params) => this.workspaceSymbols(params.query));
    standard('textDocument/codeAction', (params) => this.codeActions(params));
    standard('workspace/executeCommand', (params) => this.executeCommand(params));
    this.documents.onDidChangeContent(({ document }) => this.bufferChanged(document));
    this.documents.onDidClose(({ document }) => this.bufferClosed(document.uri));
    this.documents.listen(boundedDocumentConnection(c, this.documents, (uri, characters) => this.bufferTooLarge(uri, characters)));
    // Stand-ins the frame guard put in place of messages over the size limit: the request is refused, a
    // notification (a huge didOpen) is ignored with a word to the user.
    c.onRequest(OVERSIZED_MESSAGE_METHOD, guarded((params: unknown) => {
      throw new ResponseError(ErrorCodes.InvalidParams, `codeloop: ${oversizedMessageText(parseParams(OversizedMessageSchema, params, OVERSIZED_MESSAGE_METHOD))}`);
    }));
    c.onNotification(OVERSIZED_MESSAGE_METHOD, (params: unknown) => {
      const parsed = OversizedMessageSchema.safeParse(params);
      if (parsed.success) this.tell(MessageType.Warning, oversizedMessageText(parsed.data));
    });
    for (const method of Object.keys(clientRequests) as ClientRequestMethod[]) {
      c.onRequest(method, guarded((params: unknown) => this.handleRequest(method, parseParams(clientRequests[method][0], params, method))));
    }
    c.listen();
  }

  notify(method: string, params: unknown): void {
    if (!this.disposed) void this.connection.sendNotification(method, params).catch(() => undefined);
  }

  private initialize(params: InitializeParams): InitializeResult {
    this.name = params.clientInfo ? `${params.clientInfo.name}${params.clientInfo.version ? ` ${params.clientInfo.version}` : ''}` : 'unknown client';
    this.initializationOptions = params.initializationOptions;
    this.supportsProgress = params.capabilities.window?.workDoneProgress === true;
    const folders: WorkspaceFolder[] = params.workspaceFolders
      ?? (params.rootUri ? [{ uri: params.rootUri, name: path.basename(folderPath(params.rootUri)) }] : []);
    this.pendingFolders = folders;
    return { capabilities: serverCapabilities(), serverInfo: { name: 'codeloop', version: this.context.version } };
  }

  private attachInitialFolders(): void {
    this.changeFolders(this.pendingFolders, []);
    this.pendingFolders = [];
  }

  private changeFolders(added: WorkspaceFolder[], removed: WorkspaceFolder[]): void {
    for (const folder of removed) {
      const workspace = this.workspaces().find((candidate) => candidate.root === folderPath(folder.uri));
      if (workspace) void this.context.registry.detach(this, workspace.root);
    }
    for (const folder of added) void this.attach(folderPath(folder.uri));
  }

  /** Joins (or opens) a workspace at once, so requests right after `initialized` find it; progress follows. */
  private async attach(dir: string): Promise<void> {
    type Reporter = Awaited<ReturnType<Connection['window']['createWorkDoneProgress']>>;
    let reporter: Reporter | null = null;
    // This client may vanish while the shared index builds: reporting to it must never fail the indexing.
    const tell = (report: (progress: Reporter) => void) => {
      if (!reporter || this.disposed) return;
      try {
        report(reporter);
      } catch {
        // the connection is gone; nothing to tell
      }
    };
    let workspace: Workspace;
    try {
      workspace = this.context.registry.attach(dir, this, this.initializationOptions, (done, total) => {
        tell((progress) => progress.report(total ? Math.floor((done / total) * 100) : 100, `${done}/${total} files`));
      });
    } catch (error) {
      this.showError(errorMessage(error));
      return;
    }
    if (this.supportsProgress && workspace.indexing) {
      reporter = await this.connection.window.createWorkDoneProgress().catch(() => null);
      tell((progress) => progress.begin(`codeloop: indexing ${path.basename(workspace.root)}`, 0, undefined, false));
    }
    await workspace.ready;
    tell((progress) => progress.done());
    if (this.disposed) return;
    for (const problem of workspace.index.problems()) this.showIndexProblem(workspace.root, problem);
    // Buffers the editor opened before the workspace existed now belong to it.
    for (const document of this.documents.all()) if (isUriInside(workspace.root, document.uri)) this.bufferChanged(document);
  }

  /**
   * `window/showMessage` (or, for what only belongs in the log, `window/logMessage`), as notifications: the
   * library's showXMessage helpers send `showMessageRequest`, which Helix lacks and Neovim turns into a prompt.
   */
  private tell(type: MessageType, message: string, logOnly = false): void {
    if (this.disposed) return;
    const params = { type, message: `codeloop: ${message}` };
    const sent = logOnly ? this.connection.sendNotification(LogMessageNotification.type, params) : this.connection.sendNotification(ShowMessageNotification.type, params);
    void sent.catch(() => undefined);
  }

  showIndexProblem(root: string, problem: IndexProblem): void {
    const message = `${path.basename(root)}: ${problem.message}`;
    if (problem.severity === 'warning') this.tell(MessageType.Warning, message);
    else this.tell(MessageType.Info, message, true);
  }

  private showError(message: string): void {
    this.tell(MessageType.Error, message);
  }

  private workspaces(): Workspace[] {
    return this.context.registry.of(this);
  }

  /** The workspace a document belongs to (deepest root), or an error the user can act on. */
  private workspaceOf(uri: string): { workspace: Workspace; relativePath: string } {
    for (const workspace of this.workspaces()) {
      if (isUriInside(workspace.root, uri)) return { workspace, relativePath: uriToWorkspacePath(workspace.root, uri) };
    }
    // Under a root yet refused: says which link leads out
    const under = this.workspaces().find((workspace) => isUriUnder(workspace.root, uri));
    if (under) uriToWorkspacePath(under.root, uri);
    throw new CodeloopError('pathOutsideWorkspace', `${uri} is not inside any workspace folder this client opened`);
  }

  private workspaceFor(workspaceUri: string | undefined): Workspace {
    const workspaces = this.workspaces();
    if (workspaceUri === undefined) {
      if (!workspaces.length) throw new CodeloopError('notFound', 'no workspace folder is open in this client');
      return workspaces[workspaces.length - 1];
    }
    const root = folderPath(workspaceUri);
    const match = workspaces.find((workspace) => workspace.root === root) ?? workspaces.find((workspace) => isUriInside(workspace.root, workspaceUri));
    if (!match) throw new CodeloopError('notFound', `${workspaceUri} is not a workspace folder of this client`);
    return match;
  }

  private bufferChanged(document: TextDocument): void {
    const owner = this.workspaces().find((workspace) => isUriInside(workspace.root, document.uri));
    if (!owner) return;
    const relativePath = uriToWorkspacePath(owner.root, document.uri);
    const text = document.getText();
    if (owner.index.isTooLarge(text) && !this.toldTooLarge.has(document.uri)) {
      this.toldTooLarge.add(document.uri);
      this.showIndexProblem(owner.root, tooLargeBufferProblem(relativePath, Buffer.byteLength(text)));
    }
    void owner.setBuffer(this.id, relativePath, text);
  }

/** A buffer over LIMITS.bufferCharacters is not tracked: said once per document, since the editor keeps sending it. */
  private bufferTooLarge(uri: string, characters: number): void {
    const key = `over the buffer limit: ${uri}`;
    if (this.toldTooLarge.has(key)) return;
    this.toldTooLarge.add(key);
    this.tell(MessageType.Warning, `${uri} is ${groupThousands(characters)} characters, over the limit of ${describeLimit('bufferCharacters')}; codeloop ignores this buffer and reads the file on disk`);
  }

  private bufferClosed(uri: string): void {
    const owner = this.workspaces().find((workspace) => isUriInside(workspace.root, uri));
    if (owner) void owner.closeBuffer(this.id, uriToWorkspacePath(owner.root, uri));
  }

  private changeConfiguration(settings: unknown): void {
    const section = (settings as { codeloop?: unknown } | null)?.codeloop;
    if (section === undefined) return;
    const parsed = ConfigSchema.safeParse(section);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      this.showError(`invalid settings at ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
      return;
    }
    // Index settings shape a shared index: they apply when a workspace is next opened by its first client.
    this.initializationOptions = section;
  }

  private workspaceSymbols(query: string): SymbolInformation[] {
    const symbols = this.workspaces().flatMap((workspace) => workspace.index.searchSymbols(query, WORKSPACE_SYMBOL_LIMIT)
      .map((symbol) => ({ symbol, root: workspace.root })));
    symbols.sort((a, b) => (b.symbol.score ?? 0) - (a.symbol.score ?? 0));
    return symbols.slice(0, WORKSPACE_SYMBOL_LIMIT).map(({ symbol, root }) => ({
      name: symbol.name,
      kind: LSP_SYMBOL_KIND[symbol.kind],
      containerName: symbol.container ?? undefined,
      location: {
        uri: workspacePathToUri(root, symbol.path),
        range: { start: { line: symbol.startLine, character: symbol.startCharacter }, end: { line: symbol.endLine, character: symbol.endCharacter } },
      },
    }));
  }

  private codeActions(params: LspRequestParams<'textDocument/codeAction'>): CodeAction[] {
    const { workspace, relativePath } = this.workspaceOf(params.textDocument.uri);
    const text = this.documents.get(params.textDocument.uri)?.getText() ?? workspace.index.readText(relativePath) ?? '';
    return codeActionsFor({
      uri: params.textDocument.uri,
      text,
      range: params.range,
      diagnostics: params.context.diagnostics,
      only: params.context.only,
      symbols: workspace.index.symbolsInFile(relativePath),
      proposals: this.context.agent.list(workspace.root)
        .filter((session) => session.state === 'awaitingApproval' || session.state === 'awaitingPlanApproval')
        .map((session) => this.summaryOf(session)),
    });
  }

  private executeCommand(params: LspRequestParams<'workspace/executeCommand'>): unknown {
    const command = params.command as CommandId;
    if (!(command in commands)) throw new ResponseError(LSPErrorCodes.RequestFailed, `codeloop: unknown command ${JSON.stringify(params.command)}`);
    const [first] = params.arguments ?? [];
    const raw = typeof first === 'string' ? commandArgumentsFromString(command, first) : first;
    switch (command) {
      case 'codeloop.startTask':
        return this.startTask(parseParams(commands[command], raw, command));
      case 'codeloop.approvePlan':
        return this.handleRequest('codeloop/approvePlan', parseParams(commands[command], raw, command));
      case 'codeloop.applyProposal':
        return this.applyProposal(parseParams(commands[command], raw, command));
      case 'codeloop.showProposal':
        return this.showProposal(parseParams(commands[command], raw, command).sessionId);
      case 'codeloop.rejectProposal':
        return this.handleRequest('codeloop/reject', parseParams(commands[command], raw, command));
      case 'codeloop.cancelTask':
        return this.handleRequest('codeloop/cancel', parseParams(commands[command], raw, command));
    }
  }

  private summaryOf(session: SessionRecord) {
    return this.context.agent.summary(session);
  }

  /** Sessions of a workspace this client opened; others' are not its business. */
  private ownSession(sessionId: string): SessionRecord {
    const session = this.context.agent.get(sessionId);
    if (!this.workspaces().some((workspace) => workspace.root === session.root)) {
      throw new CodeloopError('notFound', `no session ${JSON.stringify(sessionId)} in this client's workspaces`);
    }
    return session;
  }

  private startTask(params: RequestParams<'codeloop/startTask'>): { sessionId: string } {
    const { workspace, relativePath } = params.uri
      ? this.workspaceOf(params.uri)
      : { workspace: this.workspaceFor(undefined), relativePath: undefined };
    const config = loadConfig(workspace.root, this.initializationOptions);
    const model = new ModelClient(config.model);
    const session = this.context.agent.start(
      { root: workspace.root, index: workspace.index, unsavedBuffers: () => workspace.unsavedBuffers() },
      config.agent, model,
      { prompt: params.prompt, kind: params.kind, path: relativePath, range: params.range, autoApprovePlan: params.autoApprovePlan },
    );
    void this.followWithProgress(session.sessionId);
    return { sessionId: session.sessionId };
  }

  /**
   * Follows a session for the client that started it: `$/progress` while it works, a message when it waits for
   * the user, and the auto-apply rules when its proposal qualifies.
   */
  private async followWithProgress(sessionId: string): Promise<void> {
    if (this.disposed) return;
    const progress = this.supportsProgress ? await this.connection.window.createWorkDoneProgress().catch(() => null) : null;
    const safe = (report: () => void) => {
      try {
        if (!this.disposed) report();
      } catch {
        // the client went away
      }
    };
    safe(() => progress?.begin('codeloop: working', undefined, this.context.agent.get(sessionId).prompt.slice(0, 80), true));
    const stopListening = this.context.agent.onModelProgress(sessionId, (characters) => {
      safe(() => progress?.report(`model writing… ${characters} characters`));
    });
    const settled = await this.context.agent.nextSettle(sessionId);
    stopListening();
    safe(() => progress?.done());
    const auto = this.context.agent.autoApplyVerdict(sessionId);
    if (auto.allowed && !this.disposed) {
      const result = await this.applyProposal({ sessionId }).catch((error) => ({ applied: false, conflicts: [errorMessage(error)] }));
      this.tell(MessageType.Info, result.applied ? `applied without asking (${auto.reason})` : `could not auto-apply: ${result.conflicts.join(', ')}`);
      return;
    }
    const what = settled.state === 'awaitingApproval' ? 'proposal ready: use the code action "Apply proposal" or "Show proposal"'
      : settled.state === 'awaitingPlanApproval' ? `plan ready: use the code action "Approve plan"\n${settled.plan ?? ''}`
        : `${settled.state}${settled.error ? `: ${settled.error}` : ''}`;
    this.tell(MessageType.Info, what);
    if (settled.state === 'awaitingPlanApproval') void this.followWithProgress(sessionId);
    // An explanation is the session's answer, not an edit: show it as a document.
    if (settled.kind === 'explain' && settled.summary) {
      const file = path.join(stateHome(), 'explanations', `${sessionId}.md`);
      fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      fs.writeFileSync(file, `# ${settled.prompt}\n\n${settled.summary}\n`);
      await this.connection.window.showDocument({ uri: pathToFileURL(file).href, takeFocus: true }).catch(() => undefined);
    }
  }

  /**
   * Sends the proposal to this client as a versioned WorkspaceEdit, each file rebased onto its text now (the open
   * buffer, else the disk): later edits that touch none of the proposal's hunks are kept; a hunk that was also
   * edited is a conflict naming the file and lines, and that file is left alone.
   */
  private async applyProposal(params: RequestParams<'codeloop/applyProposal'>): Promise<RequestResult<'codeloop/applyProposal'>> {
    const session = this.ownSession(params.sessionId);
    if (session.state !== 'awaitingApproval' || !session.proposal) {
      throw new CodeloopError('invalidArgument', `session ${session.sessionId} has no proposal waiting (it is ${session.state})`);
    }
    const wanted = params.files ? new Set(params.files) : null;
    const plan = planProposalApply(session.proposal.filter((file) => !wanted || wanted.has(file.path)), (relative) => {
      const buffer = this.documents.get(workspacePathToUri(session.root, relative))?.getText();
      // Confined (links leading out refused) whether the text comes from the buffer or the disk
      const onDisk = diskText(session.root, relative);
      return buffer ?? onDisk;
    });
    const files = plan.files.filter((file) => file.action !== 'unchanged');
    if (!files.length) return { applied: plan.files.length > 0 && plan.conflicts.length === 0, conflicts: plan.conflicts };
    const documentChanges = proposalDocumentChanges(files, (relative) => workspacePathToUri(session.root, relative),
      (uri) => this.documents.get(uri)?.version ?? null);
    const result = await this.connection.workspace.applyEdit({ label: `codeloop: ${session.prompt.slice(0, 60)}`, edit: { documentChanges } });
    if (result.applied && plan.conflicts.length === 0) this.context.agent.markApplied(session.sessionId, plan.files.map((file) => file.path));
    return { applied: result.applied, conflicts: plan.conflicts };
  }

  /** Writes the proposal's diff under the state dir and asks the editor to open it. */
  private async showProposal(sessionId: string): Promise<{ uri: string }> {
    const session = this.ownSession(sessionId);
    if (!session.diff) throw new CodeloopError('invalidArgument', `session ${sessionId} has no proposal (it is ${session.state})`);
    const file = path.join(stateHome(), 'proposals', `${sessionId}.diff`);
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    fs.writeFileSync(file, session.diff);
    const uri = pathToFileURL(file).href;
    await this.connection.window.showDocument({ uri, takeFocus: true }).catch(() => undefined);
    return { uri };
  }

  private handleRequest<M extends ClientRequestMethod>(method: M, params: RequestParams<M>): RequestResult<M> | Promise<RequestResult<M>> {
    const handlers: { [K in ClientRequestMethod]: (params: RequestParams<K>) => RequestResult<K> | Promise<RequestResult<K>> } = {
      'codeloop/startTask': (p) => this.startTask(p),
      'codeloop/approvePlan': (p) => {
        this.ownSession(p.sessionId);
        this.context.agent.approvePlan(p.sessionId, p.plan);
        return null;
      },
      'codeloop/reject': (p) => {
        this.ownSession(p.sessionId);
        this.context.agent.reject(p.sessionId, p.feedback);
        return null;
      },
      'codeloop/cancel': (p) => {
        this.ownSession(p.sessionId);
        this.context.agent.cancel(p.sessionId);
        return null;
      },
      'codeloop/applyProposal': (p) => this.applyProposal(p),
      'codeloop/getSession': (p) => ({ ...this.ownSession(p.sessionId), events: this.context.agent.events(p.sessionId) }),
      'codeloop/listSessions': () => ({
        sessions: this.workspaces().flatMap((workspace) => this.context.agent.list(workspace.root)).map((session) => this.summaryOf(session)),
      }),
      'codeloop/search': (p) => this.workspaceFor(p.workspaceUri).index.search(p),
      'codeloop/indexStatus': (p) => this.workspaceFor(p.workspaceUri).index.status(),
      'codeloop/status': () => this.status(),
      'codeloop/stopDaemon': () => {
        if (this.context.mode !== 'daemon') throw new CodeloopError('invalidArgument', 'this codeloop runs standalone; there is no daemon to stop');
        setImmediate(() => this.context.stopDaemon());
        return null;
      },
    };
    return handlers[method](params);
  }

  private status(): DaemonStatus {
    const registry = this.context.registry;
    const memory = process.memoryUsage();
    return {
      pid: process.pid,
      version: this.context.version,
      mode: this.context.mode,
      startedAt: this.context.startedAt,
      socketPath: this.context.socketPath,
      memory: { rssBytes: memory.rss, heapUsedBytes: memory.heapUsed },
      eventLoop: this.context.loop.delay(),
      clients: [...this.context.clients].map((client) => ({ id: client.id, name: client.name, workspaces: registry.of(client).map((w) => w.root) })),
      workspaces: registry.list().map((workspace) => ({
        root: workspace.root, clients: workspace.clients.size, indexing: workspace.indexing, index: workspace.index.status(), problems: workspace.index.problems(),
      })),
      // Every workspace's recent sessions, open or not: what `codeloop status` shows the user.
      sessions: this.context.agent.list().slice(0, STATUS_SESSION_LIMIT).map((session) => this.summaryOf(session)),
    };
  }

  private async detachAll(): Promise<void> {
    await this.context.registry.detach(this);
  }

  /** The connection is gone (exit, closed socket, crashed editor): release what this client held. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.context.clients.delete(this);
    this.connection.dispose();
    await this.detachAll();
  }
}
