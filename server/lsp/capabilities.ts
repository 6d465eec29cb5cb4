import { TextDocumentSyncKind, type ServerCapabilities } from 'vscode-languageserver';
import { commands } from '../../protocol/lsp-methods.js';
import { CODE_ACTION_KINDS } from './code-actions.js';

/** What codeloop implements, and nothing more: a pure function so a snapshot test keeps it honest. */
export function serverCapabilities(): ServerCapabilities {
  return {
    textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental, save: { includeText: false } },
    codeActionProvider: { codeActionKinds: Object.values(CODE_ACTION_KINDS), resolveProvider: false },
    executeCommandProvider: { commands: Object.keys(commands) },
    workspaceSymbolProvider: true,
    workspace: { workspaceFolders: { supported: true, changeNotifications: true } },
  };
}
