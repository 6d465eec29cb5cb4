import fs from 'node:fs';
import path from 'node:path';
import type { IndexConfig } from '../../protocol/config.js';
import type { IndexStatus, RankedFile, SearchParams, SearchResult, SymbolInfo } from '../../protocol/search.js';
import { workspaceStateDir } from '../config/state-paths.js';
import { CodeloopError } from '../errors.js';
import { readTextFile } from '../workspace/confined-files.js';
import { resolveWorkspaceRoot } from '../workspace/workspace-root.js';
import { readSearchSource, type SearchSources } from './candidate-verification.js';
import { searchContent, type ContentSearchRequest, type ContentSearchResult, type ParallelVerification } from './content-search.js';
import { AnalysisPool } from './analysis-pool.js';
import { FileStore } from './file-store.js';
import { GramPostings } from './gram-postings.js';
import { IgnoreRules } from './ignore-rules.js';
import { openIndexDatabase, REBUILT_FROM_META, SCHEMA_VERSION, type SqliteDatabase } from './index-database.js';
import { syncProblems, watchStoppedProblem, type IndexProblem } from './index-problems.js';
import { IndexWatcher, inotifyWatchLimit } from './index-watcher.js';
import { IndexWriter, type SyncProgress, type SyncSummary } from './index-writer.js';
import { searchSymbols } from './symbol-search.js';
import type { SearchSource } from './search-text.js';
import { WorkerThread } from '../threads/worker-thread.js';
import { buildRepoMap } from './repo-map.js';
import { answerInView, type ViewFile, type ViewWordsAnswer, type ViewWordsRequest } from './session-view-ranking.js';
import { rankFiles, type RankingOptions } from './text-ranking.js';

const DEFAULT_LIMITS = { symbol: 100, text: 20 };
/** Keystrokes in a buffer within this window reach the index in one write. */
const BUFFER_DEBOUNCE_MS = 25;

/** Called after a write changed the index; `changedPaths` is empty after a full sync. */
export type IndexUpdateListener = (changedPaths: string[]) => void;

export function defaultDatabasePath(realRoot: string, config: IndexConfig): string {
  return path.join(config.stateDir ?? workspaceStateDir(realRoot), 'index.db');
}

/** Where a reader ranks and maps when not on its own connection: a session's view does it on the session view thread. */
export interface WordQueries {
  rankFiles(question: string, limit: number, options?: RankingOptions): Promise<RankedFile[]>;
  repoMap(question: string | undefined, tokenBudget: number): Promise<string>;
}

/**
 * The read side of an index: one database connection, and where file text comes from (to verify matches).
 * Ranking and the repo map (the queries that read the words tables) go to `words` when given (see
 * `queryWithChanges`).
 */
export class IndexQueries {
  private readonly postings: GramPostings;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly sources: SearchSources,
    private readonly words?: WordQueries,
  ) {
    this.postings = new GramPostings(db);
  }

  private readonly readSource = (relativePath: string): SearchSource | null => readSearchSource(this.sources, relativePath);

  /** Literal or regex search (see content-search.ts); `parallel` is for benchmarks and tests. */
  searchContent(request: ContentSearchRequest, parallel?: ParallelVerification): Promise<ContentSearchResult> {
    return searchContent(this.db, this.postings, this.sources, request, parallel);
  }

  searchSymbols(query: string, limit: number = DEFAULT_LIMITS.symbol): SymbolInfo[] {
    return searchSymbols(this.db, query, limit);
  }

  /**
   * Ranked files for a question; large files are scanned off the event loop, hence a promise. (The ranking modules
   * are imported statically: loaded with `import()` on first use, a 10 MB question's ranking took minutes in the
   * test suite, run from sources; the cause was not found in time, and the saving was ≈ 10 ms.)
   */
  async rankFiles(question: string, limit: number = DEFAULT_LIMITS.text, options?: RankingOptions): Promise<RankedFile[]> {
    if (this.words) return this.words.rankFiles(question, limit, options);
    return rankFiles(this.db, this.readSource, question, limit, options);
  }

  async repoMap(question: string | undefined, tokenBudget: number): Promise<string> {
    if (this.words) return this.words.repoMap(question, tokenBudget);
    return buildRepoMap(this.db, this.readSource, { question, tokenBudget });
  }

  async search(params: SearchParams): Promise<SearchResult> {
    switch (params.mode) {
      case 'literal':
      case 'regex': {
        const result = await this.searchContent({
          pattern: params.query,
          regex: params.mode === 'regex',
          caseInsensitive: params.caseInsensitive,
          limit: params.limit ?? Number.MAX_SAFE_INTEGER,
        });
        return { mode: params.mode, matches: result.matches, truncated: result.truncated };
      }
      case 'symbol':
        return { mode: 'symbol', symbols: this.searchSymbols(params.query, params.limit) };
      case 'text':
        return { mode: 'text', files: await this.rankFiles(params.query, params.limit) };
    }
  }
}

/**
 * One workspace's index: the database, its single writer (full sync, watcher batches, editor buffers —
 * serialised on one queue) and the read side (content, symbol and ranked search, repo map).
 */
export class WorkspaceIndex {
  private readonly overlays = new Map<string, string>();
  private readonly store: FileStore;
  private readonly writer: IndexWriter;
  private readonly rules: IgnoreRules;
  private readonly pool = new AnalysisPool();
  private readonly queries: IndexQueries;
  private watcher: IndexWatcher | null = null;
  private writeQueue: Promise<unknown> = Promise.resolve();
  /** Rankings and maps of session views in flight: on the session view thread they write to the index file. */
  private readonly viewAnswers = new Set<Promise<unknown>>();
  /** Where session views rank and map (from TypeScript sources: inline, inside the view's savepoint on this connection). */
  private readonly viewThread = new WorkerThread<ViewWordsRequest, ViewWordsAnswer>(new URL('./session-view-worker.js', import.meta.url), (request) => answerInView(this.db, request));
  private readonly listeners = new Set<IndexUpdateListener>();
  private readonly pendingBuffers = new Set<string>();
  private bufferFlush: Promise<string[]> | null = null;
  private lastSync: SyncSummary | null = null;
  private watchProblem: IndexProblem | null = null;
  private rescanTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly problemListeners = new Set<(problem: IndexProblem) => void>();

  private constructor(
    readonly root: string,
    readonly databasePath: string,
    private readonly db: SqliteDatabase,
    private readonly config: IndexConfig,
  ) {
    this.store = new FileStore(db);
    this.rules = new IgnoreRules(root, config);
    this.writer = new IndexWriter(root, this.store, this.rules, this.pool, config.maxFileSize,
      (relativePath) => this.overlays.get(relativePath));
    this.queries = new IndexQueries(db, { root, override: (file) => this.overlays.get(file) });
  }

  static open(dir: string, config: IndexConfig, databasePath?: string): WorkspaceIndex {
    const root = resolveWorkspaceRoot(dir);
    const file = databasePath ?? defaultDatabasePath(root, config);
    return new WorkspaceIndex(root, file, openIndexDatabase(file), config);
  }

  /** Runs writes one at a time; a failed write does not block the ones after it. */
  private enqueue<T>(write: () => Promise<T>): Promise<T> {
    const next = this.writeQueue.then(() => this.viewAnswersSettled()).then(write);
    this.writeQueue = next.catch(() => undefined);
    return next;
  }

  /**
   * Resolves when the session views' rankings and maps asked so far are done. The session view thread holds
   * SQLite's write lock while it writes a view (its own connection); this connection's writes and views wait for
   * it here, on a promise, rather than in SQLite's busy handler, which would hold the event loop for as long. (A
   * full sync already under way when a view is asked still meets the lock between its batches, and waits there.)
   */
  private viewAnswersSettled(): Promise<unknown> {
    return Promise.allSettled([...this.viewAnswers]);
  }

  /** Brings the index in line with the tree (first index, or re-validation after a restart). */
  sync(onProgress?: SyncProgress): Promise<SyncSummary> {
    return this.enqueue(async () => {
      const summary = await this.writer.syncAll(onProgress);
      this.lastSync = summary;
      if (summary.added || summary.updated || summary.removed) this.emit([]);
      return summary;
    });
  }

  onDidUpdate(listener: IndexUpdateListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(changedPaths: string[]): void {
    for (const listener of this.listeners) listener(changedPaths);
  }

  /** Resolves when every queued write has landed. */
  idle(): Promise<void> {
    return this.writeQueue.then(() => undefined);
  }

  isEmpty(): boolean {
    return this.store.getMeta('lastIndexedAt') === null;
  }

  /** Why the next full index starts from nothing when an older codeloop's index was emptied on opening, else null. */
  rebuildNote(): string | null {
    const version = this.store.getMeta(REBUILT_FROM_META);
    return version === null ? null
      : `the index was written by an older codeloop (schema v${version}, now v${SCHEMA_VERSION}) and cannot be converted; indexing ${this.root} again`;
  }

  /** Re-reads paths (a trailing `/` means everything indexed below that folder); returns those that changed. */
  updatePaths(relativePaths: string[]): Promise<string[]> {
    return this.enqueue(async () => {
      // A buffer's debounced write or a closed buffer can be queued after close() has waited for the queue.
      if (this.closed) return [];
      // A folder's binary files too, so that they are forgotten when it goes.
      const below = this.db.prepare('SELECT path FROM files WHERE substr(path, 1, :length) = :folder UNION ALL SELECT path FROM binary_files WHERE substr(path, 1, :length) = :folder').pluck();
      const expanded = relativePaths.flatMap((rel) => (rel.endsWith('/') ? below.all({ length: rel.length, folder: rel }) as string[] : [rel]));
      const changed = await this.writer.updatePaths(expanded);
      if (changed.length) this.emit(changed);
      return changed;
    });
  }

  /**
   * An editor's unsaved buffer: searched (at once) and indexed (after a short debounce, so typing costs one
   * write per burst) in place of the file until the buffer is closed. Resolves once the index has it.
   */
  setBufferText(relativePath: string, text: string): Promise<void> {
    this.overlays.set(relativePath, text);
    this.pendingBuffers.add(relativePath);
    this.bufferFlush ??= new Promise((resolve) => setTimeout(resolve, BUFFER_DEBOUNCE_MS)).then(() => {
      const paths = [...this.pendingBuffers];
      this.pendingBuffers.clear();
      this.bufferFlush = null;
      return this.updatePaths(paths);
    });
    return this.bufferFlush.then(() => undefined);
  }

  async closeBuffer(relativePath: string): Promise<void> {
    if (!this.overlays.delete(relativePath)) return;
    this.pendingBuffers.delete(relativePath);
    await this.updatePaths([relativePath]);
  }

  /** Definitions in one file, in line order (for code actions on the symbol at the cursor). */
  symbolsInFile(relativePath: string): SymbolInfo[] {
    return this.db.prepare(
      `SELECT s.name, s.kind, s.container, f.path, s.start_line AS startLine, s.start_character AS startCharacter,
       s.end_line AS endLine, s.end_character AS endCharacter
       FROM symbols s JOIN files f ON f.id = s.file_id WHERE f.path = ? ORDER BY s.start_line, s.start_character`,
    ).all(relativePath) as SymbolInfo[];
  }

  /**
   * Follows the tree's changes. Where the system will not let us watch it (too many files for the inotify limit,
   * too many open files), the index degrades to a periodic rescan that retries watching, and says so.
   */
  async watch(): Promise<void> {
    if (this.watcher || this.closed) return;
    // A tree that needs more watches than the system allows is not tried: it would fail part-way anyway.
    const limit = inotifyWatchLimit();
    const needed = this.lastSync?.watchTargets ?? 0;
    if (limit !== null && needed > limit) return this.watchingStopped('ENOSPC', `this tree needs about ${needed} watches, the limit is ${limit}`);
    this.watcher = new IndexWatcher(this.root, this.rules, (paths) => void this.updatePaths(paths), (code) => this.watchingStopped(code));
    await this.watcher.start();
    if (this.watcher) {
      this.watchProblem = null;
      if (this.rescanTimer) clearInterval(this.rescanTimer);
      this.rescanTimer = null;
    }
  }

  private watchingStopped(code: string, detail?: string): void {
    this.watcher = null;
    const first = this.watchProblem === null;
    this.watchProblem = watchStoppedProblem(code, this.config.rescanSeconds, detail);
    this.rescanTimer ??= setInterval(() => {
      void this.sync().then(() => this.watch()).catch(() => undefined); // a failed rescan is retried at the next tick
    }, this.config.rescanSeconds * 1000).unref();
    if (first) for (const listener of this.problemListeners) listener(this.watchProblem);
  }

  /** Hears of problems that arise while the index runs (the watcher stopping); `problems()` has the current ones. */
  onProblem(listener: (problem: IndexProblem) => void): () => void {
    this.problemListeners.add(listener);
    return () => this.problemListeners.delete(listener);
  }

  /** What the last full sync did (null before the first one in this process). */
  lastSyncSummary(): SyncSummary | null {
    return this.lastSync;
  }

  /** What the user should know about this index now: watching stopped, files left out. */
  problems(): IndexProblem[] {
    return [...(this.watchProblem ? [this.watchProblem] : []), ...(this.lastSync ? syncProblems(this.lastSync, this.config.maxFileSize) : [])];
  }

  /** Whether an editor buffer of this text is too large to index (it is then left out, like such a file). */
  isTooLarge(text: string): boolean {
    return Buffer.byteLength(text) > this.config.maxFileSize;
  }

  /**
   * Current text of an indexed file: the unsaved buffer if open, else the disk decoded as the shadow and Apply
   * decode it (file-encoding.ts); null if gone, not text, or reached through a link out of the workspace.
   */
  readText(relativePath: string): string | null {
    const overlay = this.overlays.get(relativePath);
    if (overlay !== undefined) return overlay;
    try {
      return readTextFile(this.root, relativePath)?.text ?? null;
    } catch {
      return null;
    }
  }

  /**
   * Literal or regex search over the files as search reads them: the unsaved buffer if open, else the bytes on
   * disk (decoded for matching by search-text.ts, where bytes that are not valid UTF-8 are kept apart so they
   * never match by accident).
   */
  async searchContent(request: ContentSearchRequest, parallel?: ParallelVerification): Promise<ContentSearchResult> {
    return this.reader().searchContent(request, parallel);
  }

  searchSymbols(query: string, limit?: number): SymbolInfo[] {
    return this.reader().searchSymbols(query, limit);
  }

  async rankFiles(question: string, limit?: number, options?: RankingOptions): Promise<RankedFile[]> {
    return this.reader().rankFiles(question, limit, options);
  }

  async repoMap(question: string | undefined, tokenBudget: number): Promise<string> {
    return this.reader().repoMap(question, tokenBudget);
  }

  async search(params: SearchParams): Promise<SearchResult> {
    return this.reader().search(params);
  }

  /** The read side, while the index is open; a closed index is refused with a message (not SQLite's own). */
  private reader(): IndexQueries {
    if (this.closed) throw new CodeloopError('invalidArgument', `the index of ${this.root} is closed`);
    return this.queries;
  }

  /**
   * Runs `query` against the index as if `changes` (root-relative path → text, null for deleted) were on disk:
   * what an agent session's tools search, so the session finds its own edits, and not the files it deleted. As
   * an editor's unsaved buffers do, but for this query only: the changed files are analysed, written into the
   * database inside a savepoint, queried, and rolled back — nobody else ever sees them. The query must read the
   * index and files synchronously (it runs inside the savepoint); what it returns may be a promise of work that
   * reads neither (ranking's scans, see `startRanking`). The savepoint holds the event loop, so the changed
   * files' words — most of the write's cost (≈ 3/4 for 1 MB files) — are left out of it: a ranking or repo map
   * asked in the view runs on the session view thread, on its own connection with its own savepoint that writes
   * the files whole (session-view-ranking.ts; inline from TypeScript sources, inside this savepoint).
   */
  async queryWithChanges<T>(changes: ReadonlyMap<string, string | null>, query: (reader: IndexQueries) => T): Promise<T> {
    const current = this.reader();
    if (!changes.size) return query(current);
    const outcomes = await Promise.all([...changes].map(async ([file, text]) => {
      const indexable = text !== null && !this.isTooLarge(text) && !this.rules.isIgnored(file, false) && !this.rules.isInsideIgnoredDirectory(file);
      return { file, text, outcome: indexable ? await this.pool.analyze({ root: this.root, path: file, overlay: text }) : null };
    }));
    const files: ViewFile[] = outcomes.map(({ file, text, outcome }) => ({ path: file, text, analysis: outcome?.kind === 'analysed' ? outcome.analysis : null }));
    const answer = (viewQuery: ViewWordsRequest['query']): Promise<ViewWordsAnswer> => {
      const request: ViewWordsRequest = { databasePath: this.databasePath, root: this.root, files, overlays: [...this.overlays], query: viewQuery };
      const pending = this.viewThread.run(request);
      this.viewAnswers.add(pending);
      void pending.finally(() => this.viewAnswers.delete(pending)).catch(() => undefined);
      return pending;
    };
    const viewGrams = new Map(files.flatMap(({ path: file, analysis }) => (analysis ? [[file, analysis.grams] as const] : [])));
    const reader = new IndexQueries(this.db, {
      root: this.root,
      override: (file) => (changes.has(file) ? changes.get(file)! : this.overlays.get(file)),
      // The view writes its files without postings (they would join the writer's run): the filter reads these.
      unpostedGrams: (file) => viewGrams.get(file),
    }, {
      rankFiles: async (question, limit, options) => {
        const answered = await answer({ kind: 'rank', question, limit, options });
        return answered.kind === 'rank' ? answered.files : [];
      },
      repoMap: async (question, tokenBudget) => {
        const answered = await answer({ kind: 'map', question, tokenBudget });
        return answered.kind === 'map' ? answered.text : '';
      },
    });
    while (this.viewAnswers.size) await this.viewAnswersSettled();
    this.db.exec('SAVEPOINT session_view');
    try {
      for (const { path: file, analysis } of files) {
        if (analysis) {
          this.store.write(file, Buffer.byteLength(changes.get(file) ?? ''), -1, analysis, { words: false, postings: false });
        } else {
          const existing = this.store.get(file);
          if (existing) this.store.remove(existing.id);
        }
      }
      return query(reader);
    } finally {
      this.db.exec('ROLLBACK TO session_view');
      this.db.exec('RELEASE session_view');
    }
  }

  /** Folders holding indexed files, with their parents: what watching this tree costs (one watch each). */
  folderCount(): number {
    const folders = new Set<string>(['']);
    for (const file of this.db.prepare('SELECT path FROM files').pluck().iterate() as Iterable<string>) {
      for (let slash = file.lastIndexOf('/'); slash > 0 && !folders.has(file.slice(0, slash)); slash = file.lastIndexOf('/', slash - 1)) {
        folders.add(file.slice(0, slash));
      }
    }
    return folders.size;
  }

  fileCount(): number {
    return this.db.prepare('SELECT count(*) FROM files').pluck().get() as number;
  }

  status(): IndexStatus {
    const totals = this.db.prepare('SELECT count(*) AS files, coalesce(sum(size), 0) AS bytes FROM files').get() as { files: number; bytes: number };
    const symbols = this.db.prepare('SELECT count(*) FROM symbols').pluck().get() as number;
    const databaseBytes = ['', '-wal'].reduce((sum, suffix) => {
      try {
        return sum + fs.statSync(this.databasePath + suffix).size;
      } catch {
        return sum;
      }
    }, 0);
    return {
      root: this.root,
      databasePath: this.databasePath,
      files: totals.files,
      bytes: totals.bytes,
      symbols,
      databaseBytes,
      lastIndexedAt: this.store.getMeta('lastIndexedAt'),
      schemaVersion: SCHEMA_VERSION,
    };
  }

  /** Checks the database's integrity (used after crashes and by `codeloop status --check`). */
  integrityCheck(): string {
    return this.db.pragma('integrity_check', { simple: true }) as string;
  }

  /** Whether close() was called: a sync that was running then stopped at its next batch, part done. */
  isClosed(): boolean {
    return this.closed;
  }

  /** Closes the index; a full sync in progress stops at its next batch rather than running to the end. */
  async close(): Promise<void> {
    this.closed = true;
    this.writer.stop();
    if (this.rescanTimer) clearInterval(this.rescanTimer);
    this.rescanTimer = null;
    await this.watcher?.stop();
    this.watcher = null;
    await this.idle();
    await this.viewAnswersSettled();
    await this.viewThread.close();
    await this.pool.close();
    this.db.pragma('wal_checkpoint(TRUNCATE)');
    this.db.close();
  }
}
