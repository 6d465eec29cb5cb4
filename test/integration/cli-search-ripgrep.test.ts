import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeStateHome, makeTree, removeTree } from '../helpers/fixture-tree.js';
import { runCli, runRipgrep, sortedLines } from '../helpers/run-cli.js';

/**
 * `codeloop search` against real `rg --hidden` on trees made here: ignore files of every kind at several depths,
 * rg's regex dialect on CRLF, lone CR and Unicode text, and files in UTF-16, with BOMs, Latin-1 and broken UTF-8.
 * Output is compared byte for byte (read as Latin-1), sorted.
 */
const cleanup: string[] = [];
afterAll(() => removeTree(...cleanup));

interface Search {
  mode: 'literal' | 'regex';
  pattern: string;
  ignoreCase?: boolean;
}

function tree(files: Record<string, string | Buffer>, git: boolean): { root: string; stateHome: string } {
  const root = makeTree(files, { git });
  const stateHome = makeStateHome();
  cleanup.push(root, stateHome);
  return { root, stateHome };
}

function codeloopLines(cwd: string, stateHome: string, search: Search): string[] {
  const args = ['search', ...(search.mode === 'regex' ? ['--regex'] : []), ...(search.ignoreCase ? ['-i'] : []), '--', search.pattern];
  const result = runCli(args, { cwd, stateHome, encoding: 'latin1' });
  expect([0, 1], `codeloop ${args.join(' ')}: ${result.stderr}`).toContain(result.status);
  return sortedLines(result.stdout);
}

function ripgrepLines(cwd: string, search: Search): string[] {
  return runRipgrep([...(search.mode === 'literal' ? ['-F'] : []), ...(search.ignoreCase ? ['-i'] : []), '--', search.pattern], cwd, 'latin1');
}

function expectSameAsRipgrep(cwd: string, stateHome: string, searches: Search[]): void {
  let nonEmpty = 0;
  for (const search of searches) {
    const expected = ripgrepLines(cwd, search);
    if (expected.length) nonEmpty++;
    expect(codeloopLines(cwd, stateHome, search), `${search.mode} ${JSON.stringify(search.pattern)}${search.ignoreCase ? ' -i' : ''}`).toEqual(expected);
  }
  // The cases are meant to find something: a tree where everything is empty would prove nothing.
  expect(nonEmpty).toBeGreaterThan(searches.length / 2);
}

const literal = (pattern: string, ignoreCase = false): Search => ({ mode: 'literal', pattern, ignoreCase });
const regex = (pattern: string, ignoreCase = false): Search => ({ mode: 'regex', pattern, ignoreCase });

describe('ignore files rank as in rg: by kind, then by depth', () => {
  const files = {
    '.gitignore': 'generated/\n*.log\n!rescued.txt\n',
    '.ignore': '!generated/\n!*.gen.ts\n',
    '.rgignore': 'pkg/sub/\n',
    'generated/out.ts': 'needle in generated\n',
    'pkg/.gitignore': '*.gen.ts\nlocal-only.txt\n',
    'pkg/.ignore': '!sub/\n',
    'pkg/api.gen.ts': 'needle in api.gen.ts\n',
    'pkg/local-only.txt': 'needle local only\n',
    'pkg/sub/x.txt': 'needle in rgignored sub\n',
    'docs/.rgignore': '!*.log\n',
    'docs/a.log': 'needle in a log rescued by .rgignore\n',
    'docs/.gitignore': '!b.log\n',
    'docs/b.log': 'needle in b.log rescued by a deeper .gitignore\n',
    'docs/c.log': 'needle in c.log\n',
    'top.log': 'needle in top.log\n',
    'excluded.txt': 'needle excluded by info/exclude\n',
    'rescued.txt': 'needle excluded, then rescued by .gitignore\n',
    'n/.gitignore': '*.txt\n',
    'n/m/.gitignore': '!keep.txt\n',
    'n/a.txt': 'needle n/a\n',
    'n/m/keep.txt': 'needle kept by a deeper negation\n',
    'n/m/other.txt': 'needle other\n',
    'deep/a/b/.ignore': '!*.log\n',
    'deep/a/b/c/d.log': 'needle deep log\n',
    'deep/a/x.log': 'needle shallow log\n',
    '.config/settings.txt': 'needle hidden\n',
    'nested-repo/.gitignore': 'inner.txt\n',
    'nested-repo/inner.txt': 'needle inner\n',
  };

  it('inside a git repository, with .git/info/exclude', () => {
    const { root, stateHome } = tree(files, true);
    fs.writeFileSync(path.join(root, '.git/info/exclude'), 'excluded.txt\nrescued.txt\n');
    expectSameAsRipgrep(root, stateHome, [literal('needle'), regex('needle in \\w+'), literal('NEEDLE', true)]);
    const found = codeloopLines(root, stateHome, literal('needle')).map((line) => line.split(':')[0]);
    expect(found).toEqual(expect.arrayContaining(['generated/out.ts', 'pkg/api.gen.ts', 'docs/a.log', 'docs/b.log', 'rescued.txt', 'n/m/keep.txt']));
  });

  it('outside git (.gitignore unread) and with a nested repository that has its own', () => {
    const { root, stateHome } = tree(files, false);
    fs.mkdirSync(path.join(root, 'nested-repo/.git'));
    expectSameAsRipgrep(root, stateHome, [literal('needle'), regex('^needle')]);
  });

  it('from a folder inside the repository: the ignore files above it apply', () => {
    const { root } = tree(files, true);
    const stateHome = makeStateHome();
    cleanup.push(stateHome);
    expectSameAsRipgrep(path.join(root, 'pkg'), stateHome, [literal('needle'), regex('needle.*')]);
    expectSameAsRipgrep(path.join(root, 'deep/a'), makeStateHome(), [literal('needle'), regex('log$')]);
  });
});

describe('regex dialect as in rg', () => {
  const files: Record<string, string | Buffer> = {
    'crlf.ts': 'function run() {\r\n  return run;\r\n}\r\n',
    'lone-cr.txt': 'a\rb run\rc\n\rstarts with cr\n',
    'unicode.txt': 'Straße STRASSE ſtring String\nKelvin \u212A and k and K\nΣίσυφος ΣΊΣΥΦΟΣ σίσυφοσ\nnaïve café_1 ٣ x\n\u2028sep\u2028line\nnbsp\u00a0here\tTab\nÅngström \u212Bngström\n',
    'words.txt': 'foo_bar foo-bar\nxéx éx\nfoo123 bar_baz\n  indented line\n',
  };
  const searches = [
    regex('^.*run.*$'), regex('\\{.$'), regex('.$'), regex('^b'), regex('b$'), regex('^\\r'), regex('run\\r'),
    regex('(?i)string'), literal('string', true), literal('STRASSE', true), literal('straße', true), literal('k', true),
    regex('(?i)kelvin k'), regex('\\w+'), regex('\\bx\\b'), regex('\\d'), regex('\\s\\S'), regex('[[:upper:]]+'),
    regex('(?i)σίσυφος'), regex('\\p{Greek}+'), regex('[^a-z ]+$'), regex('(?i:s)TRING'), regex('é\\b'), regex('\\bnaïve\\b'),
    regex('caf\\w'), regex('\\x{2028}'), regex('nbsp\\shere'), regex('(?x) nbsp \\s here # spaced'),
    regex('o{2,}'), regex('(foo|bar)+'), regex('[a-c&&b-d]a'), regex('\\p{Lu}', true),
    regex('ångström', true), regex('\\W+'), regex('^\\s+\\w'), regex('(?i)ſ'), regex('[[:alpha:]--[a-z]]+'),
    regex('foo(?-i)_BAR', true), regex('x*'), regex('\\Bar'),
  ];

  it('matches the same lines on CRLF, lone CR and Unicode text', { timeout: 300_000 }, () => {
    const { root, stateHome } = tree(files, false);
    expectSameAsRipgrep(root, stateHome, searches);
  });

  it('refuses what rg refuses, with one line naming the problem', () => {
    const { root, stateHome } = tree(files, false);
    for (const pattern of ['a\\nb', '(?=x)', '(a)\\1', 'x{,2}', 'parse((']) {
      const result = runCli(['search', '--regex', '--', pattern], { cwd: root, stateHome });
      expect(result.status, pattern).toBe(2);
      expect(result.stderr).toMatch(/^codeloop: invalid regex /);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});

describe('encodings as in rg', () => {
  const utf16 = (text: string, bigEndian: boolean) => {
    const body = Buffer.from(text, 'utf16le');
    if (bigEndian) body.swap16();
    return Buffer.concat([Buffer.from(bigEndian ? [0xfe, 0xff] : [0xff, 0xfe]), body]);
  };
  const files: Record<string, string | Buffer> = {
    'script.ps1': utf16('Write-Host "café run"\r\n$x = 1 # run\r\n', false),
    'big-endian.txt': utf16('naïve run\nsecond line\n', true),
    'bom.txt': Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('run at the start\nthen run\n')]),
    'latin1.txt': Buffer.from('caf\xe9 run \xff\xfe\n\xe9t\xe9 run\nplain run\n', 'latin1'),
    'broken.txt': Buffer.concat([
      Buffer.from('naïve '), Buffer.from([0xff, 0xfe]), Buffer.from(' run\n'),
      Buffer.from([0xc3]), Buffer.from(' truncated run\n'),
      Buffer.from([0xed, 0xa0, 0x80]), Buffer.from(' surrogate run\n'),
      Buffer.from([0xc0, 0xaf]), Buffer.from(' overlong run é\n'),
    ]),
    'utf8.txt': 'café run\n',
  };
  const searches = [
    literal('run'), regex('caf.'), literal('café'), literal('é', true), literal('É', true), regex('.'), regex('[^a-z ]'),
    regex('\\W+run'), regex('run$'), regex('^.'), regex('^run'), regex('\\S+ run'), literal('\ufffd'), regex('na.ve'),
  ];

  it('searches UTF-16 and BOM files transcoded, and bytes that are not UTF-8 as they are', { timeout: 300_000 }, () => {
    const { root, stateHome } = tree(files, false);
    expectSameAsRipgrep(root, stateHome, searches);
  });
});

describe('the sparse n-gram filter admits every file rg matches', () => {
  // Common words adjacent in some files and scattered in others, at the start and the very end of files (no final
  // newline), in mixed case, split by non-ASCII characters, in Latin-1 and broken UTF-8, and repeated in one line.
  const files: Record<string, string | Buffer> = {
    'adjacent.c': 'struct file_operations foo_fops = {\n\t.open = foo_open, /* struct file_operations */\n};\nstruct file_operations',
    'scattered.c': 'struct inode *file;\nstatic int operations;\nint file_ops_count; /* file ops */\n',
    'upper.h': 'STRUCT FILE_OPERATIONS X;\n#define FILE_OPERATIONS_MAX 4\n',
    'folds.txt': '\u017Ftruct file_operations (long s)\n\u212Aelvin kelvin KELVIN\nſtruct\n',
    'unicode.txt': 'café_operations = {\nnaïve file_opérations\n😀 operations 😀\nxx😀😀yy\n',
    'latin1.c': Buffer.from('/* caf\xe9 */ struct file_operations l1_fops;\n\xe9t\xe9 file_ops\n', 'latin1'),
    'broken.c': Buffer.concat([Buffer.from([0xff]), Buffer.from('struct file_operations broken;\n'), Buffer.from([0xc3]), Buffer.from('é op\n')]),
    'repeat.txt': 'aaaa aaaaaaa file_operations file_operations\nab ab abab\n',
  };
  const searches = [
    literal('struct file_operations'), literal('file_operations foo'), literal('_operations'), literal('s'), literal('ab'),
    literal('st'), literal('struct file_operations', true), literal('FILE_OPERATIONS', true), literal('ſtruct', true),
    literal('kelvin', true), literal('\u212Aelvin'), literal('café_operations'), literal('é_op'), literal('😀 op'),
    literal('😀😀'), literal('file_opérations'), literal('aaaa'), literal('é op'), literal('l1_fops'),
    regex('(struct|union) file_operations'), regex('file_(operations|ops)\\b'), regex('(?i)struct\\s+file_operations'),
    regex('st(ruct)? file_o'), regex('(ab)+'), regex('[sS]truct file_operations$'), regex('operations|kelvin'),
  ];

  it('for short, Unicode, case-insensitive and alternating patterns', { timeout: 300_000 }, () => {
    const { root, stateHome } = tree(files, false);
    expectSameAsRipgrep(root, stateHome, searches);
  });
});
