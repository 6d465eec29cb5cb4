import type { SymbolInformation } from 'vscode-languageserver';
import { workspacePathToUri } from '../workspace/path-confinement.js';
import type { ClientContext } from './client-context.js';
import { LSP_SYMBOL_KIND } from './symbol-kinds.js';

/** How many symbols `workspace/symbol` answers, best first, across the editor's workspaces. */
const WORKSPACE_SYMBOL_LIMIT = 100;

/** `workspace/symbol`: the index's definitions matching `query` in every workspace of the editor, best score first. */
export function workspaceSymbols(client: ClientContext, query: string): SymbolInformation[] {
  const symbols = client.workspaces().flatMap((workspace) => workspace.index.searchSymbols(query, WORKSPACE_SYMBOL_LIMIT)
    .map((symbol) => ({ symbol, root: workspace.root })));
  symbols.sort((a, b) => (b.symbol.score ?? 0) - (a.symbol.score ?? 0));
  return symbols.slice(0, WORKSPACE_SYMBOL_LIMIT).map(({ symbol, root }) => ({
    name: symbol.name,
    kind: LSP_SYMBOL_KIND[symbol.kind],
    containerName: symbol.container ?? undefined,
    location: {
      uri: workspacePathToUri(root, symbol.path),
      range: { start: { line: symbol.startLine, character: symbol.startCharacter }, end: { line: symbol.endLine, character: symbol.endCharacter } },
    },
  }));
}
