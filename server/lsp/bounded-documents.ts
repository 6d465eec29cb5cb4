import type { Connection, Range, TextDocuments } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { LIMITS } from '../../protocol/limits.js';

/** What `TextDocuments.listen` subscribes to (the library does not export the type). */
export type TextDocumentConnection = Parameters<TextDocuments<TextDocument>['listen']>[0];

/** The buffer's length after the editor's changes, computed from the document before them (no copy made). */
function lengthAfter(document: TextDocument, changes: unknown): number {
  let length = document.getText().length;
  if (!Array.isArray(changes)) return length;
  for (const change of changes as ({ text?: unknown; range?: Range } | null)[]) {
    const text = typeof change?.text === 'string' ? change.text.length : 0;
    if (!change?.range) length = text;
    else length += text - Math.max(0, document.offsetAt(change.range.end) - document.offsetAt(change.range.start));
  }
  return length;
}

/**
 * The editor's document notifications as `TextDocuments` should see them: a buffer over LIMITS.bufferCharacters
 * is never stored — its didOpen is dropped, and a didChange that would take it over the limit closes it instead —
 * and `onTooLarge` says so. Everything else passes unchanged (malformed params included: they fail as before).
 */
export function boundedDocumentConnection(
  connection: Connection,
  documents: TextDocuments<TextDocument>,
  onTooLarge: (uri: string, characters: number) => void,
): TextDocumentConnection {
  let close: Parameters<TextDocumentConnection['onDidCloseTextDocument']>[0] = () => undefined;
  return {
    onDidOpenTextDocument: (handler) => connection.onDidOpenTextDocument((params) => {
      const text: unknown = params?.textDocument?.text;
      if (typeof text === 'string' && text.length > LIMITS.bufferCharacters) return onTooLarge(String(params.textDocument.uri), text.length);
      return handler(params);
    }),
    onDidChangeTextDocument: (handler) => connection.onDidChangeTextDocument((params) => {
      const uri: unknown = params?.textDocument?.uri;
      const document = typeof uri === 'string' ? documents.get(uri) : undefined;
      if (document && typeof uri === 'string') {
        const length = lengthAfter(document, params.contentChanges);
        if (length > LIMITS.bufferCharacters) {
          close({ textDocument: { uri } });
          return onTooLarge(uri, length);
        }
      }
      return handler(params);
    }),
    onDidCloseTextDocument: (handler) => {
      close = handler;
      return connection.onDidCloseTextDocument(handler);
    },
    onWillSaveTextDocument: (handler) => connection.onWillSaveTextDocument(handler),
    onWillSaveTextDocumentWaitUntil: (handler) => connection.onWillSaveTextDocumentWaitUntil(handler),
    onDidSaveTextDocument: (handler) => connection.onDidSaveTextDocument(handler),
  };
}
