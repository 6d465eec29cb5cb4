import type { SqliteDatabase } from './index-database.js';
import type { FileAnalysis } from './file-analysis.js';

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

  constructor(readonly db: SqliteDatabase) {
    this.statements = {
      byPath: db.prepare('SELECT id, path, size, mtime_ms AS mtimeMs, hash, language FROM files WHERE path = ?'),
      stamps: db.prepare('SELECT path, id, size, mtime_ms FROM files').raw(),
      // Not `RETURNING id`: a RETURNING statement opens a savepoint, and FTS5 flushes its pending terms to a new
      // segment at every savepoint — one segment per file, merged over and over (3–5× the whole indexing time).
      insertFile: db.prepare('INSERT INTO files (path, size, mtime_ms, hash, language) VALUES (?, ?, ?, ?, ?)'),
      updateFile: db.prepare('UPDATE files SET size = ?, mtime_ms = ?, hash = ?, language = ? WHERE id = ?'),
      touchFile: db.prepare('UPDATE files SET size = ?, mtime_ms = ? WHERE id = ?'),
      deleteFile: db.prepare('DELETE FROM files WHERE id = ?'),
      insertTrigrams: db.prepare('INSERT INTO file_trigrams (rowid, trigrams) VALUES (?, ?)'),
      deleteTrigrams: db.prepare('DELETE FROM file_trigrams WHERE rowid = ?'),
      insertWords: db.prepare('INSERT INTO file_words (rowid, path, symbols, body) VALUES (?, ?, ?, ?)'),
      deleteWords: db.prepare('DELETE FROM file_words WHERE rowid = ?'),
      insertSymbol: db.prepare(
        `INSERT INTO symbols (file_id, name, kind, container, start_line, start_character, end_line, end_character)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      deleteSymbols: db.prepare('DELETE FROM symbols WHERE file_id = ?'),
      setMeta: db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
      getMeta: db.prepare('SELECT value FROM meta WHERE key = ?'),
    };
  }

  get(path: string): FileRecord | undefined {
    return this.statements.byPath.get(path) as FileRecord | undefined;
  }

  /** Every indexed path with what re-validation compares (read row by row, no full records: this can be millions). */
  stamps(): Map<string, { id: number; size: number; mtimeMs: number }> {
    const stamps = new Map<string, { id: number; size: number; mtimeMs: number }>();
    for (const [path, id, size, mtimeMs] of this.statements.stamps.iterate() as Iterable<[string, number, number, number]>) stamps.set(path, { id, size, mtimeMs });
    return stamps;
  }

  /** Inserts or replaces a file's rows. Call inside a transaction. */
  write(path: string, size: number, mtimeMs: number, analysis: FileAnalysis): void {
    const existing = this.get(path);
    let id: number;
    if (existing) {
      id = existing.id;
      this.clearContent(id);
      this.statements.updateFile.run(size, mtimeMs, analysis.hash, analysis.language, id);
    } else {
      id = Number(this.statements.insertFile.run(path, size, mtimeMs, analysis.hash, analysis.language).lastInsertRowid);
    }
    this.statements.insertTrigrams.run(id, analysis.trigrams);
    this.statements.insertWords.run(id, analysis.pathWords, analysis.symbolWords, analysis.bodyWords);
    for (const symbol of analysis.symbols) {
      this.statements.insertSymbol.run(
        id, symbol.name, symbol.kind, symbol.container,
        symbol.startLine, symbol.startCharacter, symbol.endLine, symbol.endCharacter,
      );
    }
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
    this.statements.deleteTrigrams.run(id);
    this.statements.deleteWords.run(id);
    this.statements.deleteSymbols.run(id);
  }

  setMeta(key: string, value: string): void {
    this.statements.setMeta.run(key, value);
  }

  getMeta(key: string): string | null {
    return (this.statements.getMeta.get(key) as { value: string } | undefined)?.value ?? null;
  }

  transaction<T>(work: () => T): T {
    return this.db.transaction(work)();
  }
}
