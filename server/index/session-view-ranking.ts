import type { RankedFile } from '../../protocol/search.js';
import { readSearchSource } from './candidate-verification.js';
import type { FileAnalysis } from './file-analysis.js';
import { FileStore } from './file-store.js';
import { openIndexDatabase, type SqliteDatabase } from './index-database.js';
import { buildRepoMap } from './repo-map.js';
import { rankFiles, type RankingOptions } from './text-ranking.js';

/** A changed file of a session's view: its analysis, or null when the view removes it (deleted, or not indexable). */
export interface ViewFile {
  path: string;
  /** The session's text of the file; null when it deleted the file. */
  text: string | null;
  analysis: FileAnalysis | null;
}

/** A ranking or repo map asked inside a session's view of an index (see `WorkspaceIndex.queryWithChanges`). */
export interface ViewWordsRequest {
  /** The index database file (the worker opens its own connection to it). */
  databasePath: string;
  /** The workspace root (absolute): files the view does not change are read below it. */
  root: string;
  files: ViewFile[];
  /** The editors' unsaved buffers (root-relative path → text), which the index holds already. */
  overlays: [string, string][];
  query: { kind: 'rank'; question: string; limit: number; options?: RankingOptions } | { kind: 'map'; question: string | undefined; tokenBudget: number };
}

/** The answer: ranked files for `rank`, the map's text for `map`. */
export type ViewWordsAnswer = { kind: 'rank'; files: RankedFile[] } | { kind: 'map'; text: string };

/**
 * Answers `request` on `db` as if the view's files were on disk: the files' rows — words included, which only
 * ranking and the repo map read — are written inside a savepoint, the index is read, and the savepoint is rolled
 * back before this returns (the scans that follow read neither the index nor the files, see `startRanking`).
 * On the session view thread `db` is that thread's own connection, so the write (≈ 30 ms of full-text
 * tokenising per changed megabyte) holds no editor; inline it is the index's connection, inside the view's own
 * savepoint (whose rows are written again, with their words).
 */
export function answerInView(db: SqliteDatabase, request: ViewWordsRequest): Promise<ViewWordsAnswer> {
  const changed = new Map(request.files.map((file) => [file.path, file.text]));
  const overlays = new Map(request.overlays);
  const sources = { root: request.root, override: (file: string) => (changed.has(file) ? changed.get(file)! : overlays.get(file)) };
  const readSource = (file: string) => readSearchSource(sources, file);
  const store = new FileStore(db);
  db.exec('SAVEPOINT session_view_words');
  try {
    for (const file of request.files) {
      if (file.analysis) {
        // Ranking reads no postings; a file above their watermark is a candidate anyway (gram-postings.ts).
        store.write(file.path, Buffer.byteLength(file.text ?? ''), -1, file.analysis, { postings: false });
      } else {
        const existing = store.get(file.path);
        if (existing) store.remove(existing.id);
      }
    }
    const { query } = request;
    return query.kind === 'rank'
      ? rankFiles(db, readSource, query.question, query.limit, query.options).then((files) => ({ kind: 'rank', files }))
      : buildRepoMap(db, readSource, { question: query.question, tokenBudget: query.tokenBudget }).then((text) => ({ kind: 'map', text }));
  } finally {
    db.exec('ROLLBACK TO session_view_words');
    db.exec('RELEASE session_view_words');
  }
}

/**
 * `answerInView` on its own connection to the index: what the session view thread (session-view-worker.ts)
 * runs. The connection lives for one request (an index rebuilt meanwhile is a new file); SQLite's busy timeout
 * makes it wait while the daemon's connection writes.
 */
export function answerOnOwnConnection(request: ViewWordsRequest): Promise<ViewWordsAnswer> {
  const db = openIndexDatabase(request.databasePath);
  let answer: Promise<ViewWordsAnswer>;
  try {
    answer = answerInView(db, request);
  } catch (error) {
    db.close();
    throw error;
  }
  return answer.finally(() => db.close());
}

