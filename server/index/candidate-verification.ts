import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WorkerThread } from '../threads/worker-thread.js';
import { literalMatcher, regexMatcher, type LineMatcher } from './line-matcher.js';
import { literalHitsInBytes, searchTextByteLength, searchTextOf, type ByteLineHit, type SearchSource } from './search-text.js';

/**
 * Where search reads a file's current text: an override of the disk (an editor's unsaved buffer, an agent
 * session's pending change) or the bytes on disk below `root`.
 */
export interface SearchSources {
  /** The workspace root (absolute); a file without an override is read from disk below it. */
  root: string;
  /** The file's overriding text, null when the override deletes it, undefined when the disk holds it. */
  override(relativePath: string): string | null | undefined;
  /**
   * The grams (trigram-tokens.ts) of a file written without postings whose analysis is at hand (a session view's
   * changed files, see `queryWithChanges`): the filter tests them instead of taking the file as a candidate.
   */
  unpostedGrams?(relativePath: string): ArrayLike<number> | undefined;
}

/** A file as search reads it (see {@link SearchSources}); null when it is gone. */
export function readSearchSource(sources: SearchSources, relativePath: string): SearchSource | null {
  const override = sources.override(relativePath);
  return override === undefined ? readDiskSource(sources.root, relativePath) : override;
}

function readDiskSource(root: string, relativePath: string): Buffer | null {
  try {
    return fs.readFileSync(path.join(root, relativePath));
  } catch {
    return null;
  }
}

/** What to look for in candidate files: the search request's pattern and flags. */
export interface VerificationPattern {
  pattern: string;
  regex: boolean;
  caseInsensitive: boolean;
}

/** Matches one pattern against candidate files (the matcher, and the literal's UTF-8 bytes when they can be searched raw). */
export class CandidateVerifier {
  readonly matcher: LineMatcher;
  private readonly literalBytes: Buffer | null;

  /** Throws `invalidRegex` / `invalidArgument` (line-matcher.ts) for a pattern rg would refuse. */
  constructor(request: VerificationPattern) {
    this.matcher = request.regex
      ? regexMatcher(request.pattern, request.caseInsensitive)
      : literalMatcher(request.pattern, request.caseInsensitive);
    // Most candidates of a common literal hold it: searching their bytes skips decoding whole files.
    // (Not for a pattern with a lone surrogate, which has no UTF-8 form: it round-trips to U+FFFD.)
    const encoded = Buffer.from(request.pattern);
    this.literalBytes = !request.regex && !request.caseInsensitive && request.pattern && encoded.toString() === request.pattern
      ? encoded : null;
  }

  /** A candidate's matching lines, at most `limit`: a case-sensitive literal is found in the bytes, the rest in decoded text. */
  hitsOf(source: SearchSource, limit: number): ByteLineHit[] {
    const byteHits = this.literalBytes && typeof source !== 'string' ? literalHitsInBytes(source, this.literalBytes, limit) : null;
    if (byteHits) return byteHits;
    const text = searchTextOf(source);
    if (text === null) return [];
    return this.matcher.matchLines(text, limit).map((hit) => ({ ...hit, column: searchTextByteLength(hit.text.slice(0, hit.character)) + 1 }));
  }
}

/** A run of candidate files on disk to verify (plain data, so it can cross to a verification thread). */
export interface DiskVerification extends VerificationPattern {
  root: string;
  /** Root-relative paths, in the order their hits are reported. */
  paths: string[];
  /** Stop once this many hits are found in the run (the caller needs no more). */
  limit: number;
}

/** Files up to this size are read into one reused buffer (no allocation, no fstat); larger ones whole. */
const READ_BUFFER_BYTES = 1024 * 1024;
let readBuffer: Buffer | null = null;

/**
 * A file's bytes for matching now: a view of this thread's read buffer, valid until the next call (hits are
 * decoded into strings, so none keeps it). Reading 1,400 kernel files this way took 29 ms against 50–63 ms with
 * readFileSync (and less garbage to collect). Null when the file is gone.
 */
function readForMatching(root: string, relativePath: string): Buffer | null {
  const file = path.join(root, relativePath);
  readBuffer ??= Buffer.allocUnsafe(READ_BUFFER_BYTES);
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return null;
  }
  try {
    let length = 0;
    for (let read = -1; read !== 0 && length < readBuffer.length; length += read) {
      read = fs.readSync(fd, readBuffer, length, readBuffer.length - length, null);
    }
    return length < readBuffer.length ? readBuffer.subarray(0, length) : fs.readFileSync(file);
  } catch {
    return null;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The hits of each file of a run, in order (null for a file that is gone); files after the one where the run
 * reached `limit` hits are not read (their entry is missing).
 */
export function verifyOnDisk(request: DiskVerification): (ByteLineHit[] | null)[] {
  const verifier = new CandidateVerifier(request);
  const results: (ByteLineHit[] | null)[] = [];
  let found = 0;
  for (const relativePath of request.paths) {
    if (found >= request.limit) break;
    const bytes = readForMatching(request.root, relativePath);
    const hits = bytes === null ? null : verifier.hitsOf(bytes, request.limit - found);
    found += hits?.length ?? 0;
    results.push(hits);
  }
  return results;
}

/**
 * From this many candidate files on disk, verification is spread over the verification threads. Below it a query
 * takes milliseconds on one thread (kernel: 4–115 candidates, 4–25 ms), about what handing runs over and back
 * costs, and a one-shot CLI search would pay tens of milliseconds to start the threads (a chosen bound, not a
 * measured optimum).
 */
export const PARALLEL_MIN_CANDIDATES = 128;
/** Files per request to a thread: small enough that both threads finish together, large enough that messages are few. */
const MIN_CHUNK = 16;
const CHUNKS_PER_THREAD = 6;

const WORKER_URL = new URL('./verification-worker.js', import.meta.url);
let sharedThreads: WorkerThread<DiskVerification, (ByteLineHit[] | null)[]>[] | null = null;

/** The process's verification threads, one per core (up to 4); each starts on first use and keeps no process alive. */
export function verificationThreads(): WorkerThread<DiskVerification, (ByteLineHit[] | null)[]>[] {
  sharedThreads ??= Array.from({ length: Math.min(4, Math.max(1, os.availableParallelism())) },
    () => new WorkerThread(WORKER_URL, verifyOnDisk));
  return sharedThreads;
}

/**
 * {@link verifyOnDisk} over many files, split into runs that the threads take in turn, so every core reads and
 * matches files while the event loop stays free. The same result as verifyOnDisk: runs are merged in order, and
 * a thread that fails has its runs redone inline (WorkerThread). Each run stops at `limit` hits of its own, which
 * is enough, since the runs before it only add hits in front.
 */
export async function verifyInParallel(
  request: DiskVerification,
  threads: WorkerThread<DiskVerification, (ByteLineHit[] | null)[]>[] = verificationThreads(),
): Promise<(ByteLineHit[] | null)[]> {
  const size = Math.max(MIN_CHUNK, Math.ceil(request.paths.length / (threads.length * CHUNKS_PER_THREAD)));
  const runs: string[][] = [];
  for (let start = 0; start < request.paths.length; start += size) runs.push(request.paths.slice(start, start + size));
  const results: (ByteLineHit[] | null)[][] = new Array(runs.length);
  let next = 0;
  let enough = false;
  await Promise.all(threads.map(async (thread) => {
    while (next < runs.length && !enough) {
      const index = next++;
      results[index] = await thread.run({ ...request, paths: runs[index] });
      // With a small limit, the runs so far may already hold enough hits: later runs are not started.
      enough = hitsBefore(results, request.limit);
    }
  }));
  // What one run over all the files returns: files in order until `limit` hits, the last one's hits cut to fit.
  const merged: (ByteLineHit[] | null)[] = [];
  let found = 0;
  for (const run of results) {
    for (const hits of run ?? []) {
      if (found >= request.limit) return merged;
      const kept = hits && hits.slice(0, request.limit - found);
      found += kept?.length ?? 0;
      merged.push(kept);
    }
  }
  return merged;
}

/** Whether the leading finished runs already hold `limit` hits. */
function hitsBefore(results: (ByteLineHit[] | null)[][], limit: number): boolean {
  let found = 0;
  for (const run of results) {
    if (!run) return false;
    for (const hits of run) found += hits?.length ?? 0;
    if (found >= limit) return true;
  }
  return false;
}
