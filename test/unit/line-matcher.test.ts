import { describe, expect, it } from 'vitest';
import { literalMatcher, regexMatcher } from '../../server/index/line-matcher.js';

const lines = (hits: { line: number; character: number }[]) => hits.map((hit) => [hit.line, hit.character]);

describe('line matcher', () => {
  it('reports each matching line once, at its first match', () => {
    expect(lines(literalMatcher('ab', false).matchLines('ab ab\nxx\nxab', 100))).toEqual([[1, 0], [3, 1]]);
  });

  it('treats an empty file and a final newline like ripgrep', () => {
    expect(regexMatcher('x*', false).matchLines('', 100)).toEqual([]);
    expect(lines(regexMatcher('x*', false).matchLines('a\nb\n', 100))).toEqual([[1, 0], [2, 0]]);
    expect(lines(regexMatcher('^$', false).matchLines('a\n\nb', 100))).toEqual([[2, 0]]);
  });

  it('never matches across a line break', () => {
    expect(regexMatcher('a\\sb', false).matchLines('a\nb', 100)).toEqual([]);
    expect(lines(regexMatcher('a[^x]b', false).matchLines('a\nb\naxb\na-b', 100))).toEqual([[4, 0]]);
  });

  it('keeps \\r in lines, so $ does not match before it (as rg without --crlf)', () => {
    expect(regexMatcher('line$', false).matchLines('line\r\n', 100)).toEqual([]);
  });

  it('folds case when asked, including non-ASCII', () => {
    expect(lines(literalMatcher('ÜBER', true).matchLines('x\nüber', 100))).toEqual([[2, 0]]);
    expect(literalMatcher('a.b', true).matchLines('axb', 100)).toEqual([]);
  });

  it('reads rg\'s dialect: . takes \\r, anchors split at \\n only, Unicode classes, scoped flags', () => {
    expect(lines(regexMatcher('^.*run.*$', false).matchLines('x\r\nrun it\r\n', 100))).toEqual([[2, 0]]);
    expect(lines(regexMatcher('\\{.$', false).matchLines('f() {\r\n}', 100))).toEqual([[1, 4]]);
    expect(lines(regexMatcher('^b', false).matchLines('a\rb\u2028b', 100))).toEqual([]);
    expect(lines(regexMatcher('\\w+é', false).matchLines('--café', 100))).toEqual([[1, 2]]);
    expect(lines(regexMatcher('\\bnaïve\\b', false).matchLines('xnaïve\nnaïve!', 100))).toEqual([[2, 0]]);
    expect(lines(regexMatcher('(?i)K(?-i)ey', false).matchLines('kEY\n\u212Aey', 100))).toEqual([[2, 0]]);
    expect(lines(regexMatcher('[[:alpha:]&&[^a-x]]z', false).matchLines('az\nyz', 100))).toEqual([[2, 0]]);
    expect(lines(regexMatcher('\\p{greek}', false).matchLines('abc\nαβγ', 100))).toEqual([[2, 0]]);
    expect(lines(regexMatcher('a**', false).matchLines('b', 100))).toEqual([[1, 0]]);
    expect(lines(regexMatcher('(?x) a b # comment', false).matchLines('ab', 100))).toEqual([[1, 0]]);
  });

  it('never matches a byte that is not UTF-8 (decoded as a lone surrogate)', () => {
    expect(regexMatcher('caf.', false).matchLines('caf\uDCE9', 100)).toEqual([]);
    expect(regexMatcher('caf[^x]', false).matchLines('caf\uDCE9', 100)).toEqual([]);
    expect(regexMatcher('caf\\W', false).matchLines('caf\uDCE9', 100)).toEqual([]);
  });

  it('refuses what rg refuses, naming the reason', () => {
    expect(() => regexMatcher('a\\nb', false)).toThrow(/^invalid regex "a\\\\nb": the literal "\\n" is not allowed/);
    expect(() => regexMatcher('(?=x)', false)).toThrow(/look-around/);
    expect(() => regexMatcher('(a)\\1', false)).toThrow(/back-references/);
    expect(() => regexMatcher('\\/', false)).toThrow(/unrecognized escape/);
    expect(() => regexMatcher('x{,2}', false)).toThrow(/counted repetition/);
    expect(() => regexMatcher('\\p{NoSuchThing}', false)).toThrow(/unknown Unicode property/);
  });

  it('stops at the limit', () => {
    expect(literalMatcher('a', false).matchLines('a\na\na\na', 2)).toHaveLength(2);
  });

  it('rejects invalid regexes and multi-line literals with a clear message', () => {
    expect(() => regexMatcher('(', false)).toThrow(/invalid regex "\("/);
    expect(() => literalMatcher('a\nb', false)).toThrow(/line break/);
  });
});
