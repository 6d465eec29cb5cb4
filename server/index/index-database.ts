import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { CodeloopError, errorMessage } from '../errors.js';

export type SqliteDatabase = Database.Database;

/**
 * Schema migrations, applied in order inside one transaction each; `PRAGMA user_version` records how many ran.
 * Content is not stored: the gram table `file_trigrams` is contentless (detail=none, one token per distinct
 * sparse n-gram, see trigram-tokens.ts) and candidates are verified against the files themselves (or the editor's unsaved buffers).
 */
const MIGRATIONS: string[] = [
  `
  CREATE TABLE files (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    size INTEGER NOT NULL,
    mtime_ms REAL NOT NULL,
    hash TEXT NOT NULL,
    language TEXT
  );
  CREATE VIRTUAL TABLE file_trigrams USING fts5(
    trigrams, tokenize = 'ascii', content = '', contentless_delete = 1, detail = 'none'
  );
  CREATE VIRTUAL TABLE file_words USING fts5(
    path, symbols, body, tokenize = 'unicode61', content = '', contentless_delete = 1
  );
  CREATE VIRTUAL TABLE file_words_vocabulary USING fts5vocab(file_words, 'row');
  CREATE TABLE symbols (
    file_id INTEGER NOT NULL,
    name TEXT NOT NULL COLLATE NOCASE,
    kind TEXT NOT NULL,
    container TEXT,
    start_line INTEGER NOT NULL,
    start_character INTEGER NOT NULL,
    end_line INTEGER NOT NULL,
    end_character INTEGER NOT NULL
  );
  CREATE INDEX symbols_by_name ON symbols(name);
  CREATE INDEX symbols_by_file ON symbols(file_id);
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  `,
  // Sparse n-grams replace plain trigrams (trigram-tokens.ts). The old tokens cannot be converted, so the index
  // starts empty, as before a first index: every command that finds it empty (`search --no-refresh` too) indexes.
  `
  DROP TABLE file_trigrams;
  CREATE VIRTUAL TABLE file_trigrams USING fts5(
    trigrams, tokenize = 'ascii', content = '', contentless_delete = 1, detail = 'none'
  );
  DROP TABLE file_words_vocabulary;
  DROP TABLE file_words;
  CREATE VIRTUAL TABLE file_words USING fts5(
    path, symbols, body, tokenize = 'unicode61', content = '', contentless_delete = 1
  );
  CREATE VIRTUAL TABLE file_words_vocabulary USING fts5vocab(file_words, 'row');
  DELETE FROM symbols;
  DELETE FROM files;
  DELETE FROM meta WHERE key = 'lastIndexedAt';
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

function migrate(db: SqliteDatabase): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    throw new CodeloopError(
      'corruptIndex',
      `index schema version ${current} is newer than this codeloop (${SCHEMA_VERSION}); upgrade codeloop or delete the index`,
    );
  }
  for (let version = current; version < SCHEMA_VERSION; version++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[version]);
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
}

/** Opens (creating and migrating) an index database; a damaged file becomes a `corruptIndex` error naming the fix. */
export function openIndexDatabase(file: string): SqliteDatabase {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  let db: SqliteDatabase | undefined;
  try {
    db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    db.pragma('cache_size = -32000');
    migrate(db);
    return db;
  } catch (error) {
    db?.close();
    if (error instanceof CodeloopError) throw error;
    throw new CodeloopError(
      'corruptIndex',
      `index database ${file} cannot be opened (${errorMessage(error)}); run \`codeloop index --rebuild\``,
    );
  }
}

/** Deletes a database with its WAL and shared-memory files (for --rebuild). */
export function removeIndexDatabase(file: string): void {
  for (const suffix of ['', '-wal', '-shm']) fs.rmSync(file + suffix, { force: true });
}
