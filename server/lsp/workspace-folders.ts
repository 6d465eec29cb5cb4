import path from 'node:path';
import type { InitializeParams, WorkspaceFolder } from 'vscode-languageserver';
import { errorMessage } from '../errors.js';
import type { Workspace } from '../workspace/workspace-registry.js';
import { folderPath, type ClientContext } from './client-context.js';
import type { EditorProgress } from './editor-channel.js';

/**
 * The editor's workspace folders: each opens (or joins) the shared workspace of the repository holding it, with
 * indexing progress and the index's problems told to the editor; a folder that cannot be opened is said once
 * and remembered, so requests about its files say why.
 */
export class WorkspaceFolders {
  /** Each open workspace folder's workspace root (the repository holding it, as resolveWorkspaceRoot finds it). */
  private readonly folderRoots = new Map<string, string>();
  /** Folders from `initialize`, attached on `initialized` (when progress may be reported). */
  private pending: WorkspaceFolder[] = [];

  constructor(private readonly client: ClientContext, private readonly onAttached: (workspace: Workspace) => void) {}

  /** Remembers the folders `initialize` names (or its rootUri) until `initialized`. */
  initialize(params: InitializeParams): void {
    this.pending = params.workspaceFolders
      ?? (params.rootUri ? [{ uri: params.rootUri, name: path.basename(folderPath(params.rootUri)) }] : []);
  }

  initialized(): void {
    this.change(this.pending, []);
    this.pending = [];
  }

  change(allAdded: WorkspaceFolder[], allRemoved: WorkspaceFolder[]): void {
    // Neovim 0.7 pads each change with an empty folder `{}`: only entries naming a file URI count.
    const valid = (folders: WorkspaceFolder[]) => (Array.isArray(folders) ? folders : [])
      .filter((folder) => typeof folder?.uri === 'string' && folder.uri.startsWith('file:'));
    for (const folder of valid(allRemoved)) {
      const dir = folderPath(folder.uri);
      this.client.refusedFolders.delete(dir);
      const root = this.folderRoots.get(dir);
      this.folderRoots.delete(dir);
      // Two folders of one repository share its workspace: it stays while either is open.
      if (root !== undefined && ![...this.folderRoots.values()].includes(root)) void this.client.server.registry.detach(this.client, root);
    }
    for (const folder of valid(allAdded)) void this.attach(folderPath(folder.uri));
  }

  /** Joins (or opens) a workspace at once, so requests right after `initialized` find it; progress follows. */
  private async attach(dir: string): Promise<void> {
    const client = this.client;
    // Reports before the editor has created the progress are dropped; the editor may also vanish meanwhile.
    let progress: EditorProgress | null = null;
    let workspace: Workspace;
    try {
      workspace = client.server.registry.attach(dir, client, client.configuration,
        (done, total) => progress?.report(`${done}/${total} files`, total ? Math.floor((done / total) * 100) : 100),
        (warning) => client.tell('warning', warning));
      this.folderRoots.set(dir, workspace.root);
    } catch (error) {
      const reason = `the folder ${dir} was not opened: ${errorMessage(error)}`;
      client.refusedFolders.set(dir, reason);
      client.tell('error', reason);
      return;
    }
    if (workspace.indexing) progress = await client.editor.beginProgress({ title: `codeloop: indexing ${path.basename(workspace.root)}`, percentage: 0, cancellable: false });
    await workspace.ready;
    progress?.done();
    if (client.disposed) return;
    for (const problem of workspace.index.problems()) client.showIndexProblem(workspace.root, problem);
    this.onAttached(workspace);
  }
}
