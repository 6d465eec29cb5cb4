import type { SymbolKind } from '../../../protocol/search.js';

/**
 * Which syntax nodes define symbols, per grammar. `kind: null` marks a node that only names a container
 * for what is inside it (a Rust `impl`). `topLevel` keeps module-level variables without every local.
 */
export interface NodeRule {
  kind: SymbolKind | null;
  /** Field holding the name; `declarator` follows C/C++ declarator chains. Default: `name`. */
  nameField?: 'name' | 'declarator' | 'type' | 'left';
  topLevel?: boolean;
  /** Only a symbol when its `value` field is a function (JS `const f = () => …`). */
  functionValue?: boolean;
}

export type GrammarRules = Record<string, NodeRule>;

const typescript: GrammarRules = {
  class_declaration: { kind: 'class' },
  abstract_class_declaration: { kind: 'class' },
  interface_declaration: { kind: 'interface' },
  type_alias_declaration: { kind: 'type' },
  enum_declaration: { kind: 'enum' },
  function_declaration: { kind: 'function' },
  generator_function_declaration: { kind: 'function' },
  method_definition: { kind: 'method' },
  method_signature: { kind: 'method' },
  abstract_method_signature: { kind: 'method' },
  public_field_definition: { kind: 'property' },
  internal_module: { kind: 'namespace' },
  module: { kind: 'module' },
  variable_declarator: { kind: 'function', functionValue: true },
};

const javascript: GrammarRules = {
  class_declaration: { kind: 'class' },
  function_declaration: { kind: 'function' },
  generator_function_declaration: { kind: 'function' },
  method_definition: { kind: 'method' },
  field_definition: { kind: 'property', nameField: 'name' },
  variable_declarator: { kind: 'function', functionValue: true },
};

export const GRAMMAR_RULES: Record<string, { grammar: string; rules: GrammarRules }> = {
  typescript: { grammar: 'typescript', rules: typescript },
  typescriptreact: { grammar: 'tsx', rules: typescript },
  javascript: { grammar: 'javascript', rules: javascript },
  javascriptreact: { grammar: 'javascript', rules: javascript },
  python: {
    grammar: 'python',
    rules: {
      class_definition: { kind: 'class' },
      function_definition: { kind: 'function' },
      assignment: { kind: 'variable', nameField: 'left', topLevel: true },
    },
  },
  go: {
    grammar: 'go',
    rules: {
      function_declaration: { kind: 'function' },
      method_declaration: { kind: 'method' },
      type_spec: { kind: 'type' },
      const_spec: { kind: 'constant', topLevel: true },
      var_spec: { kind: 'variable', topLevel: true },
    },
  },
  rust: {
    grammar: 'rust',
    rules: {
      function_item: { kind: 'function' },
      function_signature_item: { kind: 'function' },
      struct_item: { kind: 'struct' },
      enum_item: { kind: 'enum' },
      trait_item: { kind: 'trait' },
      mod_item: { kind: 'module' },
      const_item: { kind: 'constant' },
      static_item: { kind: 'variable' },
      type_item: { kind: 'type' },
      macro_definition: { kind: 'macro' },
      impl_item: { kind: null, nameField: 'type' },
    },
  },
  java: {
    grammar: 'java',
    rules: {
      class_declaration: { kind: 'class' },
      interface_declaration: { kind: 'interface' },
      enum_declaration: { kind: 'enum' },
      record_declaration: { kind: 'class' },
      method_declaration: { kind: 'method' },
      constructor_declaration: { kind: 'constructor' },
      field_declaration: { kind: 'field', nameField: 'declarator' },
    },
  },
  csharp: {
    grammar: 'c-sharp',
    rules: {
      namespace_declaration: { kind: 'namespace' },
      file_scoped_namespace_declaration: { kind: 'namespace' },
      class_declaration: { kind: 'class' },
      interface_declaration: { kind: 'interface' },
      struct_declaration: { kind: 'struct' },
      record_declaration: { kind: 'class' },
      enum_declaration: { kind: 'enum' },
      method_declaration: { kind: 'method' },
      constructor_declaration: { kind: 'constructor' },
      property_declaration: { kind: 'property' },
    },
  },
  cpp: {
    grammar: 'cpp',
    rules: {
      namespace_definition: { kind: 'namespace' },
      class_specifier: { kind: 'class' },
      struct_specifier: { kind: 'struct' },
      enum_specifier: { kind: 'enum' },
      function_definition: { kind: 'function', nameField: 'declarator' },
    },
  },
  ruby: {
    grammar: 'ruby',
    rules: {
      module: { kind: 'module' },
      class: { kind: 'class' },
      method: { kind: 'method' },
      singleton_method: { kind: 'method' },
    },
  },
  php: {
    grammar: 'php',
    rules: {
      namespace_definition: { kind: 'namespace' },
      class_declaration: { kind: 'class' },
      interface_declaration: { kind: 'interface' },
      trait_declaration: { kind: 'trait' },
      enum_declaration: { kind: 'enum' },
      function_definition: { kind: 'function' },
      method_declaration: { kind: 'method' },
    },
  },
  shellscript: { grammar: 'bash', rules: { function_definition: { kind: 'function' } } },
};

/** Kinds whose names become the container of symbols inside them. */
export const CONTAINER_KINDS = new Set<SymbolKind | null>([
  null, 'class', 'interface', 'struct', 'enum', 'trait', 'module', 'namespace',
]);
