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
    expect(outcome.ok && outcome.text).toContain('function sub(a, b) {\n    if (b == null) return a;\n    return a - b;\n}');
  });

  it('reports ambiguity and absence with something to act on', () => {
    expect(applyBlock(file, { search: '(a, b) {', replace: 'x' })).toMatchObject({ ok: false, reason: 'ambiguous', message: expect.stringContaining('2 times') });
    const missing = applyBlock(file, { search: 'function mul(a, b) {\n    return a - b;', replace: 'x' });
    expect(missing).toMatchObject({ ok: false, reason: 'notFound' });
    expect(!missing.ok && missing.message).toContain('closest match at line 5');
    expect(applyBlock(file, { search: '', replace: 'x' })).toMatchObject({ ok: false, message: expect.stringContaining('empty') });
  });

});

describe('search/replace blocks keep the file\'s indentation unit', () => {
  const python = 'def f(x):\n\tif x:\n\t\ty = 1\n\t\treturn y\n\treturn 0\n';

  it.each([
    ['4 spaces, matched ignoring indentation', '    if x:\n        y = 1\n', '    if x:\n        y = 2\n        if y:\n            y += 1\n'],
    ['2 spaces, matched ignoring indentation', '  if x:\n    y = 1\n', '  if x:\n    y = 2\n    if y:\n      y += 1\n'],
    ['4 spaces, indented one level less than the file', 'if x:\n    y = 1\n', 'if x:\n    y = 2\n    if y:\n        y += 1\n'],
    ['tabs with spaces in the replacement only (exact match)', '\tif x:\n\t\ty = 1\n', '\tif x:\n        y = 2\n        if y:\n            y += 1\n'],
  ])('re-indents a block written with %s into tabs, every level', (_name, search, replace) => {
    const outcome = applyBlock(python, { search, replace });
    expect(outcome.ok).toBe(true);
    expect(outcome.ok && outcome.text).toBe('def f(x):\n\tif x:\n\t\ty = 2\n\t\tif y:\n\t\t\ty += 1\n\t\treturn y\n\treturn 0\n');
  });

  it('re-indents a tab block into a 2-space file and a 2-space block into a 4-space file', () => {
    const twoSpaces = 'class A {\n  run() {\n    go();\n  }\n}\n';
    const tabs = applyBlock(twoSpaces, { search: '\trun() {\n\t\tgo();\n\t}', replace: '\trun() {\n\t\tif (ok) {\n\t\t\tgo();\n\t\t}\n\t}' });
    expect(tabs.ok && tabs.text).toBe('class A {\n  run() {\n    if (ok) {\n      go();\n    }\n  }\n}\n');
    const fourSpaces = 'class A {\n    run() {\n        go();\n    }\n}\n';
    const two = applyBlock(fourSpaces, { search: 'run() {\n  go();\n}', replace: 'run() {\n  if (ok) {\n    go();\n  }\n}' });
    expect(two.ok && two.text).toBe('class A {\n    run() {\n        if (ok) {\n            go();\n        }\n    }\n}\n');
  });

  it('keeps alignment spaces after the tabs (doc comments) and leaves an unindented file alone', () => {
    const doc = 'class A {\n\t/**\n\t * Old.\n\t */\n\trun() {}\n}\n';
    const outcome = applyBlock(doc, { search: '    /**\n     * Old.\n     */', replace: '    /**\n     * New.\n     * Really.\n     */' });
    expect(outcome.ok && outcome.text).toBe('class A {\n\t/**\n\t * New.\n\t * Really.\n\t */\n\trun() {}\n}\n');
    const flat = applyBlock('a = 1\nb = 2\n', { search: 'a = 1', replace: 'a = 3' });
    expect(flat.ok && flat.text).toBe('a = 3\nb = 2\n');
  });
});
