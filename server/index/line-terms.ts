import { WorkerThread } from '../threads/worker-thread.js';
import { isWordCode, wordsOfIdentifier } from './identifier-words.js';

/**
 * Where a query's words and identifiers occur in one file, line by line: what definition scoring and the best
 * line window both need, from one pass over the text.
 */
export interface LineTerms {
  lineCount: number;
  /** Words (split identifier parts) on each line: a definition's length for BM25. */
  lineWords: Uint32Array;
  /** Query-term occurrences of line i are `termIds[lineStarts[i] .. lineStarts[i + 1])` (ids index the query terms). */
  lineStarts: Uint32Array;
  termIds: number[];
  /** Distinct quoted identifiers (exact, case-sensitive) on each line. */
  identifierHits: Uint16Array;
}

interface TokenInfo {
  ids: number[];
  words: number;
  identifier: boolean;
}

/**
 * Scans a text once: each identifier-like token is split into words (cached per distinct token, so a file's
 * thousands of repeats cost a map lookup), and the words that are query terms are recorded by line.
 */
export function scanLineTerms(text: string, termIds: ReadonlyMap<string, number>, identifiers: ReadonlySet<string>): LineTerms {
  const tokens = new Map<string, TokenInfo>();
  const lineWords: number[] = [];
  const lineStarts: number[] = [0];
  const identifierHits: number[] = [];
  const termIdList: number[] = [];
  let words = 0;
  let hits = 0;
  let lineIdentifiers: Set<string> | null = null;
  let start = -1;
  for (let i = 0; i <= text.length; i++) {
    const code = i < text.length ? text.charCodeAt(i) : 10;
    if (isWordCode(code)) {
      if (start < 0) start = i;
      continue;
    }
    if (start >= 0) {
      const token = text.slice(start, i);
      start = -1;
      let info = tokens.get(token);
      if (!info) {
        const parts = token.length > 200 ? [] : wordsOfIdentifier(token);
        const ids: number[] = [];
        for (const part of parts) {
          const id = termIds.get(part);
          if (id !== undefined) ids.push(id);
        }
        info = { ids, words: parts.length, identifier: identifiers.has(token) };
        tokens.set(token, info);
      }
      words += info.words;
      for (const id of info.ids) termIdList.push(id);
      if (info.identifier && !(lineIdentifiers ??= new Set()).has(token)) {
        lineIdentifiers.add(token);
        hits++;
      }
    }
    if (code === 10) {
      lineWords.push(words);
      identifierHits.push(hits);
      lineStarts.push(termIdList.length);
      words = 0;
      hits = 0;
      lineIdentifiers = null;
    }
  }
  return {
    lineCount: lineWords.length,
    lineWords: Uint32Array.from(lineWords),
    lineStarts: Uint32Array.from(lineStarts),
    termIds: termIdList,
    identifierHits: Uint16Array.from(identifierHits),
  };
}

/** What one scan needs (plain data, so it can cross to the scanning thread). */
export interface LineTermsRequest {
  text: string;
  termIds: ReadonlyMap<string, number>;
  identifiers: ReadonlySet<string>;
}

/**
 * Texts at least this long (characters) are scanned on the scanning thread: a 1 MB file takes 70–500 ms, which
 * on the main thread every editor would wait for; shorter ones cost less than the trip to the thread.
 */
const OFF_THREAD_CHARACTERS = 64 * 1024;
const scanner = new WorkerThread<LineTermsRequest, LineTerms>(new URL('./line-terms-worker.js', import.meta.url),
  (request) => scanLineTerms(request.text, request.termIds, request.identifiers));

/** `scanLineTerms`, with a long text scanned on the process's scanning thread (same result either way). */
export function scanLineTermsOffThread(request: LineTermsRequest): Promise<LineTerms> {
  if (request.text.length < OFF_THREAD_CHARACTERS) return Promise.resolve(scanLineTerms(request.text, request.termIds, request.identifiers));
  return scanner.run(request);
}
