import type { CreateFile, DeleteFile, Position, TextDocumentEdit, TextEdit, WorkspaceEdit, WorkspaceEditClientCapabilities } from 'vscode-languageserver';
import type { FilePlan } from '../edits/apply-proposal.js';
import { splitLinesKeepingEnds } from '../edits/text-lines.js';

/** The LSP position where 0-based line `line` of `lines` starts; one past the last line is the end of the text. */
function lineStart(lines: string[], line: number): Position {
  if (line < lines.length) return { line, character: 0 };
  const last = lines.at(-1);
  if (last === undefined) return { line: 0, character: 0 };
  // A text ending in a line break has an empty last LSP line after it
  return /[\r\n]$/.test(last) ? { line: lines.length, character: 0 } : { line: lines.length - 1, character: last.length };
}

/** The proposal's hunks, rebased onto the document's current text, as minimal text edits. */
function hunkEdits(file: Extract<FilePlan, { action: 'modify' }>): TextEdit[] {
  const lines = splitLinesKeepingEnds(file.current);
  return file.hunks.map((hunk) => ({ range: { start: lineStart(lines, hunk.start), end: lineStart(lines, hunk.end) }, newText: hunk.lines.join('') }));
}

/**
 * A new (empty) file's whole range: up to the start of the line after it, which every client clamps to the end
 * of the document; Neovim then also drops the one empty line its new buffer starts with, instead of saving it
 * as an extra blank line.
 */
const NEW_FILE_RANGE = { start: { line: 0, character: 0 }, end: { line: 1, character: 0 } };

/** A proposal as the client can take it, and what is left for the daemon to do once the client applied it. */
export interface ProposalEdit {
  edit: WorkspaceEdit;
  /** Files to delete from disk after the edit is applied: the client cannot delete files itself. */
  deleteAfterwards: string[];
}

/**
 * A proposal as a WorkspaceEdit that fits what the client advertised (`workspace.workspaceEdit`):
 * - `documentChanges` (or any resource operation, which exist only there: Neovim advertises those alone and
 *   reads documentChanges): each changed file as the edits of its hunks against the text the editor has now
 *   (rebased, so the user's other edits stay), pinned to that document version, so an editor whose buffer
 *   moved on again refuses it instead of clobbering typing;
 * - otherwise the plain `changes` map (the oldest form every client reads);
 * - a new file is a `create` operation only for clients listing `create`; otherwise an edit of the not yet
 *   existing file's URI (version null), which Eglot (find-file-noselect), Neovim (bufload) and Helix open as
 *   an empty buffer and fill;
 * - a deleted file is a `delete` operation only for clients listing `delete`; otherwise the daemon deletes it
 *   once the client has applied the rest (the user's approval covers both).
 * No change annotations are sent, so `changeAnnotationSupport` is never needed.
 */
export function proposalWorkspaceEdit(
  files: FilePlan[],
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
    if (file.action === 'unchanged') continue;
    const uri = uriOf(file.path);
    if (file.action === 'delete') {
      if (versioned && operations.has('delete')) documentChanges.push({ kind: 'delete', uri, options: { ignoreIfNotExists: true } });
      else deleteAfterwards.push(file.path);
      continue;
    }
    if (file.action === 'create' && versioned && operations.has('create')) documentChanges.push({ kind: 'create', uri, options: { overwrite: false, ignoreIfExists: true } });
    const edits = file.action === 'create' ? [{ range: NEW_FILE_RANGE, newText: file.text }] : hunkEdits(file);
    if (versioned) documentChanges.push({ textDocument: { uri, version: file.action === 'create' ? null : versionOf(uri) }, edits });
    else changes[uri] = edits;
  }
  return { edit: versioned ? { documentChanges } : { changes }, deleteAfterwards };
}
