import type { CodeAction } from 'vscode-languageserver';
import type { LspRequestParams } from '../../protocol/lsp-methods.js';
import { isUriInside, uriToWorkspacePath } from '../workspace/path-confinement.js';
import type { ClientContext } from './client-context.js';
import { codeActionsFor } from './code-actions.js';

/** How many applied sessions a document offers to revert, newest first. */
const REVERTIBLE_SESSIONS = 3;

/**
 * `textDocument/codeAction`: the actions of codeActionsFor at the editor's place, from its buffer (else the
 * indexed text), the file's symbols and the open sessions of the document's workspace.
 */
export function codeActions(client: ClientContext, params: LspRequestParams<'textDocument/codeAction'>): CodeAction[] {
  const uri = params.textDocument.uri;
  const owner = client.workspaces().find((workspace) => isUriInside(workspace.root, uri));
  // Outside every workspace (the plan or diff codeloop opened): only the sessions' own actions.
  const sessions = client.openSessions(owner ? [owner] : undefined).map((session) => client.summaryOf(session));
  if (!owner) {
    if (!client.workspaces().length) client.workspaceOf(uri); // says why (a refused folder) or that there is none
    return codeActionsFor({ uri, text: '', range: params.range, diagnostics: [], only: params.context.only, symbols: [], sessions });
  }
  const relativePath = uriToWorkspacePath(owner.root, uri);
  const text = client.documents.get(uri)?.getText() ?? owner.index.readText(relativePath) ?? '';
  // Applied proposals that changed this document can be reverted from it (the newest few: older ones rarely still apply).
  const revertible = client.sessions([owner])
    .filter((session) => session.state === 'applied' && session.proposal?.some((file) => file.path === relativePath))
    .slice(0, REVERTIBLE_SESSIONS).map((session) => client.summaryOf(session));
  return codeActionsFor({
    uri,
    text,
    range: params.range,
    diagnostics: params.context.diagnostics,
    only: params.context.only,
    symbols: owner.index.symbolsInFile(relativePath),
    sessions: [...sessions, ...revertible],
  });
}
