import { indentLevelOf, indentUnitOf, reindentLines, sameUnit, type IndentUnit } from './indentation.js';

/**
 * Applies the model's search/replace blocks to a file's text (LF line breaks; see line-endings.ts for CRLF
 * files): exact match first, then a match that ignores differences in indentation and trailing spaces. Either
 * way the replacement is re-indented in the file's indentation unit, every level of it (a 4-space block in a
 * tab file becomes tabs). A block that matches nowhere or in several places is reported with what went wrong
 * and the closest candidate, so the model can retry.
 */
export interface SearchReplaceBlock {
  search: string;
  replace: string;
}

export type BlockOutcome =
  | { ok: true; text: string; how: 'exact' | 'whitespace' }
  | { ok: false; reason: 'notFound' | 'ambiguous'; message: string };

/** Where `search` occurs, without overlaps and at most OCCURRENCES_COUNTED times (enough to tell the model). */
const OCCURRENCES_COUNTED = 100;
function occurrences(text: string, search: string): number[] {
  const found: number[] = [];
  for (let at = text.indexOf(search); at !== -1 && found.length < OCCURRENCES_COUNTED; at = text.indexOf(search, at + search.length)) found.push(at);
  return found;
}

const normalise = (line: string) => line.trim();

/** Each trimmed line as a number (equal lines, equal numbers), so line sequences compare like strings of numbers. */
function lineIds(fileLines: string[], searchLines: string[]): { file: number[]; search: number[] } {
  const ids = new Map<string, number>();
  const id = (line: string) => {
    const key = normalise(line);
    let value = ids.get(key);
    if (value === undefined) ids.set(key, (value = ids.size));
    return value;
  };
  return { file: fileLines.map(id), search: searchLines.map(id) };
}

/**
 * Where the block's lines match the file's lines when each is trimmed; returns start line indexes. Knuth–Morris–
 * Pratt over line ids: linear in file plus block, where comparing at every start was their product (a model's
 * long block against a long file of similar lines).
 */
function looseMatches(fileLines: string[], searchLines: string[]): number[] {
  const { file, search } = lineIds(fileLines, searchLines);
  const fallback = new Array<number>(search.length).fill(0);
  for (let i = 1, k = 0; i < search.length; i++) {
    while (k > 0 && search[i] !== search[k]) k = fallback[k - 1];
    if (search[i] === search[k]) k++;
    fallback[i] = k;
  }
  const starts: number[] = [];
  for (let i = 0, k = 0; i < file.length; i++) {
    while (k > 0 && file[i] !== search[k]) k = fallback[k - 1];
    if (file[i] === search[k]) k++;
    if (k === search.length) {
      starts.push(i - search.length + 1);
      k = fallback[k - 1];
    }
  }
  return starts;
}

/** The file line range most similar to the block (shared trimmed lines), to show the model what is there. */
function closestCandidate(fileLines: string[], searchLines: string[]): string {
  const wanted = new Set(searchLines.map(normalise).filter(Boolean));
  // The score of a start is how many of the next searchLines.length lines are wanted: a sliding window sum.
  const hits = fileLines.map((line) => (wanted.has(normalise(line)) ? 1 : 0));
  let score = hits.slice(0, searchLines.length).reduce<number>((sum, hit) => sum + hit, 0);
  let best = { start: 0, score };
  for (let start = 1; start < fileLines.length; start++) {
    score += (hits[start + searchLines.length - 1] ?? 0) - hits[start - 1];
    if (score > best.score) best = { start, score };
  }
  if (best.score <= 0) return 'no similar lines in the file';
  const excerpt = fileLines.slice(best.start, best.start + searchLines.length).join('\n');
  return `closest match at line ${best.start + 1}:\n${excerpt}`;
}

function splitKeepingFinal(block: string): string[] {
  const lines = block.split('\n');
  if (lines.length > 1 && lines.at(-1) === '') lines.pop();
  return lines;
}

/**
 * The replacement of a block matched ignoring indentation, re-indented in the file's unit and moved so the
 * block's first SEARCH line sits at the depth of the file line it matched (every other line keeps its depth
 * relative to it). The block's unit comes from its own lines; without evidence it is taken to be the file's.
 */
function reindentToMatch(matchedLine: string, fileUnit: IndentUnit | null, searchLines: string[], replaceLines: string[]): string[] {
  const blockUnit = indentUnitOf([...searchLines, ...replaceLines]);
  const target = fileUnit ?? blockUnit ?? { kind: 'space', width: 4 };
  const from = blockUnit ?? target;
  const shift = indentLevelOf(matchedLine, target).levels - indentLevelOf(searchLines[0], from).levels;
  return reindentLines(replaceLines, from, target, shift);
}

export function applyBlock(text: string, block: SearchReplaceBlock): BlockOutcome {
  if (block.search === '') {
    return { ok: false, reason: 'notFound', message: 'the SEARCH part is empty; to create or replace a whole file, send its full content instead' };
  }
  const exact = occurrences(text, block.search);
  if (exact.length > 1) {
    return { ok: false, reason: 'ambiguous', message: `the SEARCH text occurs ${exact.length}${exact.length === OCCURRENCES_COUNTED ? ' or more' : ''} times; include more surrounding lines so it matches once` };
  }
  // Split only once the answer is not already known: a 10 MB file's million lines cost more than the search.
  const fileLines = text.split('\n');
  const fileUnit = indentUnitOf(fileLines);
  const searchLines = splitKeepingFinal(block.search);
  const replaceLines = splitKeepingFinal(block.replace);
  if (exact.length === 1) {
    const at = exact[0];
    // The replacement's own unit (the SEARCH part matched as the file has it, so it says nothing of the model's)
    const blockUnit = indentUnitOf(replaceLines, fileUnit?.kind === 'space' ? fileUnit.width : undefined);
    let replacement = block.replace;
    if (fileUnit && blockUnit && !sameUnit(fileUnit, blockUnit)) {
      const lines = block.replace.split('\n');
      const startsLine = at === 0 || text[at - 1] === '\n';
      replacement = [...(startsLine ? [] : [lines.shift()!]), ...reindentLines(lines, blockUnit, fileUnit)].join('\n');
    }
    return { ok: true, text: text.slice(0, at) + replacement + text.slice(at + block.search.length), how: 'exact' };
  }
  const loose = looseMatches(fileLines, searchLines);
  if (loose.length > 1) {
    return { ok: false, reason: 'ambiguous', message: `the SEARCH lines match ${loose.length} places when indentation is ignored (lines ${loose.map((s) => s + 1).join(', ')}); include more context` };
  }
  if (loose.length === 0) {
    return { ok: false, reason: 'notFound', message: `the SEARCH text was not found, even ignoring indentation; ${closestCandidate(fileLines, searchLines)}` };
  }
  const start = loose[0];
  const replacement = reindentToMatch(fileLines[start], fileUnit, searchLines, replaceLines);
  const result = [...fileLines.slice(0, start), ...replacement, ...fileLines.slice(start + searchLines.length)];
  return { ok: true, text: result.join('\n'), how: 'whitespace' };
}
