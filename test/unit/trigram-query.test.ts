import { describe, expect, it } from 'vitest';
import { compileRipgrepRegex } from '../../server/index/ripgrep-regex.js';
import { literalQuery, regexQuery as queryOfTree, toMatchExpression, type TrigramQuery } from '../../server/index/trigram-query.js';
import { trigramIds } from '../../server/index/trigram-tokens.js';

/** Evaluates a query against one text the way the index would: a literal needs all its trigrams present. */
function admits(query: TrigramQuery, text: string): boolean {
  const present = new Set(trigramIds(text));
  const evaluate = (node: TrigramQuery): boolean => {
    switch (node.type) {
      case 'any': return true;
      case 'literal': return trigramIds(node.text).every((id) => present.has(id));
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
    expect(toMatchExpression(literalQuery('ab'))).toBeNull();
    expect(toMatchExpression(literalQuery('日本語'))).toBeNull();
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

describe('trigram tokens', () => {
  it('fold ASCII case, skip line breaks and count each trigram once', () => {
    expect(trigramIds('abcABC')).toEqual(trigramIds('abcabc'));
    expect(trigramIds('ab\ncd')).toEqual([]);
    expect(trigramIds('aaaa')).toHaveLength(1);
    // The Kelvin sign folds to k under /i, so it must index as k.
    expect(trigramIds('\u212Aey')).toEqual(trigramIds('key'));
    expect(trigramIds('\u017Ftr')).toEqual(trigramIds('str'));
  });
});
