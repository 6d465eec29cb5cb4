import { WorkerThread } from '../threads/worker-thread.js';
import { bestWindow, type LineWindow } from './best-window.js';
import { isWordCode, wordsOfIdentifier } from './identifier-words.js';
import { searchTextOf } from './search-text.js';
import { importsAmong } from './structure-ranking.js';

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
  token: string;
  ids: number[];
  words: number;
  identifier: boolean;
  /** The next token with the same hash. */
  next: TokenInfo | null;
}

/**
 * What each distinct token means for one query (its query-term ids, word count, whether it is a quoted
 * identifier), by hash: shared by the scans of one query's files, since most tokens recur from file to file.
 */
export type TokenCache = Map<number, TokenInfo>;

/**
 * Scans a text once: each identifier-like token is split into words (cached per distinct token, so a file's
 * thousands of repeats cost a map lookup), and the words that are query terms are recorded by line.
 * This is most of a ranked query's CPU time (it runs over the ~60 leading files), so a token is looked up by a
 * hash computed while scanning and compared in place: a repeat allocates no string.
 */
export function scanLineTerms(
  text: string,
  termIds: ReadonlyMap<string, number>,
  identifiers: ReadonlySet<string>,
  tokens: TokenCache = new Map(),
): LineTerms {
  const lineWords: number[] = [];
  const lineStarts: number[] = [0];
  const identifierHits: number[] = [];
  const termIdList: number[] = [];
  let words = 0;
  let hits = 0;
  let lineIdentifiers: Set<string> | null = null;
  let start = -1;
  let hash = 0;
  for (let i = 0; i <= text.length; i++) {
    const code = i < text.length ? text.charCodeAt(i) : 10;
    if (isWordCode(code)) {
      if (start < 0) {
        start = i;
        hash = 0;
      }
      hash = (Math.imul(hash, 31) + code) | 0;
      continue;
    }
    if (start >= 0) {
      const length = i - start;
      const first = tokens.get(hash) ?? null;
      let info = first;
      while (info && (info.token.length !== length || !text.startsWith(info.token, start))) info = info.next;
      if (!info) {
        const token = text.slice(start, i);
        const parts = length > 200 ? [] : wordsOfIdentifier(token);
        const ids: number[] = [];
        for (const part of parts) {
          const id = termIds.get(part);
          if (id !== undefined) ids.push(id);
        }
        info = { token, ids, words: parts.length, identifier: identifiers.has(token), next: first };
        tokens.set(hash, info);
      }
      start = -1;
      const token = info.token;
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

/**
 * What one scan needs (plain data, so it can cross to the scanning thread): the file's text, or for a large file
 * read from disk its bytes (decoded where the scan runs, as search decodes them: search-text.ts), so the loop
 * every editor shares neither decodes nor copies it. With `window`, the text's best window for the query's term
 * weights (by term id) is found too, where the scan is; with `phrases`, which of them the text holds; with
 * `links`, the ones among those candidate files that the file (at `path`) imports (structure-ranking.ts).
 */
export interface LineTermsRequest {
  text?: string;
  bytes?: Uint8Array;
  termIds: ReadonlyMap<string, number>;
  identifiers: ReadonlySet<string>;
  window?: { weights: readonly number[]; coverage: boolean };
  phrases?: readonly string[];
  links?: { path: string; candidates: readonly string[] };
}

/**
 * A scan, with the text's best window, the phrases it holds (by the request's order) and the candidates it
 * imports when the request asked for them (an empty text imports nothing: null).
 */
export type ScannedText = LineTerms & { window?: LineWindow; phrasesHeld?: boolean[]; imports?: string[] | null };

/** A request served the same on either thread: the scan, and what else it asks for; null for bytes that are not text. */
export function scanRequest(request: LineTermsRequest): ScannedText | null {
  const text = request.text ?? (request.bytes ? searchTextOf(Buffer.from(request.bytes.buffer, request.bytes.byteOffset, request.bytes.byteLength)) : null);
  return text === null ? null : scanText(text, request, true);
}

/** The scan of `text` with what `request` asks for beside it (the window only when `window`). */
function scanText(text: string, request: LineTermsRequest, window: boolean, tokens?: TokenCache): ScannedText {
  const scan: ScannedText = scanLineTerms(text, request.termIds, request.identifiers, tokens);
  if (window && request.window) scan.window = bestWindow(text, scan, request.window.weights, request.window.coverage);
  if (request.phrases) scan.phrasesHeld = request.phrases.map((phrase) => text.includes(phrase));
  if (request.links) scan.imports = text ? importsAmong(request.links.path, text, request.links.candidates) : null;
  return scan;
}

/**
 * Texts at least this long (characters, or bytes of a file read from disk) are scanned on the scanning thread: a
 * 1 MB file takes 70–500 ms, which on the main thread every editor would wait for; shorter ones cost less than
 * the trip to the thread.
 */
export const OFF_THREAD_CHARACTERS = 64 * 1024;
const scanner = new WorkerThread<LineTermsRequest, ScannedText | null>(new URL('./line-terms-worker.js', import.meta.url), scanRequest);

/**
 * `scanRequest`, with a long text or a file's bytes scanned — and its window found, when the request asks — on the
 * process's scanning thread (same result either way); the bytes are handed over, not copied, and are unusable
 * here afterwards. A short text is scanned here, sharing `tokens`, and its window is left to the caller: it
 * costs less than the trip. Null for bytes that are not text, and for a scan lost with its thread (the thread
 * died with the bytes).
 */
export function scanLineTermsOffThread(request: LineTermsRequest, tokens?: TokenCache): Promise<ScannedText | null> {
  // The token cache stays on this thread (it is not plain data): the scanning thread builds its own per text.
  if (request.text !== undefined && request.text.length < OFF_THREAD_CHARACTERS) return Promise.resolve(scanText(request.text, request, false, tokens));
  const bytes = request.bytes;
  // Bytes that are the whole of their buffer move without a copy (readFileSync gives a large file its own).
  const movable = bytes && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer;
  return movable ? scanner.run(request, [bytes.buffer as ArrayBuffer]).catch(() => null) : scanner.run(request);
}
