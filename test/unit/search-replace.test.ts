import { describe, expect, it } from 'vitest';
import { applyBlock } from '../../server/edits/search-replace.js';

const file = ['function add(a, b) {', '    return a + b;', '}', '', 'function sub(a, b) {', '    return a - b;', '}', ''].join('\n');

describe('search/replace blocks', () => {
  it('applies an exact match', () => {
    const outcome = applyBlock(file, { search: '    return a + b;', replace: '    return Number(a) + Number(b);' });
    expect(outcome).toMatchObject({ ok: true, how: 'exact' });
    expect(outcome.ok && outcome.text.split('\n')[1]).toBe('    return Number(a) + Number(b);');
  });

  it('tolerates different indentation and re-indents the replacement', () => {
    const outcome = applyBlock(file, { search: 'function sub(a, b) {\n  return a - b;\n}\n', replace: 'function sub(a, b) {\n  if (b == null) return a;\n  return a - b;\n}\n' });
    expect(outcome).toMatchObject({ ok: true, how: 'whitespace' });
    expect(outcome.ok && outcome.text).toContain('function sub(a, b) {\n  if (b == null) return a;\n  return a - b;\n}');
  });

  it('reports ambiguity and absence with something to act on', () => {
    expect(applyBlock(file, { search: '(a, b) {', replace: 'x' })).toMatchObject({ ok: false, reason: 'ambiguous', message: expect.stringContaining('2 times') });
    const missing = applyBlock(file, { search: 'function mul(a, b) {\n    return a - b;', replace: 'x' });
    expect(missing).toMatchObject({ ok: false, reason: 'notFound' });
    expect(!missing.ok && missing.message).toContain('closest match at line 5');
    expect(applyBlock(file, { search: '', replace: 'x' })).toMatchObject({ ok: false, message: expect.stringContaining('empty') });
  });
});
