import { describe, expect, it } from 'vitest';
import { scanLineTerms, type TokenCache } from '../../server/index/line-terms.js';

const termsOfLines = (text: string, termIds: Map<string, number>, identifiers: Set<string>, cache?: TokenCache) => {
  const scan = scanLineTerms(text, termIds, identifiers, cache);
  return Array.from({ length: scan.lineCount }, (_, line) => ({
    terms: scan.termIds.slice(scan.lineStarts[line], scan.lineStarts[line + 1]),
    words: scan.lineWords[line],
    identifiers: scan.identifierHits[line],
  }));
};

describe('scanLineTerms', () => {
  it('records the query words of each line, split from identifiers, and the quoted identifiers exactly', () => {
    const lines = termsOfLines('def flush_buffer(buf):\n    Flush_Buffer = 1\n    return buf\n', new Map([['flush', 0], ['buffer', 1]]), new Set(['flush_buffer']));
    expect(lines[0]).toEqual({ terms: [0, 1], words: 5, identifiers: 1 });
    expect(lines[1]).toEqual({ terms: [0, 1], words: 3, identifiers: 0 });
    expect(lines[2]).toEqual({ terms: [], words: 2, identifiers: 0 });
  });

  it('tells apart tokens whose hashes collide, within a file and across files sharing a cache', () => {
    // "Aa" and "BB" have the same 31-based string hash.
    const termIds = new Map([['aa', 0], ['bb', 1]]);
    const cache: TokenCache = new Map();
    expect(termsOfLines('Aa BB\nBB Aa Aa\n', termIds, new Set(['BB']), cache).map((line) => line.terms)).toEqual([[0, 1], [1, 0, 0], []]);
    expect(termsOfLines('BB\nAa\n', termIds, new Set(['BB']), cache)).toEqual([
      { terms: [1], words: 1, identifiers: 1 },
      { terms: [0], words: 1, identifiers: 0 },
      { terms: [], words: 0, identifiers: 0 },
    ]);
  });
});
