import type { CreateFile, DeleteFile, TextDocumentEdit } from 'vscode-languageserver';
import type { ProposedFile } from '../agent/session-store.js';

/** The end of a text as an LSP position (for a whole-document replacement). */
function endOf(text: string): { line: number; character: number } {
  const lines = text.split('\n');
  return { line: lines.length - 1, character: lines.at(-1)!.length };
}

/**
 * A proposal as LSP `documentChanges`: each file replaced as a whole, pinned to the document version the
 * editor has (so an editor whose buffer moved on refuses it instead of clobbering typing), files created and
 * deleted as resource operations.
 */
export function proposalDocumentChanges(
  files: ProposedFile[],
  uriOf: (relativePath: string) => string,
  versionOf: (uri: string) => number | null,
): (TextDocumentEdit | CreateFile | DeleteFile)[] {
  const changes: (TextDocumentEdit | CreateFile | DeleteFile)[] = [];
  for (const file of files) {
    const uri = uriOf(file.path);
    if (file.after === null) {
      changes.push({ kind: 'delete', uri, options: { ignoreIfNotExists: true } });
      continue;
    }
    if (file.before === null) changes.push({ kind: 'create', uri, options: { overwrite: false, ignoreIfExists: true } });
    const range = { start: { line: 0, character: 0 }, end: endOf(file.before ?? '') };
    changes.push({ textDocument: { uri, version: versionOf(uri) }, edits: [{ range, newText: file.after }] });
  }
  return changes;
}
