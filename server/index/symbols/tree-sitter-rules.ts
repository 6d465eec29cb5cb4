import type { SymbolKind } from '../../../protocol/search.js';

/**
 * Which syntax nodes define symbols, per grammar. `kind: null` marks a node that only names a container
 * for what is inside it (a Rust `impl`). `scope` keeps module-level (and class-level) variables without every local.
 */
export interface NodeRule {
  kind: SymbolKind | null;
  /**
   * Where the name is: a field (`declarator` follows C/C++/Java declarator chains to the declared name),
   * `firstNamed` the first named child, `self` the node itself. Default: `name`.
   */
  nameField?: 'name' | 'declarator' | 'type' | 'left' | 'property' | 'firstNamed' | 'self';
  /** The name node's types that count (Ruby: only `constant` assignments, not local variables). */
  nameTypes?: string[];
  /** Only under a parent of this type (TypeScript enum members are bare `property_identifier`s of an `enum_body`). */
  parent?: string;
  /** Only at module level, or at module level and directly in a type's body (class attributes, fields). */
  scope?: 'module' | 'moduleOrType';
  /** The kind when the declarator chain declares a function (C++ `void m();` in a class is a method). */
  functionKind?: SymbolKind;
  /** Only a symbol when its `value` field is a function (JS `const f = () => …`)… */
  functionValue?: boolean;
  /**
   * …or, with this, when it binds a name at module level (JS `export const LIMIT = 3`): a `constant` when
   * declared `const`, a `variable` for `let`/`var`. `require(…)` bindings are imports, not definitions.
   */
  moduleBinding?: boolean;
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
  function_signature: { kind: 'function' }, // `declare function`, overloads, .d.ts files
  property_signature: { kind: 'property' },
  public_field_definition: { kind: 'property' },
  enum_assignment: { kind: 'enumMember' },
  property_identifier: { kind: 'enumMember', nameField: 'self', parent: 'enum_body' },
  internal_module: { kind: 'namespace' },
  module: { kind: 'module' },
  variable_declarator: { kind: 'function', functionValue: true, moduleBinding: true },
};

const javascript: GrammarRules = {
  class_declaration: { kind: 'class' },
  function_declaration: { kind: 'function' },
  generator_function_declaration: { kind: 'function' },
  method_definition: { kind: 'method' },
  field_definition: { kind: 'property', nameField: 'property' }, // tree-sitter-javascript names it `property`
  variable_declarator: { kind: 'function', functionValue: true, moduleBinding: true },
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
      assignment: { kind: 'variable', nameField: 'left', nameTypes: ['identifier'], scope: 'moduleOrType' },
    },
  },
  go: {
    grammar: 'go',
    rules: {
      function_declaration: { kind: 'function' },
      method_declaration: { kind: 'method' },
      type_spec: { kind: 'type' },
      const_spec: { kind: 'constant', scope: 'module' },
      var_spec: { kind: 'variable', scope: 'module' },
    },
  },
  rust: {
    grammar: 'rust',
    rules: {
      function_item: { kind: 'function' },
      function_signature_item: { kind: 'function' },
      struct_item: { kind: 'struct' },
      union_item: { kind: 'struct' },
      enum_item: { kind: 'enum' },
      enum_variant: { kind: 'enumMember' },
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
      constant_declaration: { kind: 'constant', nameField: 'declarator' }, // in an interface
      enum_constant: { kind: 'enumMember' },
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
      variable_declarator: { kind: 'field', scope: 'moduleOrType' }, // fields and events; locals are in blocks
      delegate_declaration: { kind: 'type' },
      enum_member_declaration: { kind: 'enumMember' },
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
      field_declaration: { kind: 'field', nameField: 'declarator', functionKind: 'method' },
      // Prototypes and globals (headers); a function's locals are in its body, not at namespace level.
      declaration: { kind: 'variable', nameField: 'declarator', functionKind: 'function', scope: 'moduleOrType' },
    },
  },
  ruby: {
    grammar: 'ruby',
    rules: {
      module: { kind: 'module' },
      class: { kind: 'class' },
      method: { kind: 'method' },
      singleton_method: { kind: 'method' },
      assignment: { kind: 'constant', nameField: 'left', nameTypes: ['constant'], scope: 'moduleOrType' },
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
      const_element: { kind: 'constant', nameField: 'firstNamed' },
      property_element: { kind: 'property' },
      enum_case: { kind: 'enumMember' },
    },
  },
  shellscript: { grammar: 'bash', rules: { function_definition: { kind: 'function' } } },
};

/** Kinds whose names become the container of symbols inside them. */
export const CONTAINER_KINDS = new Set<SymbolKind | null>([
  null, 'class', 'interface', 'struct', 'enum', 'trait', 'module', 'namespace',
]);
