/**
 * Applies the model's search/replace blocks to a file's text: exact match first, then a match that ignores
 * differences in indentation and trailing spaces (re-indenting the replacement to the file's indentation).
 * A block that matches nowhere or in several places is reported with what went wrong and the closest
 * candidate, so the model can retry.
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

function leadingWhitespace(line: string): string {
  return line.slice(0, line.length - line.trimStart().length);
}

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

export function applyBlock(text: string, block: SearchReplaceBlock): BlockOutcome {
  if (block.search === '') {
    return { ok: false, reason: 'notFound', message: 'the SEARCH part is empty; to create or replace a whole file, send its full content instead' };
  }
  const exact = occurrences(text, block.search);
  if (exact.length === 1) return { ok: true, text: text.slice(0, exact[0]) + block.replace + text.slice(exact[0] + block.search.length), how: 'exact' };
  if (exact.length > 1) {
    return { ok: false, reason: 'ambiguous', message: `the SEARCH text occurs ${exact.length}${exact.length === OCCURRENCES_COUNTED ? ' or more' : ''} times; include more surrounding lines so it matches once` };
  }
  const fileLines = text.split('\n');
  const searchLines = splitKeepingFinal(block.search);
  const loose = looseMatches(fileLines, searchLines);
  if (loose.length > 1) {
    return { ok: false, reason: 'ambiguous', message: `the SEARCH lines match ${loose.length} places when indentation is ignored (lines ${loose.map((s) => s + 1).join(', ')}); include more context` };
  }
  if (loose.length === 0) {
    return { ok: false, reason: 'notFound', message: `the SEARCH text was not found, even ignoring indentation; ${closestCandidate(fileLines, searchLines)}` };
  }
  // Re-indent: shift the replacement by the difference between the file's and the block's first-line indent.
  const start = loose[0];
  const fileIndent = leadingWhitespace(fileLines[start]);
  const blockIndent = leadingWhitespace(searchLines[0]);
  const replacement = splitKeepingFinal(block.replace).map((line) => {
    if (!line.trim()) return line;
    return line.startsWith(blockIndent) ? fileIndent + line.slice(blockIndent.length) : line;
  });
  const result = [...fileLines.slice(0, start), ...replacement, ...fileLines.slice(start + searchLines.length)];
  return { ok: true, text: result.join('\n'), how: 'whitespace' };
}
