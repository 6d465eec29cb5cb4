import { loadConfig, type ConfigOverrides } from '../config/load-config.js';
import type { IndexProblem } from '../index/index-problems.js';
import type { SyncProgress } from '../index/index-writer.js';
import { WorkspaceIndex } from '../index/workspace-index.js';
import { resolveWorkspaceRoot } from './workspace-root.js';

/** What a workspace needs from a client attached to it: an identity and a way to be told things. */
export interface AttachedClient {
  readonly id: number;
  readonly name: string;
  notify(method: string, params: unknown): void;
  /** Tells the user of a problem with a workspace's index (shown or logged by its severity). */
  showIndexProblem(root: string, problem: IndexProblem): void;
}

/**
 * One workspace root (by real path) shared by every client that opened it: one index, one watcher, and the
 * clients' open buffers. When several clients have the same file open, the most recent change is indexed.
 */
export class Workspace {
  readonly clients = new Set<AttachedClient>();
  /** path → client id → latest unsaved text. */
  private readonly buffers = new Map<string, Map<number, string>>();
  indexing = true;
  readonly ready: Promise<void>;

  constructor(
    readonly root: string,
    readonly index: WorkspaceIndex,
    onProgress: SyncProgress | undefined,
    onError: (error: unknown) => void,
  ) {
    this.ready = index.sync(onProgress)
      .then(() => index.watch())
      .catch(onError)
      .finally(() => {
        this.indexing = false;
      });
    // Problems found while indexing reach each client once it is ready (see `problems`); later ones go out now.
    index.onProblem((problem) => {
      if (!this.indexing) for (const client of this.clients) client.showIndexProblem(root, problem);
    });
  }

  broadcast(method: string, params: unknown): void {
    for (const client of this.clients) client.notify(method, params);
  }

  setBuffer(clientId: number, relativePath: string, text: string): Promise<void> {
    let byClient = this.buffers.get(relativePath);
    if (!byClient) this.buffers.set(relativePath, (byClient = new Map()));
    byClient.delete(clientId); // re-insert so iteration order is recency
    byClient.set(clientId, text);
    return this.index.setBufferText(relativePath, text);
  }

  closeBuffer(clientId: number, relativePath: string): Promise<void> {
    const byClient = this.buffers.get(relativePath);
    if (!byClient?.delete(clientId)) return Promise.resolve();
    if (byClient.size === 0) {
      this.buffers.delete(relativePath);
      return this.index.closeBuffer(relativePath);
    }
    return this.index.setBufferText(relativePath, [...byClient.values()].at(-1)!);
  }

  /** The latest unsaved text of every open buffer (what a new agent session starts from). */
  unsavedBuffers(): Map<string, string> {
    return new Map([...this.buffers.entries()].map(([path, byClient]) => [path, [...byClient.values()].at(-1)!]));
  }

  /** Every client's unsaved text of one file (root-relative), with the client holding it. */
  buffersOf(relativePath: string): { client: AttachedClient; text: string }[] {
    const byClient = this.buffers.get(relativePath);
    if (!byClient) return [];
    return [...this.clients].filter((client) => byClient.has(client.id)).map((client) => ({ client, text: byClient.get(client.id)! }));
  }

  /** Forgets a client's buffers (it disconnected); returns when the index reflects that. */
  async detach(client: AttachedClient): Promise<void> {
    this.clients.delete(client);
    const open = [...this.buffers.entries()].filter(([, byClient]) => byClient.has(client.id)).map(([path]) => path);
    await Promise.all(open.map((path) => this.closeBuffer(client.id, path)));
  }
}

/**
 * The holder of workspaces the command line opened in the daemon (`codeloop search`/`index`): they stay open and
 * watched while the daemon runs, so the next command finds the index fresh without re-validating the tree.
 */
const COMMAND_LINE: AttachedClient = { id: 0, name: 'command line', notify: () => undefined, showIndexProblem: () => undefined };

/** All open workspaces of this process (the daemon, or one standalone server), keyed by real root path. */
export class WorkspaceRegistry {
  private readonly workspaces = new Map<string, Workspace>();

  constructor(private readonly onIndexError: (root: string, error: unknown) => void) {}

  /**
   * Opens (or joins) the workspace containing `dir` for a client. Config overrides apply when it is first
   * opened; unknown settings go to `warn`; a wrong setting throws `invalidConfig` naming where it came from.
   */
  attach(dir: string, client: AttachedClient, overrides?: ConfigOverrides, onProgress?: SyncProgress, warn?: (message: string) => void): Workspace {
    const root = resolveWorkspaceRoot(dir);
    let workspace = this.workspaces.get(root);
    if (!workspace) {
      const config = loadConfig(root, overrides, process.env, warn);
      const index = WorkspaceIndex.open(root, config.index);
      const created: Workspace = new Workspace(root, index, onProgress, (error) => this.onIndexError(root, error));
      // Sent after every write (each burst of typing): only cheap facts, no table-wide counts.
      index.onDidUpdate((changedPaths) => {
        created.broadcast('codeloop/indexUpdate', { root, files: index.fileCount(), changedPaths: changedPaths.slice(0, 100) });
      });
      workspace = created;
      this.workspaces.set(root, workspace);
    }
    workspace.clients.add(client);
    return workspace;
  }

  /**
   * The workspace at `dir` for a command-line request, opened (and indexed, then watched) if no client has it;
   * `opened` says this call opened it, so its first sync has just validated the tree. Resolves once it is ready.
   */
  async openForCommandLine(dir: string): Promise<{ workspace: Workspace; opened: boolean }> {
    const opened = !this.workspaces.has(resolveWorkspaceRoot(dir));
    const workspace = this.attach(dir, COMMAND_LINE);
    await workspace.ready;
    return { workspace, opened };
  }

  /** Detaches a client from one workspace (or all); a workspace nobody uses any more is closed. */
  async detach(client: AttachedClient, root?: string): Promise<void> {
    for (const workspace of [...this.workspaces.values()]) {
      if (root !== undefined && workspace.root !== root) continue;
      if (!workspace.clients.has(client)) continue;
      await workspace.detach(client);
      if (workspace.clients.size === 0) {
        this.workspaces.delete(workspace.root);
        await workspace.index.close();
        await workspace.ready;
      }
    }
  }

  list(): Workspace[] {
    return [...this.workspaces.values()];
  }

  /** The workspaces a client is attached to, deepest root first (so nested roots win for a document). */
  of(client: AttachedClient): Workspace[] {
    return this.list().filter((workspace) => workspace.clients.has(client)).sort((a, b) => b.root.length - a.root.length);
  }

  isBusy(): boolean {
    return this.list().some((workspace) => workspace.indexing);
  }

  async closeAll(): Promise<void> {
    const all = this.list();
    this.workspaces.clear();
    for (const workspace of all) {
      await workspace.index.close();
      await workspace.ready;
    }
  }
}
