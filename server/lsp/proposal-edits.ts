import type { CreateFile, DeleteFile, TextDocumentEdit, TextEdit, WorkspaceEdit, WorkspaceEditClientCapabilities } from 'vscode-languageserver';
import type { ProposedFile } from '../agent/session-store.js';

/**
 * The end of a text as an LSP position (for a whole-document replacement). An empty text (a new file) ends at
 * the start of the line after it, which every client clamps to the end of the document; Neovim then also
 * drops the one empty line its new buffer starts with, instead of saving it as an extra blank line.
 */
function endOf(text: string): { line: number; character: number } {
  if (text === '') return { line: 1, character: 0 };
  const lines = text.split('\n');
  return { line: lines.length - 1, character: lines.at(-1)!.length };
}

/** A proposal as the client can take it, and what is left for the daemon to do once the client applied it. */
export interface ProposalEdit {
  edit: WorkspaceEdit;
  /** Files to delete from disk after the edit is applied: the client cannot delete files itself. */
  deleteAfterwards: string[];
}

/**
 * A proposal as a WorkspaceEdit that fits what the client advertised (`workspace.workspaceEdit`):
 * - `documentChanges` (or any resource operation, which exist only there: Neovim advertises those alone and
 *   reads documentChanges): each file replaced as a whole, pinned to the document version the editor has, so
 *   an editor whose buffer moved on refuses it instead of clobbering typing;
 * - otherwise the plain `changes` map (the oldest form every client reads);
 * - a new file is a `create` operation only for clients listing `create`; otherwise an edit of the not yet
 *   existing file's URI (version null), which Eglot (find-file-noselect), Neovim (bufload) and Helix open as
 *   an empty buffer and fill;
 * - a deleted file is a `delete` operation only for clients listing `delete`; otherwise the daemon deletes it
 *   once the client has applied the rest (the user's approval covers both).
 * No change annotations are sent, so `changeAnnotationSupport` is never needed.
 */
export function proposalWorkspaceEdit(
  files: ProposedFile[],
  uriOf: (relativePath: string) => string,
  versionOf: (uri: string) => number | null,
  capabilities: WorkspaceEditClientCapabilities | undefined,
): ProposalEdit {
  const operations = new Set(capabilities?.resourceOperations ?? []);
  const versioned = capabilities?.documentChanges === true || operations.size > 0;
  const documentChanges: (TextDocumentEdit | CreateFile | DeleteFile)[] = [];
  const changes: Record<string, TextEdit[]> = {};
  const deleteAfterwards: string[] = [];
  for (const file of files) {
    const uri = uriOf(file.path);
    if (file.after === null) {
      if (versioned && operations.has('delete')) documentChanges.push({ kind: 'delete', uri, options: { ignoreIfNotExists: true } });
      else deleteAfterwards.push(file.path);
      continue;
    }
    if (file.before === null && versioned && operations.has('create')) documentChanges.push({ kind: 'create', uri, options: { overwrite: false, ignoreIfExists: true } });
    const edits = [{ range: { start: { line: 0, character: 0 }, end: endOf(file.before ?? '') }, newText: file.after }];
    if (versioned) documentChanges.push({ textDocument: { uri, version: file.before === null ? null : versionOf(uri) }, edits });
    else changes[uri] = edits;
  }
  return { edit: versioned ? { documentChanges } : { changes }, deleteAfterwards };
}
