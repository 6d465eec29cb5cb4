import type { SymbolKind } from '../../../protocol/search.js';
import type { ExtractedSymbol } from './symbol-extractor.js';

/**
 * Line-regex symbols for languages without a shipped grammar (C above all). Weaker than a parser by design:
 * definitions only, no containers, one line ranges; a K&R-style or macro-wrapped definition can be missed.
 */
interface LinePattern {
  pattern: RegExp;
  kind: SymbolKind;
}

const C_KEYWORDS = new Set(['if', 'for', 'while', 'switch', 'return', 'sizeof', 'do', 'else', 'case']);

const C_PATTERNS: LinePattern[] = [
  { pattern: /^#\s*define\s+([A-Za-z_]\w*)/, kind: 'macro' },
  { pattern: /^(?:typedef\s+)?struct\s+([A-Za-z_]\w*)\s*\{/, kind: 'struct' },
  { pattern: /^(?:typedef\s+)?union\s+([A-Za-z_]\w*)\s*\{/, kind: 'struct' },
  { pattern: /^(?:typedef\s+)?enum\s+([A-Za-z_]\w*)\s*\{/, kind: 'enum' },
  { pattern: /^typedef\b[^;(]*?\b([A-Za-z_]\w*)\s*;\s*$/, kind: 'type' },
  // A definition starts in column 0, names a function before '(' and does not end in ';' (a prototype).
  { pattern: /^(?!static_assert)(?:[A-Za-z_][\w\s*]*?[\s*])?([A-Za-z_]\w*)\s*\((?!.*;\s*$)/, kind: 'function' },
];

const GENERIC_PATTERNS: LinePattern[] = [
  { pattern: /^\s*(?:export\s+|public\s+|private\s+|local\s+)*(?:class|object)\s+([A-Za-z_]\w*)/, kind: 'class' },
  { pattern: /^\s*(?:export\s+|public\s+|pub\s+)*(?:interface|protocol)\s+([A-Za-z_]\w*)/, kind: 'interface' },
  { pattern: /^\s*(?:struct|record)\s+([A-Za-z_]\w*)/, kind: 'struct' },
  { pattern: /^\s*(?:trait)\s+([A-Za-z_]\w*)/, kind: 'trait' },
  { pattern: /^\s*(?:module|namespace|package)\s+([A-Za-z_][\w.]*)/, kind: 'module' },
  {
    pattern: /^\s*(?:export\s+|public\s+|private\s+|static\s+|local\s+|override\s+|suspend\s+)*(?:function|def|fun|fn|func|sub|proc)\s+([A-Za-z_][\w.:]*)/,
    kind: 'function',
  },
  { pattern: /^\s*\((?:defun|defmacro|cl-defun)\s+([^\s()]+)/, kind: 'function' },
  { pattern: /^\s*\((?:defvar|defcustom|defconst)\s+([^\s()]+)/, kind: 'variable' },
];

export function fallbackSymbols(text: string, language: string | null): ExtractedSymbol[] {
  const isC = language === 'c';
  const patterns = isC ? C_PATTERNS : GENERIC_PATTERNS;
  const symbols: ExtractedSymbol[] = [];
  const lines = text.split('\n');
  for (let line = 0; line < lines.length; line++) {
    const content = lines[line];
    if (content.length > 400) continue;
    for (const { pattern, kind } of patterns) {
      const match = pattern.exec(content);
      if (!match) continue;
      const name = match[1];
      if (isC && kind === 'function' && C_KEYWORDS.has(name)) continue;
      const startCharacter = match.index + match[0].lastIndexOf(name);
      symbols.push({
        name, kind, container: null,
        startLine: line, startCharacter, endLine: line, endCharacter: content.length,
      });
      break;
    }
  }
  return symbols;
}
