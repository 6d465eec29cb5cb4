import type { CreateFile, DeleteFile, Position, TextDocumentEdit, TextEdit } from 'vscode-languageserver';
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
 * A proposal as LSP `documentChanges`: each changed file as the edits of its hunks against the text the editor
 * has now (rebased, so the user's other edits stay), pinned to that document version (an editor whose buffer
 * moved on again refuses it instead of clobbering typing); files created and deleted as resource operations.
 */
export function proposalDocumentChanges(
  files: FilePlan[],
  uriOf: (relativePath: string) => string,
  versionOf: (uri: string) => number | null,
): (TextDocumentEdit | CreateFile | DeleteFile)[] {
  const changes: (TextDocumentEdit | CreateFile | DeleteFile)[] = [];
  for (const file of files) {
    const uri = uriOf(file.path);
    if (file.action === 'delete') changes.push({ kind: 'delete', uri, options: { ignoreIfNotExists: true } });
    else if (file.action === 'create') {
      changes.push({ kind: 'create', uri, options: { overwrite: false, ignoreIfExists: true } });
      changes.push({ textDocument: { uri, version: versionOf(uri) }, edits: [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, newText: file.text }] });
    } else if (file.action === 'modify') changes.push({ textDocument: { uri, version: versionOf(uri) }, edits: hunkEdits(file) });
  }
  return changes;
}
