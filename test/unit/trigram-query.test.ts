import { describe, expect, it } from 'vitest';
import { BlockWriter, listInBlock, type IdCursor } from '../../server/index/posting-blocks.js';
import { compileRipgrepRegex } from '../../server/index/ripgrep-regex.js';
import { candidateFileIds, literalQuery, regexQuery as queryOfTree, type TrigramQuery } from '../../server/index/trigram-query.js';
import { indexGramIds, queryGramIds } from '../../server/index/trigram-tokens.js';

/** Evaluates a query against one text the way the index would: a literal needs all its query grams present. */
function admits(query: TrigramQuery, text: string): boolean {
  const present = new Set(indexGramIds(text));
  const evaluate = (node: TrigramQuery): boolean => {
    switch (node.type) {
      case 'any': return true;
      case 'literal': return queryGramIds(node.text).every((id) => present.has(id));
      case 'and': return node.items.every(evaluate);
      case 'or': return node.items.some(evaluate);
    }
  };
  return evaluate(query);
}

const regexQuery = (pattern: string) => queryOfTree(compileRipgrepRegex(pattern, false).tree);

describe('regex → trigram query', () => {
  it('extracts required literals and alternations', () => {
    expect(regexQuery('parse(Input|_input)')).toEqual({
      type: 'and',
      items: [{ type: 'literal', text: 'parse' }, { type: 'or', items: [{ type: 'literal', text: 'Input' }, { type: 'literal', text: '_input' }] }],
    });
    expect(regexQuery('foo\\.bar')).toEqual({ type: 'literal', text: 'foo.bar' });
  });

  it('drops optional parts and never constrains what it cannot read', () => {
    expect(regexQuery('abcd?')).toEqual({ type: 'literal', text: 'abc' });
    expect(regexQuery('(abc)?def')).toEqual({ type: 'literal', text: 'def' });
    expect(regexQuery('ab|cdef')).toEqual({ type: 'any' });
    expect(regexQuery('[abc]+xy')).toEqual({ type: 'any' });
    expect(regexQuery('ab\\bcd')).toEqual({ type: 'literal', text: 'abcd' });
    const lookup = (): IdCursor => ({ size: 0, seek: () => Infinity });
    expect(candidateFileIds(literalQuery('ab'), lookup)).toBeNull();
    expect(candidateFileIds(literalQuery('日本語'), lookup)).toBeNull();
  });

  it('admits every line a regex matches (random lines and patterns)', () => {
    const patterns = [
      'parse(Input|Output)s?', 'foo.*bar', 'a+bc{2,}d', '(x|yz)w+v', '^static\\s+int\\s+\\w+', 'get_?[Ff]ile',
      '(?:struct|union) file_operations', 'colou?r', 'ab(cd)*ef', 'te[sx]t(ing)?', 'x{3}', 'A.B.C', '\\bword\\b',
    ];
    const alphabet = 'abcdefxyzruionputsoFIlegt_ ().\\'.split('');
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const samples = ['parseInputs', 'parseOutput', 'foo and bar', 'abccd', 'abcccd', 'xwwv', 'yzwv', 'static  int main',
      'get_File', 'getfile', 'struct file_operations ops', 'union file_operations', 'color', 'colour', 'abcdcdef', 'abef',
      'texting', 'test', 'xxx', 'AxBxC', 'a word here'];
    for (let i = 0; i < 3000; i++) {
      const length = Math.floor(random() * 30);
      samples.push(Array.from({ length }, () => alphabet[Math.floor(random() * alphabet.length)]).join(''));
    }
    let matched = 0;
    for (const pattern of patterns) {
      for (const caseInsensitive of [false, true]) {
        const { regex } = compileRipgrepRegex(pattern, caseInsensitive);
        const flags = caseInsensitive ? 'i' : '';
        const query = regexQuery(pattern);
        for (const sample of samples) {
          for (const text of [sample, sample.toUpperCase()]) {
            regex.lastIndex = 0;
            if (!regex.test(text)) continue;
            matched++;
            expect(admits(query, text), `${pattern} /${flags} on ${JSON.stringify(text)}`).toBe(true);
          }
        }
      }
    }
    expect(matched).toBeGreaterThan(40);
  });
});

describe('candidate files from posting lists (lazy intersection)', () => {
  it('admit exactly the files whose grams satisfy the query: literals, ANDs and ORs over short and chunked lists', () => {
    let seed = 5;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    // 900 files of words from a small vocabulary: common words' grams are in most files (lists of hundreds of
    // ids, several chunks), rare ones in a few, and some files are left out of every list (ids with gaps).
    const vocabulary = ['file', 'operations', 'struct', 'lock', 'mutex', 'spin', 'tcp', 'connect', 'probe', 'zebra', 'quartz', 'fops'];
    const texts = new Map<number, string>();
    for (let id = 1; texts.size < 900; id += 1 + Math.floor(random() * 3)) {
      const words = Array.from({ length: 1 + Math.floor(random() * 6) }, () => vocabulary[Math.floor(vocabulary.length * random() ** 2)]);
      texts.set(id, words.join(random() < 0.5 ? ' ' : '_'));
    }
    const lists = new Map<number, number[]>();
    for (const [id, text] of texts) for (const gram of indexGramIds(text)) lists.set(gram, [...(lists.get(gram) ?? []), id]);
    expect(Math.max(...[...lists.values()].map((ids) => ids.length))).toBeGreaterThan(300);
    const lookup = (gram: number): IdCursor => {
      const blocks: Buffer[] = [];
      const writer = new BlockWriter((_, data) => blocks.push(data));
      writer.add(gram, lists.get(gram) ?? [0]);
      writer.finish();
      return lists.has(gram) ? listInBlock(blocks[0], gram, gram)! : { size: 0, seek: () => Infinity };
    };
    const queries = [
      'struct file', 'spin_lock', 'zebra quartz', 'tcp_connect', 'file_operations', 'mutex', 'nothing here',
      'parse(struct|mutex)_lock', 'zebra|quartz|fops', '(spin|mutex)_(lock|probe)', 'file.*fops', 'connect (probe|zebra)',
    ];
    for (const pattern of queries) {
      const query = pattern.includes('(') || pattern.includes('|') || pattern.includes('*') ? regexQuery(pattern) : literalQuery(pattern);
      const expected = [...texts].filter(([, text]) => admits(query, text)).map(([id]) => id);
      expect(candidateFileIds(query, lookup), pattern).toEqual(expected);
    }
  });
});

/** Every trigram of a text, as ids (the index stores these and the longer sparse grams). */
function trigramsOf(text: string): number[] {
  const ids = new Set<number>();
  for (const line of text.toLowerCase().split('\n')) {
    for (let i = 0; i + 3 <= line.length; i++) {
      const gram = line.slice(i, i + 3);
      if (/^[\x00-\x7f]{3}$/.test(gram)) ids.add(gram.charCodeAt(0) * 128 * 128 + gram.charCodeAt(1) * 128 + gram.charCodeAt(2));
    }
  }
  return [...ids];
}

describe('sparse n-gram tokens', () => {
  it('fold ASCII case, skip line breaks and non-ASCII, and count each gram once', () => {
    expect(indexGramIds('abcABC')).toEqual(indexGramIds('abcabc'));
    expect(indexGramIds('ab\ncd')).toHaveLength(0);
    expect(indexGramIds('aaaa')).toHaveLength(1);
    expect(indexGramIds('ab\u00e9cd')).toHaveLength(0);
    // The Kelvin sign folds to k under /i, so it must index as k.
    expect(indexGramIds('\u212Aey')).toEqual(indexGramIds('key'));
    expect(indexGramIds('\u017Ftr')).toEqual(indexGramIds('str'));
    expect(queryGramIds('ab')).toEqual([]);
    expect(queryGramIds('日本語')).toEqual([]);
  });

  it('index every trigram, plus longer grams that a query of common code uses instead', () => {
    const text = 'static const struct file_operations foo_fops = {\n\tspin_lock_irqsave(&dev->lock, flags);';
    const indexed = new Set(indexGramIds(text));
    for (const trigram of trigramsOf(text)) expect(indexed.has(trigram)).toBe(true);
    expect(indexed.size).toBeGreaterThan(trigramsOf(text).length);
    const query = queryGramIds('struct file_operations');
    expect(query.length).toBeLessThan(trigramsOf('struct file_operations').length);
    expect(query.some((id) => id >= 128 ** 3)).toBe(true);
  });

  it('list a file\'s distinct grams once each, in first-seen order, the same on every call (short, long, repeated texts)', () => {
    const alphabet = ['e', 't', '_', ' ', 'r', '(', '>', 'x', 'Q', '\t', '\n', 'é', '\u212A', 'k', '~', '\u007f', '0'];
    let seed = 3;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const texts = ['', 'ab', 'abc', '~~~~~', '\u007f~\u007f~\u007f', 'abc\u0000def'];
    // 300 KB of text overflows the scratch buffers, so growing them is exercised too.
    for (const length of [10, 100, 5000, 300_000]) texts.push(Array.from({ length }, () => alphabet[Math.floor(random() * alphabet.length)]).join(''));
    for (const text of texts) {
      const ids = [...indexGramIds(text)];
      // (A NUL, which makes a file binary and never reaches the index, lets a longer gram's id equal a trigram's.)
      if (!text.includes('\u0000')) expect(new Set(ids).size).toBe(ids.length);
      expect([...indexGramIds(text)]).toEqual(ids);
      const held = new Set(ids);
      for (const trigram of trigramsOf(text)) expect(held.has(trigram), JSON.stringify(text.slice(0, 20))).toBe(true);
    }
    expect(indexGramIds('abc')).toEqual(Float64Array.of(97 * 128 ** 2 + 98 * 128 + 99));
    // Five-character grams make the largest ids (35 bits).
    expect([...indexGramIds(texts.at(-1)!)].some((id) => id >= 128 ** 4)).toBe(true);
  });

  it('find every query gram in any text containing the query (random texts, any case)', () => {
    const alphabet = ['e', 't', '_', ' ', 'r', 's', 'o', 'n', 'i', '(', '>', '-', 'x', 'Q', '\t', '\n', 'é', '\u212A', 'k', 'S', '\u017F'];
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const word = (length: number) => Array.from({ length }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
    for (let i = 0; i < 2000; i++) {
      const query = word(1 + Math.floor(random() * 14));
      const text = `${word(Math.floor(random() * 20))}${random() < 0.5 ? query : query.toUpperCase()}${word(Math.floor(random() * 20))}`;
      const indexed = new Set(indexGramIds(text));
      for (const id of queryGramIds(query)) expect(indexed.has(id), `${JSON.stringify(query)} in ${JSON.stringify(text)}`).toBe(true);
    }
  });
});
