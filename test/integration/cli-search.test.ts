import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeIndexDatabase, SCHEMA_VERSION } from '../../server/index/index-database.js';
import { makeStateHome, makeTree, removeTree } from '../helpers/fixture-tree.js';
import { runCli, runRipgrep, sortedLines, type CliResult } from '../helpers/run-cli.js';

const FILES: Record<string, string | Buffer> = {
  '.gitignore': 'build/\n*.log\n!keep.log\n',
  'src/.gitignore': 'generated.ts\n',
  'src/parser.ts': [
    'export function parseInput(text: string): string[] {',
    '  // TODO handle empty input',
    '  return text.split(",").map((part) => part.trim());',
    '}',
    '',
    'export class TokenStream {',
    '  constructor(private readonly source: string) {}',
    '  nextToken(): string | null { return this.source ? parseInput(this.source)[0] : null; }',
    '}',
  ].join('\n'),
  'src/generated.ts': 'export const parseInputGenerated = 1;\n',
  'src/unicode.txt': 'naïve café — Ünïcödé parseInput 日本語のテキスト\nsecond line ÜNÏCÖDÉ\n',
  'src/crlf.txt': 'windows line\r\nparseInput here\r\n',
  'src/no-newline.txt': 'parseInput at the end',
  'lib/util.py': 'def parse_input(text):\n    return text.split(",")\n\nclass Tokenizer:\n    def next_token(self):\n        return None\n',
  'build/out.js': 'parseInput(1)\n',
  'debug.log': 'parseInput log\n',
  'keep.log': 'parseInput kept\n',
  '.hidden/config.txt': 'parseInput hidden\n',
  '.ignore': 'secret.txt\n',
  'secret.txt': 'parseInput secret\n',
  'binary.bin': Buffer.from([0x70, 0x61, 0x72, 0x73, 0x65, 0x00, 0x01, 0x02]),
  'huge.txt': `${'x'.repeat(1024 * 1024)}\nparseInput in a huge file\n`,
  'empty.txt': '',
  'ab.txt': 'a\nab\nabc\n',
};

let root: string;
let stateHome: string;

beforeAll(() => {
  root = makeTree(FILES, { git: true });
  stateHome = makeStateHome();
  const indexed = runCli(['index', '.'], { cwd: root, stateHome });
  expect(indexed.status, indexed.stderr).toBe(0);
});

afterAll(() => removeTree(root, stateHome));

function search(args: string[]): string[] {
  const result = runCli(['search', '--no-refresh', ...args], { cwd: root, stateHome });
  expect([0, 1], result.stderr).toContain(result.status);
  return sortedLines(result.stdout);
}

describe('codeloop index', () => {
  it('reports what it indexed and what it skipped', () => {
    const result = runCli(['index', '--json', '.'], { cwd: root, stateHome });
    const summary = JSON.parse(result.stdout);
    expect(summary.skippedTooLarge).toBe(1);
    expect(summary.tooLargeExamples).toEqual(['huge.txt']);
    expect(summary.skippedBinary).toBe(1);
    expect(summary.unchanged).toBe(summary.files);
  });

  it('names the files it left out for size, and the setting that lets them in', () => {
    const result = runCli(['index', '.'], { cwd: root, stateHome });
    expect(result.stdout).toContain('note: Not indexed, being over index.maxFileSize (1.0 MB): 1 file (huge.txt). Search and the agent do not see it; raise index.maxFileSize in the config to include it.');
  });
});

describe('codeloop search equals ripgrep', () => {
  const cases: [string, string[], string[]][] = [
    ['literal', ['parseInput'], ['parseInput']],
    ['literal, case-insensitive', ['-i', 'PARSEINPUT'], ['-i', '-F', 'PARSEINPUT']],
    ['unicode literal, case-insensitive', ['-i', 'ünïcödé'], ['-i', '-F', 'ünïcödé']],
    ['short pattern', ['ab'], ['-F', 'ab']],
    ['one character', ['a'], ['-F', 'a']],
    ['regex with alternation', ['--regex', 'parse(Input|_input)'], ['parse(Input|_input)']],
    ['regex with classes and anchors', ['--regex', '^\\s*def \\w+'], ['^\\s*def \\w+']],
    ['regex anchored at line end', ['--regex', 'end$'], ['end$']],
    ['regex, case-insensitive', ['--regex', '-i', 'token(stream|izer)'], ['-i', 'token(stream|izer)']],
    ['regex matching empty', ['--regex', 'x*'], ['x*']],
  ];
  for (const [name, ours, theirs] of cases) {
    it(name, () => {
      const expected = runRipgrep(['--max-filesize', '1M', ...theirs], root);
      expect(expected.length).toBeGreaterThan(0);
      expect(search(ours)).toEqual(expected);
    });
  }

  it('honours nested .gitignore, negations, .ignore, hidden files and skips binaries and huge files', () => {
    const files = new Set(search(['parseInput']).map((line) => line.split(':')[0]));
    expect(files).toContain('keep.log');
    expect(files).toContain('.hidden/config.txt');
    for (const ignored of ['build/out.js', 'debug.log', 'src/generated.ts', 'secret.txt', 'binary.bin', 'huge.txt']) {
      expect(files).not.toContain(ignored);
    }
  });

  it('prints byte columns like rg for non-ASCII lines', () => {
    const line = search(['parseInput']).find((entry) => entry.startsWith('src/unicode.txt'));
    expect(line).toBe(`src/unicode.txt:1:${Buffer.byteLength('naïve café — Ünïcödé ') + 1}:${FILES['src/unicode.txt'].toString().split('\n')[0]}`);
  });

  it('caps results with --limit and answers JSON with --json', () => {
    expect(search(['--limit', '2', 'parseInput'])).toHaveLength(2);
    const result = runCli(['search', '--no-refresh', '--json', 'TokenStream'], { cwd: root, stateHome });
    const parsed = JSON.parse(result.stdout);
    expect(parsed.mode).toBe('literal');
    expect(parsed.matches[0]).toMatchObject({ path: 'src/parser.ts', line: 6, column: 14, character: 13 });
  });

  it('exits 1 with no output when nothing matches, as rg does', () => {
    const result = runCli(['search', '--no-refresh', 'no such text anywhere'], { cwd: root, stateHome });
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
  });
});

describe('codeloop search re-validates the tree first (no daemon)', () => {
  const BINARY = Buffer.from([0x73, 0x74, 0x61, 0x72, 0x74, 0x00, 0x01, 0x02]);
  let tree: string;
  let state: string;
  /** Writes a file with an mtime of its own: a rewrite within the clock's granularity must not look unchanged. */
  let clock = Date.now() / 1000 - 3600;
  const write = (relative: string, content: string | Buffer) => {
    const file = path.join(tree, relative);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
    clock += 10;
    fs.utimesSync(file, clock, clock);
  };
  /** `codeloop search` (refreshing) prints what rg prints now. */
  const expectSameAsRg = (pattern: string) => {
    const result = runCli(['search', pattern], { cwd: tree, stateHome: state });
    expect([0, 1], result.stderr).toContain(result.status);
    expect(sortedLines(result.stdout)).toEqual(runRipgrep(['--max-filesize', '1M', '-F', pattern], tree));
    return sortedLines(result.stdout).map((line) => line.split(':')[0]);
  };

  beforeAll(() => {
    tree = makeTree({ 'a.txt': 'startServer in text\n' }, { git: true });
    state = makeStateHome();
    write('data/blob.bin', BINARY);
    write('text-then-binary.txt', 'startServer was text\n');
    expect(JSON.parse(runCli(['index', '--json', '.'], { cwd: tree, stateHome: state }).stdout)).toMatchObject({ files: 2, skippedBinary: 1 });
  });

  afterAll(() => removeTree(tree, state));

  it('finds a binary file that became text, of the same size', () => {
    expect(expectSameAsRg('startServer')).toEqual(['a.txt', 'text-then-binary.txt']);
    write('data/blob.bin', 'startSer'.padEnd(BINARY.length, 'x'));
    expect(expectSameAsRg('startSer')).toEqual(['a.txt', 'data/blob.bin', 'text-then-binary.txt']);
  });

  it('drops a text file that became binary, and finds it again when it is text again', () => {
    write('text-then-binary.txt', Buffer.concat([Buffer.from('startServer\n'), BINARY]));
    expect(expectSameAsRg('startServer')).not.toContain('text-then-binary.txt');
    expect(JSON.parse(runCli(['index', '--json', '.'], { cwd: tree, stateHome: state }).stdout).skippedBinary).toBe(1);
    write('text-then-binary.txt', 'startServer is text again\n');
    expect(expectSameAsRg('startServer')).toContain('text-then-binary.txt');
  });

  it('reads a binary file again when it changes: still binary, then text', () => {
    write('data/other.bin', BINARY);
    expect(expectSameAsRg('startServer')).not.toContain('data/other.bin');
    write('data/other.bin', Buffer.concat([BINARY, Buffer.from('startServer\n')]));
    expect(expectSameAsRg('startServer')).not.toContain('data/other.bin');
    write('data/other.bin', 'now startServer is text\n');
    expect(expectSameAsRg('startServer')).toContain('data/other.bin');
  });

  it('sees an edit (also one that keeps the size), an add, a delete, a rename and a folder moved, deep in the tree', () => {
    write('deep/a/b/edited.txt', 'startServer one\n');
    write('deep/a/b/same-size.txt', 'startServer AAAA\n');
    write('deep/a/b/deleted.txt', 'startServer deleted\n');
    write('deep/a/b/renamed.txt', 'startServer renamed\n');
    write('deep/moved/inner/x.txt', 'startServer moved\n');
    expectSameAsRg('startServer');
    write('deep/a/b/edited.txt', 'startServer one, and two\n');
    write('deep/a/b/same-size.txt', 'startServer BBBB\n');
    write('deep/a/c/added.txt', 'startServer added\n');
    fs.rmSync(path.join(tree, 'deep/a/b/deleted.txt'));
    fs.renameSync(path.join(tree, 'deep/a/b/renamed.txt'), path.join(tree, 'deep/renamed-to.txt'));
    fs.renameSync(path.join(tree, 'deep/moved'), path.join(tree, 'deep/a/moved-here'));
    const found = expectSameAsRg('startServer');
    expect(found).toEqual(expect.arrayContaining(['deep/a/c/added.txt', 'deep/renamed-to.txt', 'deep/a/moved-here/inner/x.txt']));
    expect(found).not.toContain('deep/a/b/deleted.txt');
    expect(found).not.toContain('deep/a/b/renamed.txt');
    expect(expectSameAsRg('startServer BBBB')).toEqual(['deep/a/b/same-size.txt']);
    expect(expectSameAsRg('one, and two')).toEqual(['deep/a/b/edited.txt']);
    // An ignore file appearing in a folder (and going away) changes what the walk keeps below it.
    write('deep/a/.ignore', 'moved-here/\n');
    expect(expectSameAsRg('startServer')).not.toContain('deep/a/moved-here/inner/x.txt');
    fs.rmSync(path.join(tree, 'deep/a/.ignore'));
    expect(expectSameAsRg('startServer')).toContain('deep/a/moved-here/inner/x.txt');
  });

  it('forgets a binary file that went away, grew over the size limit, or became ignored, and finds what replaces it', () => {
    write('gone.bin', BINARY);
    write('grows.bin', BINARY);
    write('ignored.bin', BINARY);
    expectSameAsRg('startServer');
    fs.rmSync(path.join(tree, 'gone.bin'));
    write('grows.bin', Buffer.concat([BINARY, Buffer.alloc(1024 * 1024 + 1, 0x61)]));
    write('.gitignore', 'ignored.bin\n');
    const summary = JSON.parse(runCli(['index', '--json', '.'], { cwd: tree, stateHome: state }).stdout);
    expect(summary).toMatchObject({ skippedBinary: 0, skippedTooLarge: 1 });
    write('gone.bin', 'startServer where gone.bin was\n');
    write('grows.bin', 'startServer, small again\n');
    write('.gitignore', '');
    write('ignored.bin', 'startServer no longer ignored\n');
    expect(expectSameAsRg('startServer')).toEqual(expect.arrayContaining(['gone.bin', 'grows.bin', 'ignored.bin']));
  });
});

describe('symbol and text search', () => {
  it('finds definitions by prefix and fuzzily, best first', () => {
    expect(runCli(['search', '--no-refresh', '--symbol', 'parseInput'], { cwd: root, stateHome }).stdout.split('\n')[0])
      .toBe('src/parser.ts:1:17:function parseInput');
    const fuzzy = runCli(['search', '--no-refresh', '--symbol', 'tkstr'], { cwd: root, stateHome }).stdout.split('\n');
    expect(fuzzy[0]).toBe('src/parser.ts:6:14:class TokenStream');
    const methods = runCli(['search', '--no-refresh', '--symbol', 'next'], { cwd: root, stateHome }).stdout;
    expect(methods).toContain('method TokenStream.nextToken');
    expect(methods).toContain('function Tokenizer.next_token');
  });

  it('ranks a long name of a weightier kind above the shorter names that share its prefix, past the first ones by name', () => {
    // 30 macros `getN` (name score 798 and 797.5, kind weight 2) and a struct 10 characters long (795, weight 6: 801).
    const macros = Array.from({ length: 30 }, (_, i) => `#define get${i} ${i}`).join('\n');
    const tree = makeTree({ 'a.h': `${macros}\nstruct getLongNam { int x; };\nstruct getLongerName2 { int y; };\n` });
    const state = makeStateHome();
    try {
      const result = runCli(['search', '--symbol', '--limit', '3', 'get'], { cwd: tree, stateHome: state });
      expect(result.stdout).toBe('a.h:31:8:struct getLongNam\na.h:1:9:macro get0\na.h:2:9:macro get1\n');
    } finally {
      removeTree(tree, state);
    }
  });

  it('finds module-level constants and variables of JavaScript and TypeScript, not locals, imports or destructuring', () => {
    const tree = makeTree({
      'src/limits.ts': "import os from 'node:os';\nexport const RETRY_LIMIT = 3;\nexport let retryCount = 0, retryPeak = 0;\nfunction reset() { const retryLocal = 1; }\n",
      'lib/config.js': "const retryModule = require('./retry');\nconst { retryShape } = require('./shape');\nvar retryDefaults = { times: 3 };\nconst retryWith = () => retryDefaults;\nif (retryDefaults) { const retryBlock = 1; }\n",
      'ui/app.tsx': 'export const RETRY_LABEL = <b>retry</b>;\n',
    });
    const state = makeStateHome();
    try {
      expect(runCli(['search', '--symbol', '--limit', '20', 'retry'], { cwd: tree, stateHome: state }).stdout.split('\n').filter(Boolean).sort()).toEqual([
        'lib/config.js:3:5:variable retryDefaults',
        'lib/config.js:4:7:function retryWith',
        'src/limits.ts:2:14:constant RETRY_LIMIT',
        'src/limits.ts:3:12:variable retryCount',
        'src/limits.ts:3:28:variable retryPeak',
        'ui/app.tsx:1:14:constant RETRY_LABEL',
      ]);
    } finally {
      removeTree(tree, state);
    }
  });

  it('ranks files for a question', () => {
    const result = runCli(['search', '--no-refresh', '--text', 'the tokenizer returns no next token'], { cwd: root, stateHome });
    expect(result.stdout.split('\n')[0]).toMatch(/^lib\/util\.py:\d+-\d+:/);
  });
});

describe('bad input', () => {
  it('rejects an invalid regex with one clear line', () => {
    const result = runCli(['search', '--no-refresh', '--regex', 'parse(('], { cwd: root, stateHome });
    expect(result.status).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^codeloop: invalid regex "parse\(\("/);
  });

  it('rejects a directory that does not exist', () => {
    const result = runCli(['index', path.join(root, 'missing')], { cwd: root, stateHome });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/^codeloop: cannot index .*missing: no such directory\n$/);
  });

  /**
   * A tree of `files` indexed by `codeloop index` with its own state folder: `check` gets the CLI in that tree and
   * the index's status as `codeloop status --json` printed it; both folders are removed afterwards.
   */
  function withIndexedTree(files: Record<string, string>, check: (cli: (...args: string[]) => CliResult, status: { databasePath: string; lastIndexedAt: string }) => void): void {
    const tree = makeTree(files);
    const state = makeStateHome();
    const cli = (...args: string[]) => runCli(args, { cwd: tree, stateHome: state });
    try {
      expect(cli('index', '.').status).toBe(0);
      check(cli, JSON.parse(cli('status', '--json').stdout));
    } finally {
      removeTree(tree, state);
    }
  }
  const TWO_FILES = { 'a.txt': 'struct file_operations old_fops;\n', 'b.txt': 'struct inode *file;\nint operations;\n' };
  /** Version 7 replaced the symbols' index on the name by one on (length, name, kind). */
  const UNDO_VERSION_7 = 'DROP INDEX symbols_by_length; CREATE INDEX symbols_by_name ON symbols(name);';

  it('reports a corrupt database and rebuilds it on request', () => {
    withIndexedTree({ 'a.txt': 'hello corrupt world\n' }, (cli, status) => {
      fs.writeFileSync(status.databasePath, 'this is not a database'.repeat(400));
      for (const suffix of ['-wal', '-shm']) fs.rmSync(status.databasePath + suffix, { force: true });
      const broken = cli('search', 'hello');
      expect(broken.status).toBe(2);
      expect(broken.stderr).toMatch(/cannot be opened .*codeloop index --rebuild/);
      expect(broken.stderr.trim().split('\n')).toHaveLength(1);
      expect(cli('index', '--rebuild', '.').status).toBe(0);
      expect(cli('search', 'hello').stdout).toBe('a.txt:1:1:hello corrupt world\n');
    });
  });

  // Version 1 held plain trigrams, 3 sparse n-grams, both as FTS5 tokens in the same tables; 4 added binary_files.
  it.each([1, 3, 4, 5])('rebuilds an index of an earlier schema (version %i, grams in FTS5) when it opens it, even with --no-refresh', (version) => {
    withIndexedTree(TWO_FILES, (cli, { databasePath }) => {
      removeIndexDatabase(databasePath);
      // What versions 1–5 wrote: the grams as FTS5 tokens, one file indexed (b.txt) whose row says it holds a.txt's
      // content, and no postings tables: answers from these rows would be wrong.
      const old = new Database(databasePath);
      old.exec(`
        CREATE TABLE files (id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE, size INTEGER NOT NULL, mtime_ms REAL NOT NULL, hash TEXT NOT NULL, language TEXT);
        CREATE VIRTUAL TABLE file_trigrams USING fts5(trigrams, tokenize = 'ascii', content = '', contentless_delete = 1, detail = 'none');
        CREATE VIRTUAL TABLE file_words USING fts5(path, symbols, body, tokenize = 'unicode61', content = '', contentless_delete = 1);
        CREATE VIRTUAL TABLE file_words_vocabulary USING fts5vocab(file_words, 'row');
        CREATE TABLE symbols (file_id INTEGER NOT NULL, name TEXT NOT NULL COLLATE NOCASE, kind TEXT NOT NULL, container TEXT,
          start_line INTEGER NOT NULL, start_character INTEGER NOT NULL, end_line INTEGER NOT NULL, end_character INTEGER NOT NULL);
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        INSERT INTO files VALUES (1, 'b.txt', 1, 1, 'stale', NULL);
        INSERT INTO file_trigrams (rowid, trigrams) VALUES (1, 't1 t2');
        INSERT INTO meta VALUES ('lastIndexedAt', '2026-11-30T00:00:00.000Z');
      `);
      if (version >= 4) old.exec('CREATE TABLE binary_files (path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ms REAL NOT NULL) WITHOUT ROWID');
      old.pragma(`user_version = ${version}`);
      old.close();
      const result = cli('search', '--no-refresh', 'struct file_operations');
      expect(result.stdout).toBe('a.txt:1:1:struct file_operations old_fops;\n');
      const { root } = JSON.parse(cli('status', '--json').stdout);
      expect(result.stderr).toContain(`codeloop: the index was written by an older codeloop (schema v${version}, now v${SCHEMA_VERSION}) and cannot be converted; indexing ${root} again`);
      // Said once: the next command finds a complete index.
      expect(cli('search', '--no-refresh', 'old_fops').stderr).not.toContain('older codeloop');
      const status = JSON.parse(cli('status', '--json').stdout);
      expect(status.files).toBe(2);
      expect(status.schemaVersion).toBe(SCHEMA_VERSION);
      expect(cli('search', '--no-refresh', 'int operations').stdout).toBe('b.txt:2:1:int operations;\n');
    });
  });

  it('migrates an index of version 6 in place: symbol search answers the same from the index by length', () => {
    const header = ['#define get_value 1', 'struct get_ops { int x; };', 'int get(void) { return 0; }', '#define GET_LIMIT 2'].join('\n');
    withIndexedTree({ 'a.h': `${header}\n`, ...TWO_FILES }, (cli, before) => {
      const answer = (query: string) => cli('search', '--no-refresh', '--symbol', query).stdout;
      const expected = ['get', 'GET_', 'ops', 'gv'].map(answer);
      expect(expected[0]).toBe('a.h:3:5:function get\na.h:2:8:struct get_ops\na.h:1:9:macro get_value\na.h:4:9:macro GET_LIMIT\n');
      const db = new Database(before.databasePath);
      db.exec(UNDO_VERSION_7);
      db.pragma('user_version = 6');
      db.close();
      expect(['get', 'GET_', 'ops', 'gv'].map(answer)).toEqual(expected);
      const after = JSON.parse(cli('status', '--json').stdout);
      expect(after.lastIndexedAt).toBe(before.lastIndexedAt);
      const migrated = new Database(after.databasePath, { readonly: true });
      expect(migrated.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      expect(migrated.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'symbols' ORDER BY name").pluck().all())
        .toEqual(['symbols_by_file', 'symbols_by_length']);
      migrated.close();
    });
  });

  it('rejects unknown flags and conflicting modes with usage', () => {
    expect(runCli(['search', '--regex', '--symbol', 'x'], { cwd: root, stateHome }).stderr).toMatch(/choose one of/);
    expect(runCli(['search', '--frobnicate', 'x'], { cwd: root, stateHome }).status).toBe(2);
    expect(runCli(['search', '--limit', '0', 'x'], { cwd: root, stateHome }).stderr).toMatch(/--limit takes a whole number from 1 to 100000, got "0"/);
  });
});

describe('codeloop status', () => {
  it('shows files, symbols and a healthy database', () => {
    const result = runCli(['status', '--json', '--check'], { cwd: root, stateHome });
    const status = JSON.parse(result.stdout);
    expect(status.root).toBe(fs.realpathSync(root));
    expect(status.files).toBeGreaterThan(5);
    expect(status.symbols).toBeGreaterThan(5);
    expect(status.integrity).toBe('ok');
  });
});
