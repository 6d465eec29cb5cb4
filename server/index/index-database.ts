import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { CodeloopError, errorMessage } from '../errors.js';

export type SqliteDatabase = Database.Database;

/**
 * Schema migrations, applied in order inside one transaction each; `PRAGMA user_version` records how many ran.
 * Content is not stored: the candidate filter keeps posting lists of sparse n-grams (`gram_segments`,
 * `gram_blocks`, see gram-postings.ts) and candidates are verified against the files themselves (or the
 * editor's unsaved buffers).
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
  // FTS5 buffers new terms in a hash of 1 MB by default and writes a segment each time it fills, to be merged
  // again and again; the gram documents of one write batch (up to 8 MB of files) overflow it several times.
  // 4 MB took a fifth off the gram table's insert CPU on the kernel's fs/ (bench/RESULTS.md, issue 16). A
  // setting only: existing indexes keep their rows.
  `
  INSERT INTO file_trigrams (file_trigrams, rank) VALUES ('hashsize', 4194304);
  INSERT INTO file_words (file_words, rank) VALUES ('hashsize', 4194304);
  `,
  // Files left out as binary, with the size and mtime they had then: re-validation passes over them while these
  // stay the same, instead of reading them again at every start (on the kernel tree its 3 binary files started
  // both analysis workers at every `codeloop search` without a daemon, ≈ 0.4 s of CPU; bench/RESULTS.md).
  `
  CREATE TABLE binary_files (path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ms REAL NOT NULL) WITHOUT ROWID;
  `,
  // Definitions the tree-sitter rules missed became symbols: module-level JavaScript/TypeScript constants and
  // variables (`export const LIMIT = 3`: `codeloop search --symbol` found none), class attributes and fields,
  // enum members, C++ prototypes and members, Ruby and PHP constants, Go `var (…)` groups. A stamp no file has
  // makes the next validation analyse those languages' files again, so their symbols are added; every other row stays.
  `
  UPDATE files SET mtime_ms = -1, hash = ''
    WHERE language IN ('javascript', 'javascriptreact', 'typescript', 'typescriptreact', 'python', 'go', 'rust',
      'java', 'csharp', 'cpp', 'ruby', 'php');
  `,
  // The gram postings leave FTS5 for segments of delta-varint blocks (gram-postings.ts): FTS5's pending-term
  // hash was more than half of the indexer's main thread. File ids only grow now (AUTOINCREMENT, a rewritten
  // file gets a new id), which the segments rely on. The old postings cannot be converted without the files'
  // texts, so the index starts empty, as after migration 2: every command that finds it empty indexes.
  `
  DROP TABLE file_trigrams;
  DROP TABLE file_words_vocabulary;
  DROP TABLE file_words;
  CREATE VIRTUAL TABLE file_words USING fts5(
    path, symbols, body, tokenize = 'unicode61', content = '', contentless_delete = 1
  );
  INSERT INTO file_words (file_words, rank) VALUES ('hashsize', 4194304);
  CREATE VIRTUAL TABLE file_words_vocabulary USING fts5vocab(file_words, 'row');
  DELETE FROM symbols;
  DROP TABLE files;
  CREATE TABLE files (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    path TEXT NOT NULL UNIQUE,
    size INTEGER NOT NULL,
    mtime_ms REAL NOT NULL,
    hash TEXT NOT NULL,
    language TEXT
  );
  CREATE TABLE gram_segments (
    id INTEGER PRIMARY KEY,
    postings INTEGER NOT NULL,
    last_file INTEGER NOT NULL
  );
  CREATE TABLE gram_blocks (
    segment INTEGER NOT NULL,
    first_gram INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (segment, first_gram)
  ) WITHOUT ROWID;
  DELETE FROM meta WHERE key = 'lastIndexedAt';
  `,
  // Symbol names by length, then name, with the kind: a prefix query takes the matches of each length shortest
  // first and stops once longer names cannot make the page, scoring them without reading a row (symbol-search.ts;
  // the kernel's \`get\` has 8,863 matches, of which it looks at ≈ 900). It replaces the index on the name alone, at
  // the same size, and answers \`length(name) = length(?) AND name = ?\` lookups. Building it on an existing index of
  // the kernel's 2.9 M symbols took 9 s once.
  `
  DROP INDEX IF EXISTS symbols_by_name;
  CREATE INDEX symbols_by_length ON symbols(length(name), name, kind);
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Versions whose migration empties the index (it cannot convert the old rows), for the user to be told why it rebuilds. */
const EMPTYING_MIGRATIONS = new Set([2, 6]);

/** The meta key holding the schema version an index was emptied from, until the full index that rebuilds it ends. */
export const REBUILT_FROM_META = 'rebuiltFromSchema';

function migrate(db: SqliteDatabase): void {
  if (db.pragma('user_version', { simple: true }) === SCHEMA_VERSION) return; // up to date: no write lock taken
  // Two processes opening one index at once (two CLIs, a CLI and the daemon) must not both migrate (the second
  // failed with "table files already exists"): each step takes the write lock first and reads the version under it.
  let from: number | undefined; // the version this process found first, named when a migration empties the index
  const step = db.transaction(() => {
    const current = db.pragma('user_version', { simple: true }) as number;
    if (current > SCHEMA_VERSION) {
      throw new CodeloopError(
        'corruptIndex',
        `index schema version ${current} is newer than this codeloop (${SCHEMA_VERSION}); upgrade codeloop or delete the index`,
      );
    }
    if (current === SCHEMA_VERSION) return false;
    from ??= current;
    db.exec(MIGRATIONS[current]);
    db.pragma(`user_version = ${current + 1}`);
    if (from > 0 && EMPTYING_MIGRATIONS.has(current + 1)) {
      db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)').run(REBUILT_FROM_META, String(from));
    }
    return true;
  });
  while (step.immediate());
}

/** Opens (creating and migrating) an index database; a damaged file becomes a `corruptIndex` error naming the fix. */
export function openIndexDatabase(file: string): SqliteDatabase {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  let db: SqliteDatabase | undefined;
  try {
    db = new Database(file);
    // The wait for another process's lock first: switching a new file to WAL takes the lock too.
    db.pragma('busy_timeout = 5000');
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
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
