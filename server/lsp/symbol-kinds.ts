import { SymbolKind as LspSymbolKind } from 'vscode-languageserver';
import type { SymbolKind } from '../../protocol/search.js';

export const LSP_SYMBOL_KIND: Record<SymbolKind, LspSymbolKind> = {
  class: LspSymbolKind.Class,
  interface: LspSymbolKind.Interface,
  function: LspSymbolKind.Function,
  method: LspSymbolKind.Method,
  constructor: LspSymbolKind.Constructor,
  property: LspSymbolKind.Property,
  field: LspSymbolKind.Field,
  variable: LspSymbolKind.Variable,
  constant: LspSymbolKind.Constant,
  enum: LspSymbolKind.Enum,
  enumMember: LspSymbolKind.EnumMember,
  struct: LspSymbolKind.Struct,
  module: LspSymbolKind.Module,
  namespace: LspSymbolKind.Namespace,
  type: LspSymbolKind.TypeParameter,
  trait: LspSymbolKind.Interface,
  macro: LspSymbolKind.Constant,
};
