import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeStateHome, makeTree, removeTree } from '../helpers/fixture-tree.js';
import { runCli, runRipgrep, sortedLines } from '../helpers/run-cli.js';

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

  it('reports a corrupt database and rebuilds it on request', () => {
    const tree = makeTree({ 'a.txt': 'hello corrupt world\n' });
    const state = makeStateHome();
    try {
      expect(runCli(['index', '.'], { cwd: tree, stateHome: state }).status).toBe(0);
      const status = JSON.parse(runCli(['status', '--json'], { cwd: tree, stateHome: state }).stdout);
      fs.writeFileSync(status.databasePath, 'this is not a database'.repeat(400));
      for (const suffix of ['-wal', '-shm']) fs.rmSync(status.databasePath + suffix, { force: true });
      const broken = runCli(['search', 'hello'], { cwd: tree, stateHome: state });
      expect(broken.status).toBe(2);
      expect(broken.stderr).toMatch(/cannot be opened .*codeloop index --rebuild/);
      expect(broken.stderr.trim().split('\n')).toHaveLength(1);
      expect(runCli(['index', '--rebuild', '.'], { cwd: tree, stateHome: state }).status).toBe(0);
      expect(runCli(['search', 'hello'], { cwd: tree, stateHome: state }).stdout).toBe('a.txt:1:1:hello corrupt world\n');
    } finally {
      removeTree(tree, state);
    }
  });

  it('re-indexes an index of the previous schema (plain trigrams) when it opens it, even with --no-refresh', () => {
    const tree = makeTree({ 'a.txt': 'struct file_operations old_fops;\n', 'b.txt': 'struct inode *file;\nint operations;\n' });
    const state = makeStateHome();
    try {
      expect(runCli(['index', '.'], { cwd: tree, stateHome: state }).status).toBe(0);
      const status = JSON.parse(runCli(['status', '--json'], { cwd: tree, stateHome: state }).stdout);
      const db = new Database(status.databasePath);
      db.pragma('user_version = 1');
      db.close();
      const result = runCli(['search', '--no-refresh', 'struct file_operations'], { cwd: tree, stateHome: state });
      expect(result.stdout).toBe('a.txt:1:1:struct file_operations old_fops;\n');
      expect(JSON.parse(runCli(['status', '--json'], { cwd: tree, stateHome: state }).stdout).files).toBe(2);
    } finally {
      removeTree(tree, state);
    }
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
