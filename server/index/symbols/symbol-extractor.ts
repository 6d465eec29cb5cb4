import { createRequire } from 'node:module';
import path from 'node:path';
import type { Node, Parser, TreeCursor } from 'web-tree-sitter';
import type { SymbolKind } from '../../../protocol/search.js';
import { fallbackSymbols } from './fallback-symbols.js';
import { CONTAINER_KINDS, GRAMMAR_RULES, type GrammarRules, type NodeRule } from './tree-sitter-rules.js';

export interface ExtractedSymbol {
  name: string;
  kind: SymbolKind;
  container: string | null;
  startLine: number;
  startCharacter: number;
  endLine: number;
  endCharacter: number;
}

const require = createRequire(import.meta.url);
const GRAMMAR_DIR = path.dirname(require.resolve('@vscode/tree-sitter-wasm/wasm/tree-sitter-go.wasm'));

/**
 * Bindings (constants, variables, fields, properties, enum members) kept per file. A generated table
 * (`export const glyph1234 = …` × 14,000) would otherwise put tens of thousands of rows into the symbol table
 * that every save of it rewrites — on the daemon's event loop for a session view (200 ms of CPU for three such
 * files, test/integration/session-index-view.test.ts). Functions, types and the like are never capped; a text
 * search still finds every line.
 */
export const MAX_BINDINGS_PER_FILE = 2000;
/** Kinds that bind a value rather than define behaviour or a type (the per-file cap counts these). */
export const BINDING_KINDS = new Set<SymbolKind>(['constant', 'variable', 'field', 'property', 'enumMember']);

/**
 * Whether a symbol names what a file is about, for ranked retrieval: not a member binding (a class attribute, a
 * field, an enum member). Their names (`name`, `value`, `RED`) are everywhere: with them as definitions
 * bench:retrieval's Acc@1 was 59.1, without them 60.8 (176 reports, bench/RESULTS.md round 8).
 */
export function definesForRanking(symbol: Pick<ExtractedSymbol, 'kind' | 'container'>): boolean {
  return !(BINDING_KINDS.has(symbol.kind) && symbol.container !== null);
}

/** Minified or generated files (very long lines) give no useful symbols and cost a full parse. */
const MAX_AVERAGE_LINE_LENGTH = 400;

/** The node holding `node`'s name under `rule`, and whether a C/C++ declarator chain passed a function's declarator. */
function nameNode(node: Node, rule: NodeRule): { name: Node | null; declaresFunction: boolean } {
  const field = rule.nameField ?? 'name';
  let declaresFunction = false;
  let current = field === 'self' ? node : field === 'firstNamed' ? node.firstNamedChild : node.childForFieldName(field);
  if (field === 'declarator') {
    // Follow declarator chains: pointer → function_declarator → qualified/plain identifier; init_declarator and
    // Java's variable_declarator hold the name in their own `declarator`/`name` field.
    for (let next = current?.childForFieldName('declarator'); current && next; next = current.childForFieldName('declarator')) {
      if (current.type === 'function_declarator') declaresFunction = true;
      current = next;
    }
    if (current?.type === 'qualified_identifier' || current?.type === 'variable_declarator') current = current.childForFieldName('name') ?? current;
  }
  if (current && rule.nameTypes && !rule.nameTypes.includes(current.type)) return { name: null, declaresFunction };
  return { name: current, declaresFunction };
}

const FUNCTION_VALUES = new Set(['arrow_function', 'function_expression', 'function', 'generator_function']);
/** Nodes between a module-level definition and the root: statements, declarations and exports that wrap it. */
const TOP_LEVEL_PARENTS = new Set([
  'module', 'program', 'source_file', 'expression_statement', 'const_declaration', 'var_declaration',
  'lexical_declaration', 'variable_declaration', 'export_statement', 'ambient_declaration',
  'template_declaration', 'linkage_specification', 'var_spec_list',
]);
/** Nodes between a definition and the type (or namespace) whose body it is in. */
const TYPE_BODIES = new Set([
  'block', 'body_statement', 'class_body', 'declaration_list', 'field_declaration_list', 'field_declaration',
  'event_field_declaration',
]);
/** Types and namespaces: what is directly in their body is a member, not a local. */
const TYPES = new Set([
  'class_definition', 'class', 'module', 'class_declaration', 'struct_declaration', 'record_declaration',
  'interface_declaration', 'class_specifier', 'struct_specifier', 'namespace_definition',
]);

/** Whether `node` is at module level (or, for `moduleOrType`, directly in a type's or namespace's body). */
function inScope(node: Node, scope: NonNullable<NodeRule['scope']>): boolean {
  for (let parent = node.parent; parent; parent = parent.parent) {
    if (parent.parent === null) return true;
    if (scope === 'moduleOrType' && TYPES.has(parent.type)) return true;
    if (!TOP_LEVEL_PARENTS.has(parent.type) && !(scope === 'moduleOrType' && TYPE_BODIES.has(parent.type))) return false;
  }
  return true;
}

/** `require('x')`, possibly awaited or with a member taken (`require('x').y`): an import, not a definition. */
function isRequire(value: Node | null): boolean {
  while (value && (value.type === 'member_expression' || value.type === 'await_expression')) value = value.firstNamedChild;
  return value?.type === 'call_expression' && value.childForFieldName('function')?.text === 'require';
}

/** The kind `node` defines under `rule` (before its declarator is read); `undefined` when it defines nothing here. */
function definedKind(node: Node, rule: NodeRule): SymbolKind | null | undefined {
  if (rule.parent && node.parent?.type !== rule.parent) return undefined;
  if (rule.scope && !inScope(node, rule.scope)) return undefined;
  const value = rule.functionValue || rule.moduleBinding ? node.childForFieldName('value') : null;
  if (!rule.functionValue || FUNCTION_VALUES.has(value?.type ?? '')) return rule.kind;
  if (!rule.moduleBinding || node.childForFieldName('name')?.type !== 'identifier' || isRequire(value) || !inScope(node, 'module')) return undefined;
  return node.parent?.childForFieldName('kind')?.text === 'const' ? 'constant' : 'variable';
}

function walk(cursor: TreeCursor, rules: GrammarRules, symbols: ExtractedSymbol[]): void {
  const containers: { depth: number; name: string }[] = [];
  let depth = 0;
  let bindings = 0;
  for (;;) {
    const rule = rules[cursor.nodeType];
    if (rule) {
      const node = cursor.currentNode;
      const defined = definedKind(node, rule);
      const { name, declaresFunction } = defined === undefined ? { name: null, declaresFunction: false } : nameNode(node, rule);
      const kind = declaresFunction && rule.functionKind ? rule.functionKind : defined;
      if (kind !== undefined && name?.text) {
        if (kind && !(BINDING_KINDS.has(kind) && ++bindings > MAX_BINDINGS_PER_FILE)) {
          symbols.push({
            name: name.text,
            kind,
            container: containers.at(-1)?.name ?? null,
            startLine: name.startPosition.row,
            startCharacter: name.startPosition.column,
            endLine: node.endPosition.row,
            endCharacter: node.endPosition.column,
          });
        }
        if (CONTAINER_KINDS.has(kind)) containers.push({ depth, name: name.text });
      }
    }
    if (cursor.gotoFirstChild()) {
      depth++;
      continue;
    }
    while (!cursor.gotoNextSibling()) {
      if (!cursor.gotoParent()) return;
      depth--;
      while (containers.length && containers.at(-1)!.depth >= depth) containers.pop();
    }
    while (containers.length && containers.at(-1)!.depth >= depth) containers.pop();
  }
}

/**
 * Definitions in a file: tree-sitter where a grammar ships as wasm, line patterns otherwise.
 * Columns from tree-sitter are UTF-8 byte offsets; callers treat them as approximate characters.
 */
export class SymbolExtractor {
  private readonly parsers = new Map<string, Promise<Parser>>();
  /** web-tree-sitter, loaded on the first parse: a process that never parses (a CLI search) never loads it. */
  private static initialised: Promise<typeof import('web-tree-sitter')> | null = null;

  private parserFor(grammar: string): Promise<Parser> {
    let parser = this.parsers.get(grammar);
    if (!parser) {
      SymbolExtractor.initialised ??= import('web-tree-sitter').then(async (treeSitter) => {
        await treeSitter.Parser.init();
        return treeSitter;
      });
      parser = SymbolExtractor.initialised
        .then(async ({ Language, Parser }) => new Parser().setLanguage(await Language.load(path.join(GRAMMAR_DIR, `tree-sitter-${grammar}.wasm`))));
      this.parsers.set(grammar, parser);
    }
    return parser;
  }

  async extract(text: string, language: string | null): Promise<ExtractedSymbol[]> {
    const lineCount = text.split('\n', 100_000).length;
    if (text.length / lineCount > MAX_AVERAGE_LINE_LENGTH) return [];
    const grammar = language ? GRAMMAR_RULES[language] : undefined;
    if (!grammar) return fallbackSymbols(text, language);
    const parser = await this.parserFor(grammar.grammar);
    let tree;
    try {
      tree = parser.parse(text);
    } catch (error) {
      // Some grammars' external scanners call C library functions the wasm runtime lacks; one file's failure
      // must not stop indexing, so that file gets the line-pattern symbols instead.
      if (process.env.CODELOOP_DEBUG) process.stderr.write(`tree-sitter ${grammar.grammar} failed: ${(error as Error).message}\n`);
      parser.reset();
      tree = null;
    }
    if (!tree) return fallbackSymbols(text, language);
    // Free wasm memory explicitly, cursor before tree: left to finalizers, they can run in the wrong order.
    const cursor = tree.walk();
    try {
      const symbols: ExtractedSymbol[] = [];
      walk(cursor, grammar.rules, symbols);
      return symbols;
    } finally {
      cursor.delete();
      tree.delete();
    }
  }
}
