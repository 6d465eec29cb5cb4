import { CodeloopError } from '../errors.js';
import { compileRipgrepRegex, escapeRipgrepLiteral, type RegexNode } from './ripgrep-regex.js';

/** Where a pattern first matches on one line: UTF-16 index and length. */
export interface LineHit {
  line: number;
  character: number;
  length: number;
  text: string;
}

/** Finds matching lines in a text with ripgrep's line semantics (a match never spans a line break). */
export interface LineMatcher {
  matchLines(text: string, limit: number): LineHit[];
  /** The parsed pattern, for the trigram planner (null for a case-sensitive literal: the text itself). */
  tree: RegexNode | null;
}

function countLines(text: string, from: number, to: number, startLine: number): number {
  let line = startLine;
  for (let i = text.indexOf('\n', from); i !== -1 && i < to; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

type Find = (from: number) => { index: number; length: number } | null;

/**
 * Finds the first match at or after a line start; since no match crosses `\n`, it is the leftmost match of the
 * first line that has one. Then jumps to the next line.
 */
function scanText(text: string, limit: number, find: Find): LineHit[] {
  const hits: LineHit[] = [];
  let lineNumber = 1;
  let lineCountedTo = 0;
  let from = 0;
  while (from <= text.length && hits.length < limit) {
    const found = find(from);
    if (!found) break;
    const start = text.lastIndexOf('\n', found.index - 1) + 1;
    if (start === text.length) break; // an empty file, or the empty "line" after a final newline
    const newline = text.indexOf('\n', found.index);
    const end = newline === -1 ? text.length : newline;
    lineNumber = countLines(text, lineCountedTo, start, lineNumber);
    lineCountedTo = start;
    hits.push({ line: lineNumber, character: found.index - start, length: found.length, text: text.slice(start, end) });
    from = end + 1;
  }
  return hits;
}

/** A matcher for an rg regex (see ripgrep-regex.ts); `caseInsensitive` is rg's `-i`. Throws `invalidRegex`. */
export function regexMatcher(source: string, caseInsensitive: boolean): LineMatcher {
  const { tree, regex } = compileRipgrepRegex(source, caseInsensitive);
  return {
    tree,
    matchLines(text, limit) {
      return scanText(text, limit, (from) => {
        regex.lastIndex = from;
        const match = regex.exec(text);
        return match ? { index: match.index, length: match[0].length } : null;
      });
    },
  };
}

/** A matcher for fixed text (`rg -F`); case-insensitive literals fold like rg's `-i`, through the regex dialect. */
export function literalMatcher(literal: string, caseInsensitive: boolean): LineMatcher {
  if (literal.includes('\n')) throw new CodeloopError('invalidArgument', 'the search pattern contains a line break; searches match within one line');
  if (caseInsensitive) return regexMatcher(escapeRipgrepLiteral(literal), true);
  return {
    tree: null,
    matchLines(text, limit) {
      return scanText(text, limit, (from) => {
        const index = text.indexOf(literal, from);
        return index === -1 ? null : { index, length: literal.length };
      });
    },
  };
}
