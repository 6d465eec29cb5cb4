import type { SqliteDatabase } from './index-database.js';
import type { FileAnalysis } from './file-analysis.js';
import { GramPostings } from './gram-postings.js';

/** What re-validation compares a file on disk with: size in bytes and mtime in ms, as `fs.Stats` gives them. */
export interface FileStamp {
  size: number;
  mtimeMs: number;
}

/**
 * Every indexed file's stamp, column by column: `paths[i]` (file id `ids[i]`) has size `sizes[i]` and mtime
 * `mtimesMs[i]` (ms), and `rowOf` maps a path to its `i`. Read as plain columns rather than an object per row: on
 * the kernel's 78 k files, 190–200 ms of CPU against 315 ms (bench/RESULTS.md, round 6).
 */
export interface IndexedStamps {
  ids: number[];
  paths: string[];
  sizes: number[];
  mtimesMs: number[];
  rowOf: Map<string, number>;
}

export interface FileRecord {
  id: number;
  path: string;
  size: number;
  mtimeMs: number;
  hash: string;
  language: string | null;
}

/** Every write to the index tables goes through here, so a file's rows always change together. */
export class FileStore {
  private readonly statements;
  private readonly postings: GramPostings;

  constructor(readonly db: SqliteDatabase) {
    this.postings = new GramPostings(db);
    this.statements = {
      byPath: db.prepare('SELECT id, path, size, mtime_ms AS mtimeMs, hash, language FROM files WHERE path = ?'),
      // Same table scan (rowid order) each, inside one read transaction, so the three columns line up.
      stampIds: db.prepare('SELECT id FROM files ORDER BY rowid').pluck(),
      stampPaths: db.prepare('SELECT path FROM files ORDER BY rowid').pluck(),
      stampSizes: db.prepare('SELECT size FROM files ORDER BY rowid').pluck(),
      stampMtimes: db.prepare('SELECT mtime_ms FROM files ORDER BY rowid').pluck(),
      // Not `RETURNING id`: a RETURNING statement opens a savepoint, and FTS5 flushes its pending terms to a new
      // segment at every savepoint — one segment per file, merged over and over (3–5× the whole indexing time).
      insertFile: db.prepare('INSERT INTO files (path, size, mtime_ms, hash, language) VALUES (?, ?, ?, ?, ?)'),
      touchFile: db.prepare('UPDATE files SET size = ?, mtime_ms = ? WHERE id = ?'),
      deleteFile: db.prepare('DELETE FROM files WHERE id = ?'),
      binaryStamps: db.prepare('SELECT path, size, mtime_ms FROM binary_files').raw(),
      markBinary: db.prepare('INSERT OR REPLACE INTO binary_files (path, size, mtime_ms) VALUES (?, ?, ?)'),
      forgetBinary: db.prepare('DELETE FROM binary_files WHERE path = ?'),
      insertWords: db.prepare('INSERT INTO file_words (rowid, path, symbols, body) VALUES (?, ?, ?, ?)'),
      deleteWords: db.prepare('DELETE FROM file_words WHERE rowid = ?'),
      insertSymbol: db.prepare(
        `INSERT INTO symbols (file_id, name, kind, container, start_line, start_character, end_line, end_character)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      deleteSymbols: db.prepare('DELETE FROM symbols WHERE file_id = ?'),
      setMeta: db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
      getMeta: db.prepare('SELECT value FROM meta WHERE key = ?'),
      deleteMeta: db.prepare('DELETE FROM meta WHERE key = ?'),
    };
  }

  get(path: string): FileRecord | undefined {
    return this.statements.byPath.get(path) as FileRecord | undefined;
  }

  /** Every indexed path with what re-validation compares (no full records: this can be millions). */
  stamps(): IndexedStamps {
    // One read snapshot for the four columns; deferred, so reading takes no write lock from a writer.
    return this.db.transaction(() => {
      const paths = this.statements.stampPaths.all() as string[];
      const rowOf = new Map<string, number>();
      for (let row = 0; row < paths.length; row++) rowOf.set(paths[row], row);
      return {
        ids: this.statements.stampIds.all() as number[],
        paths,
        sizes: this.statements.stampSizes.all() as number[],
        mtimesMs: this.statements.stampMtimes.all() as number[],
        rowOf,
      };
    })();
  }

  /** Files left out as binary, with the stamp they had then (see {@link markBinary}). */
  binaryStamps(): Map<string, FileStamp> {
    const stamps = new Map<string, FileStamp>();
    for (const [path, size, mtimeMs] of this.statements.binaryStamps.iterate() as Iterable<[string, number, number]>) stamps.set(path, { size, mtimeMs });
    return stamps;
  }

  /**
   * Remembers that `path`, at this stamp, is binary and so not indexed: re-validation passes over it until its
   * stamp changes. Call inside a transaction.
   */
  markBinary(path: string, stamp: FileStamp): void {
    this.statements.markBinary.run(path, stamp.size, stamp.mtimeMs);
  }

  /** Forgets that `path` was binary (it is gone, ignored, too large, or text now). */
  forgetBinary(path: string): void {
    this.statements.forgetBinary.run(path);
  }

  /**
   * Inserts or replaces a file's rows and returns its id. Call inside a transaction. A replaced file gets a new id:
   * the gram postings of its old content stay behind until a merge drops them (gram-postings.ts), and must not
   * be read as the new content's. `words: false` leaves the file's words out for {@link writeWords} to add when
   * needed: they cost the most to write (full-text tokenising), and only ranking and the repo map read them.
   * `postings: false` leaves its grams out: a file above the postings' watermark is a candidate for every
   * search (a session's view, rolled back straight after, see `queryWithChanges`).
   */
  write(path: string, size: number, mtimeMs: number, analysis: FileAnalysis, { words = true, postings = true } = {}): number {
    const existing = this.get(path);
    this.forgetBinary(path);
    if (existing) this.remove(existing.id);
    const id = Number(this.statements.insertFile.run(path, size, mtimeMs, analysis.hash, analysis.language).lastInsertRowid);
    if (postings) this.postings.add(id, analysis.grams);
    if (words) this.writeWords(id, analysis);
    for (const symbol of analysis.symbols) {
      this.statements.insertSymbol.run(
        id, symbol.name, symbol.kind, symbol.container,
        symbol.startLine, symbol.startCharacter, symbol.endLine, symbol.endCharacter,
      );
    }
    return id;
  }

  private writeWords(id: number, analysis: FileAnalysis): void {
    this.statements.insertWords.run(id, analysis.pathWords, analysis.symbolWords, analysis.bodyWords);
  }

  /** Records a new size/mtime for a file whose content hash did not change. */
  touch(id: number, size: number, mtimeMs: number): void {
    this.statements.touchFile.run(size, mtimeMs, id);
  }

  remove(id: number): void {
    this.clearContent(id);
    this.statements.deleteFile.run(id);
  }

  private clearContent(id: number): void {
    this.statements.deleteWords.run(id);
    this.statements.deleteSymbols.run(id);
  }

  setMeta(key: string, value: string): void {
    this.statements.setMeta.run(key, value);
  }

  deleteMeta(key: string): void {
    this.statements.deleteMeta.run(key);
  }

  getMeta(key: string): string | null {
    return (this.statements.getMeta.get(key) as { value: string } | undefined)?.value ?? null;
  }

  /**
   * Runs `work` in a write transaction and writes the postings of the files it wrote before committing, so no
   * committed file ever lacks its postings: another process (a second CLI, the daemon) writing right after sees
   * a watermark that covers only files whose postings are in, whatever this process does next, and a killed
   * process leaves nothing half-written. A failed transaction loses its files and its run together.
   */
  transaction<T>(work: () => T): T {
    try {
      // IMMEDIATE: the write lock is taken (waiting busy_timeout for it) before the first read. A deferred
      // transaction that read first and then wrote failed at once with "database is locked" when another process
      // (a second CLI indexing the same tree) had written meanwhile: SQLite cannot wait for a stale snapshot.
      return this.db.transaction(() => {
        const result = work();
        this.postings.flush();
        return result;
      }).immediate();
    } catch (error) {
      this.postings.discard();
      throw error;
    }
  }
}
