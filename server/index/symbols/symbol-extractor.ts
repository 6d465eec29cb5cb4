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

/** Minified or generated files (very long lines) give no useful symbols and cost a full parse. */
const MAX_AVERAGE_LINE_LENGTH = 400;

function nameNode(node: Node, rule: NodeRule): Node | null {
  const field = rule.nameField ?? 'name';
  let current = node.childForFieldName(field);
  if (field === 'declarator') {
    // Follow C/C++ declarator chains: pointer → function_declarator → qualified/plain identifier.
    while (current && current.childForFieldName('declarator')) current = current.childForFieldName('declarator');
    if (current?.type === 'qualified_identifier') current = current.childForFieldName('name') ?? current;
  }
  if (field === 'left' && current?.type !== 'identifier') return null;
  return current;
}

const FUNCTION_VALUES = new Set(['arrow_function', 'function_expression', 'function', 'generator_function']);
const TOP_LEVEL_PARENTS = new Set(['module', 'program', 'source_file', 'expression_statement', 'const_declaration', 'var_declaration']);

function isTopLevel(node: Node): boolean {
  for (let parent = node.parent; parent; parent = parent.parent) {
    if (!TOP_LEVEL_PARENTS.has(parent.type)) return false;
    if (parent.parent === null) return true;
  }
  return true;
}

function walk(cursor: TreeCursor, rules: GrammarRules, symbols: ExtractedSymbol[]): void {
  const containers: { depth: number; name: string }[] = [];
  let depth = 0;
  for (;;) {
    const rule = rules[cursor.nodeType];
    if (rule) {
      const node = cursor.currentNode;
      const accepted = (!rule.topLevel || isTopLevel(node))
        && (!rule.functionValue || FUNCTION_VALUES.has(node.childForFieldName('value')?.type ?? ''));
      const name = accepted ? nameNode(node, rule) : null;
      if (name && name.text) {
        if (rule.kind) {
          symbols.push({
            name: name.text,
            kind: rule.kind,
            container: containers.at(-1)?.name ?? null,
            startLine: name.startPosition.row,
            startCharacter: name.startPosition.column,
            endLine: node.endPosition.row,
            endCharacter: node.endPosition.column,
          });
        }
        if (CONTAINER_KINDS.has(rule.kind)) containers.push({ depth, name: name.text });
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
