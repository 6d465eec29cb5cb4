import { describeLimit, groupThousands } from '../../protocol/limits.js';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { tooLargeBufferProblem } from '../index/index-problems.js';
import { isUriInside, uriToWorkspacePath } from '../workspace/path-confinement.js';
import type { Workspace } from '../workspace/workspace-registry.js';
import type { ClientContext } from './client-context.js';

/**
 * The editor's unsaved buffers as the shared workspaces see them: each change overlays the index (and is what
 * other editors' searches and new sessions read), a close restores the file on disk.
 */
export class Buffers {
  /** Documents already reported as too large (said once, not at every keystroke). */
  private readonly toldTooLarge = new Set<string>();

  constructor(private readonly client: ClientContext) {}

  changed(document: TextDocument): void {
    const owner = this.client.workspaces().find((workspace) => isUriInside(workspace.root, document.uri));
    if (!owner) return;
    const relativePath = uriToWorkspacePath(owner.root, document.uri);
    const text = document.getText();
    if (owner.index.isTooLarge(text) && !this.toldTooLarge.has(document.uri)) {
      this.toldTooLarge.add(document.uri);
      this.client.showIndexProblem(owner.root, tooLargeBufferProblem(relativePath, Buffer.byteLength(text)));
    }
    void owner.setBuffer(this.client.id, relativePath, text);
  }

  /** A buffer over LIMITS.bufferCharacters is not tracked: said once per document, since the editor keeps sending it. */
  tooLarge(uri: string, characters: number): void {
    const key = `over the buffer limit: ${uri}`;
    if (this.toldTooLarge.has(key)) return;
    this.toldTooLarge.add(key);
    this.client.tell('warning', `${uri} is ${groupThousands(characters)} characters, over the limit of ${describeLimit('bufferCharacters')}; codeloop ignores this buffer and reads the file on disk`);
  }

  closed(uri: string): void {
    const owner = this.client.workspaces().find((workspace) => isUriInside(workspace.root, uri));
    if (owner) void owner.closeBuffer(this.client.id, uriToWorkspacePath(owner.root, uri));
  }

  /** Buffers the editor opened before the workspace existed now belong to it. */
  adopt(workspace: Workspace): void {
    for (const document of this.client.documents.all()) if (isUriInside(workspace.root, document.uri)) this.changed(document);
  }
}
