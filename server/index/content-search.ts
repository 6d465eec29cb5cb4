import type { LineMatch } from '../../protocol/search.js';
import type { SqliteDatabase } from './index-database.js';
import { searchTextByteLength } from './search-text.js';
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

/**
 * Literal and regex search: the trigram index narrows the files, then each candidate's current text
 * (unsaved buffer or disk) is matched line by line, so the answer is exact whatever the index holds.
 */
export function searchContent(
  db: SqliteDatabase,
  readText: (relativePath: string) => string | null,
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

  const matches: LineMatch[] = [];
  let matchedFiles = 0;
  let truncated = false;
  for (const path of candidates) {
    const text = readText(path);
    if (text === null) continue;
    const hits = matcher.matchLines(text, request.limit - matches.length + 1);
    if (hits.length) matchedFiles++;
    for (const hit of hits) {
      if (matches.length === request.limit) {
        truncated = true;
        break;
      }
      matches.push({
        path,
        line: hit.line,
        column: searchTextByteLength(hit.text.slice(0, hit.character)) + 1,
        character: hit.character,
        length: hit.length,
        text: hit.text,
      });
    }
    if (truncated) break;
  }
  return { matches, truncated, candidates: candidates.length, matchedFiles };
}
