import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeStateHome, makeTree, removeTree } from '../helpers/fixture-tree.js';
import { startLspClient, type TestLspClient } from '../helpers/lsp-client.js';
import { runCli } from '../helpers/run-cli.js';

/**
 * Symbol search ranks the names that start with the query by the index on (length, name, kind), shortest first,
 * and stops once longer names cannot make the page. These trees have more prefix matches than a page, so the
 * answer comes from that walk alone (the fuzzy scan joins in only when the prefix matches do not fill it).
 * Scores: exact 1000, exact but for case 900, prefix 800, prefix but for case 700, less half a point a character,
 * plus the kind's weight (function 5, struct 6, macro 2).
 */
const HEADER = [
  'int get(void) { return 0; }', // exact: 1003.5
  '#define GET 1', // exact but for case: 900.5
  'struct getStructNm { int x; };', // 11 characters, past the lengths that fill the page: 800.5
  '#define Get_upper 1', // prefix but for case: 697.5
  '#define GET_FOO_LONGER_NAME_Z 1', // for `get`, prefix but for case: 691.5
  ...Array.from({ length: 130 }, (_, i) => `#define get_${i} ${i}`), // 799.5 (get_0…9), 799 (get_10…99), 798.5
].join('\n');
const SCRIPT = 'export function 𝑥get() {}\nexport function 𝑥() {}\n';
const TREE = { 'a.h': `${HEADER}\n`, 'b.ts': SCRIPT };

describe('workspace/symbol ranks many prefix matches (LSP over stdio)', () => {
  let root: string;
  let state: string;
  let client: TestLspClient;
  beforeAll(async () => {
    root = makeTree(TREE);
    state = makeStateHome();
    client = startLspClient(['--standalone'], { ...process.env, OPENAI_API_KEY: '', XDG_STATE_HOME: state, XDG_CONFIG_HOME: path.join(state, 'config') });
    await client.initialize(root, 'symbol-ranking-test');
    await client.waitForNotification('codeloop/indexUpdate', undefined, 60_000);
  }, 90_000);
  afterAll(async () => {
    await client.close();
    removeTree(root, state);
  });
  const names = async (query: string) => (await client.connection.sendRequest<{ name: string }[]>('workspace/symbol', { query })).map((symbol) => symbol.name);

  it('answers a full page: exact, exact but for case, a longer name of a weightier kind, then the shortest, ties in file order', async () => {
    const tiedAtTheCut = Array.from({ length: 87 }, (_, i) => `get_${i + 10}`); // get_10 … get_96 of the 90 tied at 799
    expect(await names('get')).toEqual(['get', 'GET', 'getStructNm', ...Array.from({ length: 10 }, (_, i) => `get_${i}`), ...tiedAtTheCut]);
  });

  it('puts the names written as typed first, then fills the page with the shortest names that match but for case', async () => {
    expect((await names('Get')).slice(0, 6)).toEqual(['get', 'GET', 'Get_upper', 'getStructNm', 'get_0', 'get_1']);
    expect((await names('GET_')).slice(0, 4)).toEqual(['GET_FOO_LONGER_NAME_Z', 'get_0', 'get_1', 'get_2']);
  });

  it('finds a name by a query ending in an upper-case letter, and by a character outside the Basic Multilingual Plane', async () => {
    expect((await names('GET_FOO_LONGER_NAME_Z'))[0]).toBe('GET_FOO_LONGER_NAME_Z');
    expect(await names('𝑥')).toEqual(['𝑥', '𝑥get']);
    expect(await names('\u{10FFFF}')).toEqual([]);
  });
});

describe('codeloop search --symbol ranks many prefix matches', () => {
  let root: string;
  let state: string;
  beforeAll(() => {
    root = makeTree(TREE);
    state = makeStateHome();
    expect(runCli(['index', '.'], { cwd: root, stateHome: state }).status).toBe(0);
  });
  afterAll(() => removeTree(root, state));
  const search = (...args: string[]) => runCli(['search', '--no-refresh', '--symbol', ...args], { cwd: root, stateHome: state });

  it('prints the best names with their kinds and places', () => {
    expect(search('--limit', '4', 'get').stdout).toBe('a.h:1:5:function get\na.h:2:9:macro GET\na.h:3:8:struct getStructNm\na.h:6:9:macro get_0\n');
    expect(search('--limit', '3', 'GET_').stdout).toBe('a.h:5:9:macro GET_FOO_LONGER_NAME_Z\na.h:6:9:macro get_0\na.h:7:9:macro get_1\n');
  });
});

describe('codeloop search --symbol past the fuzzy scan\'s reach', () => {
  // More than the fuzzy scan reads (5,000 rows) match the query only as a subsequence and come first in the
  // table, so the exact name written last is found only by its prefix, never by that scan.
  const many = (line: (i: number) => string) => Array.from({ length: 6000 }, (_, i) => line(i)).join('\n');
  let root: string;
  let state: string;
  beforeAll(() => {
    root = makeTree({
      'a.h': `${many((i) => `#define atZ${i} ${i}`)}\n#define tZ 1\n`,
      'b.ts': `${many((i) => `export function a𝑥${i}() {}`)}\nexport function 𝑥() {}\n`,
    });
    state = makeStateHome();
    expect(runCli(['index', '.'], { cwd: root, stateHome: state }).status).toBe(0);
  }, 120_000);
  afterAll(() => removeTree(root, state));
  const search = (query: string) => runCli(['search', '--no-refresh', '--symbol', '--limit', '1', query], { cwd: root, stateHome: state }).stdout;

  it('finds a name by a query ending in an upper-case letter', () => {
    expect(search('tZ')).toBe('a.h:6001:9:macro tZ\n');
  });

  it('finds a name by a query of a character outside the Basic Multilingual Plane', () => {
    expect(search('𝑥')).toBe('b.ts:6001:17:function 𝑥\n');
  });
});
