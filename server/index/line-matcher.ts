import { CodeloopError } from '../errors.js';

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
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/** Builds a JavaScript RegExp; `u` when the pattern allows it (Unicode-aware like ripgrep), plain otherwise. */
export function compileRegex(source: string, caseInsensitive: boolean): RegExp {
  const flags = caseInsensitive ? 'i' : '';
  try {
    return new RegExp(source, `${flags}u`);
  } catch {
    try {
      return new RegExp(source, flags);
    } catch (error) {
      throw new CodeloopError('invalidRegex', `invalid regex ${JSON.stringify(source)}: ${(error as Error).message}`);
    }
  }
}

/** Tokens after which a pattern could consume a line break: then each line is tested on its own. */
const MAY_MATCH_NEWLINE = /\\[sWDnrvfcux0]|\\p|\[\^|\\[PS]/;

function lineBounds(text: string, index: number): { start: number; end: number } {
  const start = text.lastIndexOf('\n', index - 1) + 1;
  const newline = text.indexOf('\n', index);
  return { start, end: newline === -1 ? text.length : newline };
}

function countLines(text: string, from: number, to: number, startLine: number): number {
  let line = startLine;
  for (let i = text.indexOf('\n', from); i !== -1 && i < to; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

/** Scans the whole text for a first hit, then re-tests just that line; jumps to the next line. */
function scanText(text: string, limit: number, find: (from: number) => number, testLine: (line: string) => { index: number; length: number } | null): LineHit[] {
  const hits: LineHit[] = [];
  let lineNumber = 1;
  let lineCountedTo = 0;
  let from = 0;
  while (from <= text.length && hits.length < limit) {
    const index = find(from);
    if (index === -1) break;
    const { start, end } = lineBounds(text, index);
    if (start === text.length) break; // an empty file, or the empty "line" after a final newline
    const line = text.slice(start, end);
    const hit = testLine(line);
    lineNumber = countLines(text, lineCountedTo, start, lineNumber);
    lineCountedTo = start;
    if (hit) hits.push({ line: lineNumber, character: hit.index, length: hit.length, text: line });
    from = end + 1;
  }
  return hits;
}

export function literalMatcher(literal: string, caseInsensitive: boolean): LineMatcher {
  if (literal.includes('\n')) throw new CodeloopError('invalidArgument', 'the search pattern contains a line break; searches match within one line');
  if (caseInsensitive) return regexMatcher(escapeRegex(literal), true);
  return {
    matchLines(text, limit) {
      return scanText(text, limit, (from) => text.indexOf(literal, from), (line) => {
        const index = line.indexOf(literal);
        return index === -1 ? null : { index, length: literal.length };
      });
    },
  };
}

export function regexMatcher(source: string, caseInsensitive: boolean): LineMatcher {
  const lineRegex = compileRegex(source, caseInsensitive);
  const testLine = (line: string) => {
    const match = lineRegex.exec(line);
    return match ? { index: match.index, length: match[0].length } : null;
  };
  if (MAY_MATCH_NEWLINE.test(source)) {
    return {
      matchLines(text, limit) {
        const hits: LineHit[] = [];
        if (text === '') return hits;
        const lines = text.split('\n');
        if (lines.length > 1 && lines.at(-1) === '') lines.pop();
        for (let i = 0; i < lines.length && hits.length < limit; i++) {
          const hit = testLine(lines[i]);
          if (hit) hits.push({ line: i + 1, character: hit.index, length: hit.length, text: lines[i] });
        }
        return hits;
      },
    };
  }
  const wholeRegex = new RegExp(lineRegex.source, `${lineRegex.flags}gm`);
  return {
    matchLines(text, limit) {
      return scanText(text, limit, (from) => {
        wholeRegex.lastIndex = from;
        return wholeRegex.exec(text)?.index ?? -1;
      }, testLine);
    },
  };
}
