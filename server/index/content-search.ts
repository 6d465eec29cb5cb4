import type { LineMatch } from '../../protocol/search.js';
import type { SqliteDatabase } from './index-database.js';
import { literalHitsInBytes, searchTextByteLength, searchTextOf, type ByteLineHit, type SearchSource } from './search-text.js';
import { literalMatcher, regexMatcher, type LineMatcher } from './line-matcher.js';
import { literalQuery, regexQuery, toMatchExpression } from './trigram-query.js';

export interface ContentSearchResult {
  matches: LineMatch[];
  truncated: boolean;
  /** Files the trigram filter let through, and how many of them matched: the filter's precision. */
  candidates: number;
  matchedFiles: number;
}

export interface ContentSearchRequest {
  pattern: string;
  regex: boolean;
  caseInsensitive: boolean;
  limit: number;
}

/** A candidate's matching lines: a case-sensitive literal is found in the bytes on disk, the rest in decoded text. */
function hitsOf(source: SearchSource, matcher: LineMatcher, literalBytes: Buffer | null, limit: number): ByteLineHit[] {
  const byteHits = literalBytes && typeof source !== 'string' ? literalHitsInBytes(source, literalBytes, limit) : null;
  if (byteHits) return byteHits;
  const text = searchTextOf(source);
  if (text === null) return [];
  return matcher.matchLines(text, limit).map((hit) => ({ ...hit, column: searchTextByteLength(hit.text.slice(0, hit.character)) + 1 }));
}

/**
 * Literal and regex search: the gram index narrows the files, then each candidate's current text (unsaved buffer
 * or disk) is matched line by line, so the answer is exact whatever the index holds.
 */
export function searchContent(
  db: SqliteDatabase,
  readSource: (relativePath: string) => SearchSource | null,
  request: ContentSearchRequest,
): ContentSearchResult {
  const matcher: LineMatcher = request.regex
    ? regexMatcher(request.pattern, request.caseInsensitive)
    : literalMatcher(request.pattern, request.caseInsensitive);
  const expression = toMatchExpression(matcher.tree ? regexQuery(matcher.tree) : literalQuery(request.pattern));
  const candidates = (expression === null
    ? db.prepare('SELECT path FROM files ORDER BY path').pluck().all()
    : db.prepare(
      'SELECT f.path FROM file_trigrams JOIN files f ON f.id = file_trigrams.rowid WHERE file_trigrams MATCH ? ORDER BY f.path',
    ).pluck().all(expression)) as string[];

  // Most candidates of a common literal hold it: searching their bytes skips decoding whole files.
  // (Not for a pattern with a lone surrogate, which has no UTF-8 form: it round-trips to U+FFFD.)
  const encoded = Buffer.from(request.pattern);
  const literalBytes = !request.regex && !request.caseInsensitive && request.pattern && encoded.toString() === request.pattern
    ? encoded : null;
  const matches: LineMatch[] = [];
  let matchedFiles = 0;
  let truncated = false;
  for (const path of candidates) {
    const source = readSource(path);
    if (source === null) continue;
    const hits = hitsOf(source, matcher, literalBytes, request.limit - matches.length + 1);
    if (hits.length) matchedFiles++;
    for (const hit of hits) {
      if (matches.length === request.limit) {
        truncated = true;
        break;
      }
      matches.push({
        path,
        line: hit.line,
        column: hit.column,
        character: hit.character,
        length: hit.length,
        text: hit.text,
      });
    }
    if (truncated) break;
  }
  return { matches, truncated, candidates: candidates.length, matchedFiles };
}
