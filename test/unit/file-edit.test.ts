import { describe, expect, it } from 'vitest';
import { applyFileEdit, type FileEdit } from '../../server/edits/file-edit.js';
import { keepLineEndings } from '../../server/edits/line-endings.js';

const crlf = 'using System;\r\n\r\nclass A {\r\n    int X() {\r\n        return 1;\r\n    }\r\n}\r\n';

function edited(current: string, edit: FileEdit): string | null {
  const outcome = applyFileEdit(current, edit);
  if (!outcome.ok) throw new Error(outcome.message);
  return outcome.text;
}

describe('edits keep the file\'s line endings', () => {
  it.each<[string, FileEdit]>([
    ['a search/replace block written with \\n', { kind: 'blocks', blocks: [{ search: '        return 1;\n', replace: '        var y = 2;\n        return y;\n' }] }],
    ['a block matched ignoring indentation', { kind: 'blocks', blocks: [{ search: '  return 1;\n}', replace: '  var y = 2;\n  return y;\n}' }] }],
    ['a block written with \\r\\n', { kind: 'blocks', blocks: [{ search: '        return 1;\r\n', replace: '        var y = 2;\r\n        return y;\r\n' }] }],
    ['whole-file content with \\n', { kind: 'content', content: 'using System;\n\nclass A {\n    int X() {\n        var y = 2;\n        return y;\n    }\n}\n' }],
    ['a unified diff with \\n', { kind: 'patch', patch: '--- a/A.cs\n+++ b/A.cs\n@@ -4,3 +4,4 @@\n     int X() {\n-        return 1;\n+        var y = 2;\n+        return y;\n     }\n' }],
  ])('%s on a CRLF file', (_name, edit) => {
    expect(edited(crlf, edit)).toBe('using System;\r\n\r\nclass A {\r\n    int X() {\r\n        var y = 2;\r\n        return y;\r\n    }\r\n}\r\n');
  });

  it('keeps a mixed file exactly as mixed, new lines taking the style of the part they are in', () => {
    const mixed = 'header\r\nsecond\r\n// lf part\nbody();\nend();\n';
    const text = edited(mixed, { kind: 'blocks', blocks: [{ search: 'second\n', replace: 'second\nthird\n' }, { search: 'body();\n', replace: 'body();\nmore();\n' }] });
    expect(text).toBe('header\r\nsecond\r\nthird\r\n// lf part\nbody();\nmore();\nend();\n');
    expect(keepLineEndings(mixed, 'header\nsecond\n// lf part\nbody();\nend();\n')).toBe(mixed);
  });

  it('keeps a missing final newline missing and adds one only when the edit does', () => {
    expect(edited('a\r\nb', { kind: 'blocks', blocks: [{ search: 'b', replace: 'c' }] })).toBe('a\r\nc');
    expect(edited('a\r\nb', { kind: 'content', content: 'a\nb\n' })).toBe('a\r\nb\r\n');
  });

  it('leaves a new file as written and LF files untouched', () => {
    expect(applyFileEdit(null, { kind: 'content', content: 'x\r\ny\r\n' })).toMatchObject({ ok: true, text: 'x\r\ny\r\n' });
    expect(edited('a\nb\n', { kind: 'blocks', blocks: [{ search: 'a\n', replace: 'a\r\nz\r\n' }] })).toBe('a\nz\nb\n');
  });

  it('re-indents whole-file content into the file\'s unit', () => {
    expect(edited('def f():\n\treturn 1\n', { kind: 'content', content: 'def f():\n    if x:\n        return 2\n    return 1\n' }))
      .toBe('def f():\n\tif x:\n\t\treturn 2\n\treturn 1\n');
  });

  it('re-indents the lines a unified diff adds into the file\'s unit', () => {
    const patch = '--- a/f.py\n+++ b/f.py\n@@ -1,2 +1,4 @@\n def f():\n+    if x:\n+        return 2\n \treturn 1\n';
    expect(edited('def f():\n\treturn 1\n', { kind: 'patch', patch })).toBe('def f():\n\tif x:\n\t\treturn 2\n\treturn 1\n');
  });

  it('says why nothing changed when an edit cannot apply', () => {
    expect(applyFileEdit(null, { kind: 'blocks', blocks: [{ search: 'a', replace: 'b' }] })).toMatchObject({ ok: false, message: expect.stringContaining('does not exist') });
    expect(applyFileEdit('a\n', { kind: 'patch', patch: '--- a/x\n+++ b/x\n@@ -1 +1 @@\n-zzz\n+b\n' })).toMatchObject({ ok: false, message: expect.stringContaining('does not apply') });
  });
});
