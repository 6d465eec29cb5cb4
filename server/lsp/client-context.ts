import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { TextDocuments, type WorkspaceEditClientCapabilities } from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { SessionSummary } from '../../protocol/lsp-methods.js';
import { FINAL_SESSION_STATES } from '../../protocol/session-lifecycle.js';
import type { SessionHost } from '../agent/agent-service.js';
import type { SessionRecord } from '../agent/session-store.js';
import { loadConfig, type ConfigOverrides } from '../config/load-config.js';
import { CodeloopError } from '../errors.js';
import type { IndexProblem } from '../index/index-problems.js';
import { ModelClient } from '../model/model-client.js';
import { isUriInside, isUriUnder, uriToWorkspacePath } from '../workspace/path-confinement.js';
import type { AttachedClient, Workspace } from '../workspace/workspace-registry.js';
import type { EditorChannel, Severity } from './editor-channel.js';
import type { ServerContext } from './server-context.js';

let nextClientId = 1;

/** What the agent needs to run a session of `workspace` in this process: its config (read now) and model. */
export function workspaceHost(workspace: Workspace, overrides?: ConfigOverrides): SessionHost {
  const config = loadConfig(workspace.root, overrides);
  return {
    workspace: { root: workspace.root, index: workspace.index, unsavedBuffers: () => workspace.unsavedBuffers() },
    config: config.agent, model: new ModelClient(config.model),
  };
}

/** A folder URI as a path. */
export function folderPath(uri: string): string {
  return fileURLToPath(uri);
}

/**
 * What every feature of one editor connection shares: who the editor is, what it advertised, its open buffers,
 * the workspaces it attached, and the channel to tell it things. It is the client the workspace registry knows.
 */
export class ClientContext implements AttachedClient {
  readonly id = nextClientId++;
  name = 'unknown client';
  /** The editor's open buffers (kept by the library from didOpen/didChange/didClose). */
  readonly documents = new TextDocuments(TextDocument);
  /** Configuration from `initializationOptions` or the latest `workspace/didChangeConfiguration`. */
  configuration: ConfigOverrides | undefined;
  workspaceEditCapabilities: WorkspaceEditClientCapabilities | undefined;
  /** Folders that could not be opened, and why: said again when a request needs them. */
  readonly refusedFolders = new Map<string, string>();
  disposed = false;
  private readonly notificationListeners: ((method: string, params: unknown) => void)[] = [];

  constructor(readonly server: ServerContext, readonly editor: EditorChannel) {}

  /** A notification for this editor from its workspaces (session and index updates); listeners hear it too. */
  notify(method: string, params: unknown): void {
    if (this.disposed) return;
    this.editor.notify(method, params);
    for (const listener of this.notificationListeners) listener(method, params);
  }

  /** Hears every notification sent to this editor through `notify`. */
  onNotify(listener: (method: string, params: unknown) => void): void {
    this.notificationListeners.push(listener);
  }

  tell(severity: Severity, text: string): void {
    if (!this.disposed) this.editor.showMessage(severity, text);
  }

  showIndexProblem(root: string, problem: IndexProblem): void {
    this.tell(problem.severity === 'warning' ? 'warning' : 'log', `${path.basename(root)}: ${problem.message}`);
  }

  /** The workspaces this editor attached, deepest root first. */
  workspaces(): Workspace[] {
    return this.server.registry.of(this);
  }

  /** The workspace a document belongs to (deepest root), or an error the user can act on. */
  workspaceOf(uri: string): { workspace: Workspace; relativePath: string } {
    for (const workspace of this.workspaces()) {
      if (isUriInside(workspace.root, uri)) return { workspace, relativePath: uriToWorkspacePath(workspace.root, uri) };
    }
    // Under a root yet refused: says which link leads out
    const under = this.workspaces().find((workspace) => isUriUnder(workspace.root, uri));
    if (under) uriToWorkspacePath(under.root, uri);
    for (const [folder, reason] of this.refusedFolders) if (isUriInside(folder, uri)) throw new CodeloopError('invalidConfig', reason);
    throw new CodeloopError('pathOutsideWorkspace', `${uri} is not inside any workspace folder this client opened`);
  }

  /** The workspace a request names by folder URI, or the last one opened when it names none. */
  workspaceFor(workspaceUri: string | undefined): Workspace {
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

  /** Sessions of a workspace this client opened; others' are not its business. */
  ownSession(sessionId: string): SessionRecord {
    const session = this.server.agent.get(sessionId);
    if (!this.workspaces().some((workspace) => workspace.root === session.root)) {
      throw new CodeloopError('notFound', `no session ${JSON.stringify(sessionId)} in this client's workspaces`);
    }
    return session;
  }

  /** Every session of the given workspaces (this client's by default), each workspace's newest first. */
  sessions(workspaces = this.workspaces()): SessionRecord[] {
    return workspaces.flatMap((workspace) => this.server.agent.list(workspace.root));
  }

  /** Sessions that have not ended: running, or waiting for the user. */
  openSessions(workspaces = this.workspaces()): SessionRecord[] {
    return this.sessions(workspaces).filter((session) => !FINAL_SESSION_STATES.has(session.state));
  }

  summaryOf(session: SessionRecord): SessionSummary {
    return this.server.agent.summary(session);
  }

  /** What the agent needs to run a session of the workspace at `root` in this process (config read now). */
  sessionHost(root: string): SessionHost {
    return workspaceHost(this.workspaceFor(pathToFileURL(root).href), this.configuration);
  }
}
