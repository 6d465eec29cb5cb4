import type { LineMatch } from '../../protocol/search.js';
import {
  CandidateVerifier, PARALLEL_MIN_CANDIDATES, verifyInParallel, verifyOnDisk, type DiskVerification, type SearchSources,
} from './candidate-verification.js';
import type { GramPostings } from './gram-postings.js';
import type { SqliteDatabase } from './index-database.js';
import type { ByteLineHit } from './search-text.js';
import { admitsGrams, candidateFileIds, literalQuery, regexQuery, type TrigramQuery } from './trigram-query.js';

export interface ContentSearchResult {
  matches: LineMatch[];
  truncated: boolean;
  /** Files the gram filter let through, and how many of them matched: the filter's precision. */
  candidates: number;
  matchedFiles: number;
}

export interface ContentSearchRequest {
  pattern: string;
  regex: boolean;
  caseInsensitive: boolean;
  limit: number;
}

/** Verification on threads: `true` above {@link PARALLEL_MIN_CANDIDATES} files on disk (the default), or never/always. */
export type ParallelVerification = 'auto' | 'never' | 'always';

/**
 * Literal and regex search: the gram index narrows the files, then each candidate's current text (override or
 * disk) is matched line by line, so the answer is exact whatever the index holds. The index and the overrides
 * are read now, synchronously (a session's view of the index exists only during this call, see
 * `queryWithChanges`); files on disk are read and matched after, on the verification threads when there are
 * many of them. Throws `invalidRegex` / `invalidArgument` for a pattern rg would refuse.
 */
export function searchContent(
  db: SqliteDatabase,
  postings: GramPostings,
  sources: SearchSources,
  request: ContentSearchRequest,
  parallel: ParallelVerification = 'auto',
): Promise<ContentSearchResult> {
  const verifier = new CandidateVerifier(request);
  const query = verifier.matcher.tree ? regexQuery(verifier.matcher.tree) : literalQuery(request.pattern);
  // One read snapshot for every index read below: another process (a second `codeloop search` indexing the same
  // new tree) may commit a merge of segments or rewrite a file between two statements, and its ids would then be
  // in neither the postings read nor above the watermark read after them (CI: concurrent-cli).
  const candidates = db.transaction(() => candidatePaths(db, postings, sources, query))();

  // One more hit than the limit tells whether the answer is truncated.
  const wanted = request.limit + 1;
  // Overrides are matched now; an override after the first `wanted` of their hits is marked unread (undefined):
  // those hits all come before it, so the answer ends before it.
  const overrides = new Map<number, ByteLineHit[] | null | undefined>();
  const onDisk: string[] = [];
  let overrideHits = 0;
  for (const [index, path] of candidates.entries()) {
    const override = sources.override(path);
    if (override === undefined) {
      onDisk.push(path);
      continue;
    }
    const hits = overrideHits >= wanted ? undefined : override === null ? null : verifier.hitsOf(override, wanted - overrideHits);
    overrideHits += hits?.length ?? 0;
    overrides.set(index, hits);
  }
  const disk: DiskVerification = { ...request, root: sources.root, paths: onDisk, limit: wanted };
  const useThreads = parallel === 'always' || (parallel === 'auto' && onDisk.length >= PARALLEL_MIN_CANDIDATES);
  const diskHits = useThreads ? verifyInParallel(disk) : Promise.resolve(verifyOnDisk(disk));
  return diskHits.then((hitsOnDisk) => collectMatches(candidates, overrides, hitsOnDisk, request.limit));
}

/** The candidate files of `query`, in path order: those the gram postings admit and those above their watermark. */
function candidatePaths(db: SqliteDatabase, postings: GramPostings, sources: SearchSources, query: TrigramQuery): string[] {
  const ids = candidateFileIds(query, postings.reader());
  // Files above the watermark have no postings yet (gram-postings.ts): candidates, unless their grams are at hand
  // and fail the filter. Two queries: one with `OR id > ?` or a UNION scanned every file's path to keep the order
  // (3–25 ms on the kernel for 15 candidates).
  const unposted = () => (db.prepare('SELECT id, path FROM files WHERE id > ?').raw().all(postings.postedThrough()) as [number, string][])
    .filter(([, path]) => {
      const grams = sources.unpostedGrams?.(path);
      return grams === undefined || admitsGrams(query, grams);
    })
    .map(([id]) => id);
  return (ids === null
    ? db.prepare('SELECT path FROM files ORDER BY path').pluck().all()
    : db.prepare('SELECT path FROM files WHERE id IN (SELECT value FROM json_each(?)) ORDER BY path').pluck().all(JSON.stringify(ids.concat(unposted())))) as string[];
}

/**
 * The matches in candidate order, up to `limit`: each candidate's hits come from its override or, in turn,
 * from the disk results (which may end early, once they held enough hits).
 */
function collectMatches(
  candidates: string[],
  overrides: ReadonlyMap<number, ByteLineHit[] | null | undefined>,
  hitsOnDisk: (ByteLineHit[] | null)[],
  limit: number,
): ContentSearchResult {
  const matches: LineMatch[] = [];
  let matchedFiles = 0;
  let nextOnDisk = 0;
  for (const [index, path] of candidates.entries()) {
    const hits = overrides.has(index) ? overrides.get(index) : hitsOnDisk[nextOnDisk++];
    if (hits === undefined) break; // past where verification stopped: the limit was reached before
    if (!hits?.length) continue;
    matchedFiles++;
    for (const hit of hits) {
      if (matches.length === limit) return { matches, truncated: true, candidates: candidates.length, matchedFiles };
      matches.push({ path, line: hit.line, column: hit.column, character: hit.character, length: hit.length, text: hit.text });
    }
  }
  return { matches, truncated: false, candidates: candidates.length, matchedFiles };
}
