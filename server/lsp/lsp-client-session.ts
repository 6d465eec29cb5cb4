import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  DidChangeWorkspaceFoldersNotification, ErrorCodes, LogMessageNotification, LSPErrorCodes, MessageType, ResponseError, ShowMessageNotification, TextDocuments,
  type CodeAction, type Connection, type InitializeParams,
  type InitializeResult, type SymbolInformation, type WorkspaceEditClientCapabilities, type WorkspaceFolder,
} from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { describeLimit, groupThousands } from '../../protocol/limits.js';
import {
  clientRequests, commandArgumentsFromString, commands, lspRequests, type ClientRequestMethod, type CommandArguments, type CommandId, type DaemonStatus,
  type LspRequestParams, type RequestParams, type RequestResult, type SessionState, type SessionUpdate,
} from '../../protocol/lsp-methods.js';
import { FINAL_SESSION_STATES } from '../../protocol/session-lifecycle.js';
import fs from 'node:fs';
import type { AgentService, SessionHost } from '../agent/agent-service.js';
import type { SessionRecord } from '../agent/session-store.js';
import { transcriptText } from '../agent/transcript-text.js';
import { loadConfig, type ConfigOverrides } from '../config/load-config.js';
import { diskText, planProposalApply } from '../edits/apply-proposal.js';
import { CodeloopError, errorMessage } from '../errors.js';
import { tooLargeBufferProblem, type IndexProblem } from '../index/index-problems.js';
import { ModelClient } from '../model/model-client.js';
import { proposalWorkspaceEdit } from './proposal-edits.js';
import { isUriInside, isUriUnder, uriToWorkspacePath, workspacePathToUri } from '../workspace/path-confinement.js';
import type { AttachedClient, Workspace, WorkspaceRegistry } from '../workspace/workspace-registry.js';
import { serverCapabilities } from './capabilities.js';
import type { EventLoopMonitor } from './event-loop-monitor.js';
import { codeActionsFor, commentDirective } from './code-actions.js';
import { boundedDocumentConnection } from './bounded-documents.js';
import { OVERSIZED_MESSAGE_METHOD, OversizedMessageSchema, oversizedMessageText } from './frame-guard.js';
import { guarded, parseParams, requestParams } from './response-errors.js';
import { writeExplanationDocument, writePlanDocument, writeProposalDocument } from './session-documents.js';
import { progressMessage, quoted, settledMessage } from './session-messages.js';
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
/** States each session command acts on, to find its session when the client sent no sessionId. */
const COMMAND_STATES: Record<Exclude<CommandId, 'codeloop.startTask'>, SessionState[]> = {
  'codeloop.approvePlan': ['awaitingPlanApproval'],
  'codeloop.showPlan': ['awaitingPlanApproval'],
  'codeloop.rejectPlan': ['awaitingPlanApproval'],
  'codeloop.applyProposal': ['awaitingApproval'],
  'codeloop.showProposal': ['awaitingApproval'],
  'codeloop.rejectProposal': ['awaitingApproval'],
  'codeloop.cancelTask': ['planning', 'awaitingPlanApproval', 'working', 'testing', 'awaitingApproval', 'interrupted'],
  'codeloop.resumeSession': ['interrupted'],
  'codeloop.pauseSession': ['planning', 'working', 'testing'],
  'codeloop.steerSession': ['planning', 'awaitingPlanApproval', 'working', 'testing'],
};
type Progress = Awaited<ReturnType<Connection['window']['createWorkDoneProgress']>>;
const STATUS_SESSION_LIMIT = 50;
let nextClientId = 1;

/** What the agent needs to run a session of `workspace` in this process: its config (read now) and model. */
function workspaceHost(workspace: Workspace, overrides?: ConfigOverrides): SessionHost {
  const config = loadConfig(workspace.root, overrides);
  return {
    workspace: { root: workspace.root, index: workspace.index, unsavedBuffers: () => workspace.unsavedBuffers() },
    config: config.agent, model: new ModelClient(config.model),
  };
}

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
  private initializationOptions: ConfigOverrides | undefined;
  private supportsProgress = false;
  private advertisesFolders = false;
  private workspaceEditCapabilities: WorkspaceEditClientCapabilities | undefined;
  /** Folders that could not be opened, and why: said again when a request needs them. */
  private readonly refusedFolders = new Map<string, string>();
  /** Each open workspace folder's workspace root (the repository holding it, as resolveWorkspaceRoot finds it). */
  private readonly folderRoots = new Map<string, string>();
  /** Sessions this client follows with `$/progress` (it started them), with the progress of their current phase. */
  private readonly following = new Map<string, Progress | null>();
  /** Sessions whose last change this client made itself (apply, reject, cancel): no need to announce it back. */
  private readonly changedHere = new Set<string>();
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
    c.onInitialized(() => this.initialized());
    c.onShutdown(() => this.detachAll());
    c.onDidChangeConfiguration((params) => this.changeConfiguration(params.settings));
    // For clients that do not advertise `workspaceFolders`; for those that do, the library's own handler
    // replaces this one at `initialize`, and `initialized` subscribes to it instead.
    c.onNotification(DidChangeWorkspaceFoldersNotification.type, (params) => this.changeFolders(params.event.added, params.event.removed));
    // Registered by name, not through the library's typed helpers: those read `params.workDoneToken` before any
    // validation, so a malformed request became an internal error instead of InvalidParams. Params absent or
    // `[]` (Neovim encodes an empty table so) reach a by-name handler as no argument: `requestParams` sorts it.
    const standard = <M extends keyof typeof lspRequests>(method: M, handler: (params: LspRequestParams<M>) => unknown) => {
      c.onRequest(method, guarded((...args: unknown[]) => handler(parseParams(lspRequests[method], requestParams(args, method), method) as LspRequestParams<M>)));
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
      c.onRequest(method, guarded((...args: unknown[]) => this.handleRequest(method, parseParams(clientRequests[method][0], requestParams(args, method), method))));
    }
    c.listen();
  }

  notify(method: string, params: unknown): void {
    if (this.disposed) return;
    void this.connection.sendNotification(method, params).catch(() => undefined);
    if (method === 'codeloop/sessionUpdate') this.sessionUpdated(params as SessionUpdate);
  }

  private initialize(params: InitializeParams): InitializeResult {
    this.name = params.clientInfo ? `${params.clientInfo.name}${params.clientInfo.version ? ` ${params.clientInfo.version}` : ''}` : 'unknown client';
    this.initializationOptions = { values: params.initializationOptions, source: `initializationOptions from ${this.name}` };
    this.supportsProgress = params.capabilities.window?.workDoneProgress === true;
    this.advertisesFolders = Boolean(params.capabilities.workspace?.workspaceFolders);
    this.workspaceEditCapabilities = params.capabilities.workspace?.workspaceEdit;
    const folders: WorkspaceFolder[] = params.workspaceFolders
      ?? (params.rootUri ? [{ uri: params.rootUri, name: path.basename(folderPath(params.rootUri)) }] : []);
    this.pendingFolders = folders;
    return { capabilities: serverCapabilities(), serverInfo: { name: 'codeloop', version: this.context.version } };
  }

  private initialized(): void {
    // Only now (after the library has filled in the capabilities) does subscribing not trigger a registration.
    if (this.advertisesFolders) this.connection.workspace.onDidChangeWorkspaceFolders((event) => this.changeFolders(event.added, event.removed));
    this.changeFolders(this.pendingFolders, []);
    this.pendingFolders = [];
  }

  private changeFolders(allAdded: WorkspaceFolder[], allRemoved: WorkspaceFolder[]): void {
    // Neovim 0.7 pads each change with an empty folder `{}`: only entries naming a file URI count.
    const valid = (folders: WorkspaceFolder[]) => (Array.isArray(folders) ? folders : [])
      .filter((folder) => typeof folder?.uri === 'string' && folder.uri.startsWith('file:'));
    const added = valid(allAdded);
    const removed = valid(allRemoved);
    for (const folder of removed) {
      const dir = folderPath(folder.uri);
      this.refusedFolders.delete(dir);
      const root = this.folderRoots.get(dir);
      this.folderRoots.delete(dir);
      // Two folders of one repository share its workspace: it stays while either is open.
      if (root !== undefined && ![...this.folderRoots.values()].includes(root)) void this.context.registry.detach(this, root);
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
      }, (warning) => this.tell(MessageType.Warning, warning));
      this.folderRoots.set(dir, workspace.root);
    } catch (error) {
      const reason = `the folder ${dir} was not opened: ${errorMessage(error)}`;
      this.refusedFolders.set(dir, reason);
      this.showError(reason);
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
    for (const [folder, reason] of this.refusedFolders) if (isUriInside(folder, uri)) throw new CodeloopError('invalidConfig', reason);
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
    const overrides = { values: section, source: `workspace/didChangeConfiguration from ${this.name}` };
    try {
      for (const workspace of this.workspaces()) loadConfig(workspace.root, overrides, process.env, (warning) => this.tell(MessageType.Warning, warning));
    } catch (error) {
      this.showError(errorMessage(error));
      return;
    }
    // Index settings shape a shared index: they apply when a workspace is next opened by its first client.
    this.initializationOptions = overrides;
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
    const uri = params.textDocument.uri;
    const owner = this.workspaces().find((workspace) => isUriInside(workspace.root, uri));
    // Outside every workspace (the plan or diff codeloop opened): only the sessions' own actions.
    const workspaces = owner ? [owner] : this.workspaces();
    const sessions = workspaces.flatMap((workspace) => this.context.agent.list(workspace.root))
      .filter((session) => !FINAL_SESSION_STATES.has(session.state)).map((session) => this.summaryOf(session));
    if (!owner) {
      if (!this.workspaces().length) this.workspaceOf(uri); // says why (a refused folder) or that there is none
      return codeActionsFor({ uri, text: '', range: params.range, diagnostics: [], only: params.context.only, symbols: [], sessions });
    }
    const relativePath = uriToWorkspacePath(owner.root, uri);
    const text = this.documents.get(uri)?.getText() ?? owner.index.readText(relativePath) ?? '';
    return codeActionsFor({
      uri,
      text,
      range: params.range,
      diagnostics: params.context.diagnostics,
      only: params.context.only,
      symbols: owner.index.symbolsInFile(relativePath),
      sessions,
    });
  }

  private executeCommand(params: LspRequestParams<'workspace/executeCommand'>): unknown {
    const command = params.command as CommandId;
    if (!(command in commands)) throw new ResponseError(LSPErrorCodes.RequestFailed, `codeloop: unknown command ${JSON.stringify(params.command)}`);
    const [first] = params.arguments ?? [];
    const raw = typeof first === 'string' ? commandArgumentsFromString(command, first) : first;
    if (command === 'codeloop.startTask') {
      const args = parseParams(commands[command], raw, command);
      return this.startTask({ ...args, ...(args.prompt ? { prompt: args.prompt } : this.newestCommentTask()) });
    }
    const args: CommandArguments<typeof command> = parseParams(commands[command], raw, command);
    const sessionId = args.sessionId ?? this.newestSessionFor(command);
    switch (command) {
      case 'codeloop.approvePlan':
        return this.handleRequest('codeloop/approvePlan', { ...args, sessionId });
      case 'codeloop.showPlan':
        return this.showPlan(sessionId);
      case 'codeloop.applyProposal':
        return this.applyProposal({ ...args, sessionId });
      case 'codeloop.showProposal':
        return this.showProposal(sessionId);
      case 'codeloop.rejectPlan':
      case 'codeloop.rejectProposal':
        return this.handleRequest('codeloop/reject', { ...args, sessionId });
      case 'codeloop.cancelTask':
        return this.handleRequest('codeloop/cancel', { sessionId });
      case 'codeloop.resumeSession':
        return this.handleRequest('codeloop/resume', { sessionId });
      case 'codeloop.pauseSession':
        return this.handleRequest('codeloop/pause', { sessionId });
      case 'codeloop.steerSession':
        return this.handleRequest('codeloop/steer', { sessionId, message: parseParams(commands[command], raw, command).message });
    }
  }

  /** The newest session of this client's workspaces a command without a sessionId can act on. */
  private newestSessionFor(command: Exclude<CommandId, 'codeloop.startTask'>): string {
    const states = COMMAND_STATES[command];
    const session = this.workspaces().flatMap((workspace) => this.context.agent.list(workspace.root))
      .filter((candidate) => states.includes(candidate.state))
      .sort((a, b) => b.updatedAt.localeCompare(a.updatedAt))[0];
    if (!session) throw new CodeloopError('invalidArgument', `${command}: no session is ${states.join(' or ')} in this editor's workspaces`);
    return session.sessionId;
  }

  /**
   * What startTask runs when the client sent no prompt (Helix's command picker sends no arguments): the newest
   * `codeloop:` comment in the buffers this client edited, newest buffer first, that no session runs yet.
   */
  private newestCommentTask(): { prompt: string; kind: 'commentTask'; uri: string; range: { start: { line: number; character: number }; end: { line: number; character: number } } } {
    const running = new Set(this.workspaces().flatMap((workspace) => this.context.agent.list(workspace.root)).filter((s) => !FINAL_SESSION_STATES.has(s.state)).map((s) => s.prompt));
    const documents = this.documents.all().sort((a, b) => b.version - a.version);
    for (const document of documents) {
      const lines = document.getText().split('\n');
      for (let line = lines.length - 1; line >= 0; line--) {
        const directive = commentDirective(lines[line]);
        if (directive && !running.has(directive)) {
          return { prompt: directive, kind: 'commentTask', uri: document.uri, range: { start: { line, character: 0 }, end: { line, character: lines[line].length } } };
        }
      }
    }
    throw new CodeloopError('invalidArgument', 'codeloop.startTask needs a prompt: write a comment such as "// codeloop: add a --verbose flag" in a file and run it again (or use the code action on that line)');
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

  /** What the agent needs to run a session of the workspace at `root` in this process (config read now). */
  private sessionHost(root: string): SessionHost {
    return workspaceHost(this.workspaceFor(pathToFileURL(root).href), this.initializationOptions);
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
    void this.follow(session.sessionId);
    return { sessionId: session.sessionId };
  }

  /**
   * Follows a session for the client that started it (or sent it back to work): `$/progress` saying what it
   * does while it works (see sessionUpdated), then what to do next when it waits for the user, the plan or
   * explanation as a document, and the auto-apply rules when its proposal qualifies.
   */
  private async follow(sessionId: string): Promise<void> {
    if (this.disposed || this.following.has(sessionId)) return;
    this.following.set(sessionId, null);
    const progress = this.supportsProgress ? await this.connection.window.createWorkDoneProgress().catch(() => null) : null;
    const session = this.context.agent.get(sessionId);
    this.following.set(sessionId, progress);
    this.report(() => progress?.begin(`codeloop ${quoted(session.prompt)}`, undefined, session.state === 'planning' ? 'planning' : 'working', true));
    const stopListening = this.context.agent.onModelProgress(sessionId, (characters) => {
      this.report(() => progress?.report(`model writing… ${characters} characters`));
    });
    const settled = await this.context.agent.nextSettle(sessionId);
    stopListening();
    this.following.delete(sessionId);
    const summary = this.summaryOf(settled);
    this.report(() => progress?.done());
    if (this.disposed) return;
    const auto = this.context.agent.autoApplyVerdict(sessionId);
    if (auto.allowed) {
      const result = await this.applyProposal({ sessionId }).catch((error) => ({ applied: false, conflicts: [errorMessage(error)] }));
      if (result.applied) this.tell(MessageType.Info, `applied without asking (${auto.reason}; ${summary.verdict?.text ?? 'no tests ran'})`);
      else this.tell(MessageType.Warning, `could not auto-apply: ${result.conflicts.join(', ')}`);
      return;
    }
    const message = settledMessage({ ...summary, error: settled.error });
    this.tell(message.type, message.text);
    if (settled.state === 'awaitingPlanApproval') {
      await this.showPlan(sessionId).catch(() => undefined);
      void this.follow(sessionId);
    }
    if (settled.state === 'finished' && settled.kind === 'explain' && settled.summary) {
      await this.connection.window.showDocument({ uri: writeExplanationDocument(settled), takeFocus: true }).catch(() => undefined);
    }
  }

  /** Tells the client something through a progress, never failing when the client has gone. */
  private report(send: () => void): void {
    try {
      if (!this.disposed) send();
    } catch {
      // the client went away
    }
  }

  /**
   * Every session update of this client's workspaces passes here: the ones it follows move their progress on;
   * a session another editor (or the CLI) took to its end is announced, since this editor may be waiting on it.
   */
  private sessionUpdated(update: SessionUpdate): void {
    const progress = this.following.get(update.sessionId);
    if (progress) {
      const message = progressMessage(update);
      if (message) this.report(() => progress.report(message));
      return;
    }
    if (this.following.has(update.sessionId) || !FINAL_SESSION_STATES.has(update.state) || update.event.type === 'proposal') return;
    if (this.changedHere.delete(update.sessionId)) return;
    const session = this.context.agent.get(update.sessionId);
    const message = settledMessage({ ...this.summaryOf(session), error: session.error }, ' (from another editor)');
    this.tell(message.type, message.text);
  }

  /**
   * Sends the proposal to this client as a WorkspaceEdit it can take (see proposalWorkspaceEdit), each file
   * rebased onto its text now (the open buffer, else the disk): later edits that touch none of the proposal's
   * hunks are kept; a hunk that was also edited is a conflict naming the file and lines, and that file is left alone.
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
    const { edit, deleteAfterwards } = proposalWorkspaceEdit(files, (relative) => workspacePathToUri(session.root, relative),
      (uri) => this.documents.get(uri)?.version ?? null, this.workspaceEditCapabilities);
    const result = await this.connection.workspace.applyEdit({ label: `codeloop: ${session.prompt.slice(0, 60)}`, edit });
    if (!result.applied) {
      this.tell(MessageType.Error, `${this.name} did not apply the proposal ${quoted(session.prompt)}${result.failureReason ? `: ${result.failureReason}` : ''}`);
      return { applied: false, conflicts: plan.conflicts };
    }
    // Only files the plan found unchanged since the proposal (read through the confined diskText) are deleted.
    for (const relative of deleteAfterwards) fs.rmSync(path.join(session.root, relative), { force: true });
    if (deleteAfterwards.length) this.tell(MessageType.Info, `deleted ${deleteAfterwards.join(', ')} (the proposal removes them)`);
    if (plan.conflicts.length === 0) {
      this.changedHere.add(session.sessionId);
      this.context.agent.markApplied(session.sessionId, plan.files.map((file) => file.path));
    }
    return { applied: true, conflicts: plan.conflicts };
  }

  /** Writes the proposal's diff, headed by its verdict, under the state dir and asks the editor to open it. */
  private async showProposal(sessionId: string): Promise<{ uri: string }> {
    const session = this.ownSession(sessionId);
    if (!session.diff) throw new CodeloopError('invalidArgument', `session ${sessionId} has no proposal (it is ${session.state})`);
    const uri = writeProposalDocument(session, this.summaryOf(session).verdict);
    await this.connection.window.showDocument({ uri, takeFocus: true }).catch(() => undefined);
    return { uri };
  }

  /** Writes the plan as a document under the state dir and asks the editor to open it. */
  private async showPlan(sessionId: string): Promise<{ uri: string }> {
    const session = this.ownSession(sessionId);
    if (!session.plan) throw new CodeloopError('invalidArgument', `session ${sessionId} has no plan yet (it is ${session.state})`);
    const uri = writePlanDocument(session);
    await this.connection.window.showDocument({ uri, takeFocus: true }).catch(() => undefined);
    return { uri };
  }

  private handleRequest<M extends ClientRequestMethod>(method: M, params: RequestParams<M>): RequestResult<M> | Promise<RequestResult<M>> {
    const handlers: { [K in ClientRequestMethod]: (params: RequestParams<K>) => RequestResult<K> | Promise<RequestResult<K>> } = {
      'codeloop/startTask': (p) => this.startTask(p),
      'codeloop/approvePlan': (p) => {
        const session = this.ownSession(p.sessionId);
        this.context.agent.approvePlan(p.sessionId, p.plan, () => this.sessionHost(session.root));
        void this.follow(p.sessionId);
        return null;
      },
      'codeloop/reject': (p) => {
        const session = this.ownSession(p.sessionId);
        this.changedHere.add(p.sessionId);
        const after = this.context.agent.reject(p.sessionId, p.feedback, () => this.sessionHost(session.root));
        const what = session.state === 'awaitingPlanApproval' ? 'plan' : 'proposal';
        if (p.feedback) {
          this.tell(MessageType.Info, `sent your feedback on the ${what} of ${quoted(session.prompt)}: it is ${what === 'plan' ? 'planning' : 'working'} again`);
          void this.follow(p.sessionId);
        } else this.tell(MessageType.Info, `rejected the ${what} of ${quoted(session.prompt)} (${after.state}; its transcript stays in codeloop/getSession)`);
        return null;
      },
      'codeloop/resume': (p) => {
        const session = this.ownSession(p.sessionId);
        this.context.agent.resume(p.sessionId, this.sessionHost(session.root));
        void this.follow(p.sessionId);
        return null;
      },
      'codeloop/pause': (p) => {
        this.ownSession(p.sessionId);
        this.context.agent.pause(p.sessionId);
        return null;
      },
      'codeloop/steer': (p) => {
        this.ownSession(p.sessionId);
        this.context.agent.steer(p.sessionId, p.message);
        return null;
      },
      'codeloop/cancel': (p) => {
        const session = this.ownSession(p.sessionId);
        this.changedHere.add(p.sessionId);
        this.context.agent.cancel(p.sessionId);
        this.tell(MessageType.Info, `cancelled ${quoted(session.prompt)}`);
        return null;
      },
      'codeloop/applyProposal': (p) => this.applyProposal(p),
      'codeloop/getSession': (p) => {
        const session = this.ownSession(p.sessionId);
        return { ...session, verdict: this.summaryOf(session).verdict, events: this.context.agent.events(p.sessionId) };
      },
      'codeloop/sessionTranscript': (p) => ({ text: transcriptText(this.ownSession(p.sessionId), this.context.agent.events(p.sessionId)) }),
      'codeloop/cliResume': async (p) => {
        const { root } = this.context.agent.get(p.sessionId);
        const { workspace } = await this.context.registry.openForCommandLine(root);
        return this.summaryOf(this.context.agent.resume(p.sessionId, workspaceHost(workspace)));
      },
      'codeloop/cliPause': (p) => {
        this.context.agent.pause(p.sessionId);
        return null;
      },
      'codeloop/cliSteer': (p) => {
        this.context.agent.steer(p.sessionId, p.message);
        return null;
      },
      'codeloop/listSessions': () => ({
        sessions: this.workspaces().flatMap((workspace) => this.context.agent.list(workspace.root)).map((session) => this.summaryOf(session)),
      }),
      'codeloop/search': (p) => this.workspaceFor(p.workspaceUri).index.search(p),
      'codeloop/indexStatus': (p) => this.workspaceFor(p.workspaceUri).index.status(),
      'codeloop/status': () => this.status(),
      'codeloop/cliSearch': async (p) => (await this.context.registry.openForCommandLine(p.root)).workspace.index.search(p),
      'codeloop/cliIndex': async (p) => {
        const { workspace, opened } = await this.context.registry.openForCommandLine(p.root);
        const summary = (opened ? workspace.index.lastSyncSummary() : null) ?? await workspace.index.sync();
        return { summary, status: workspace.index.status(), problems: workspace.index.problems() };
      },
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
