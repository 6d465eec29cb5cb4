import { describe, expect, it } from 'vitest';
import { MAX_BINDINGS_PER_FILE, SymbolExtractor } from '../../server/index/symbols/symbol-extractor.js';
import { scoreSymbolName } from '../../server/index/symbol-search.js';
import { splitIdentifier, distinctWords } from '../../server/index/identifier-words.js';

const extractor = new SymbolExtractor();
const outline = async (text: string, language: string) =>
  (await extractor.extract(text, language)).map((s) => `${s.kind} ${s.container ? `${s.container}.` : ''}${s.name}@${s.startLine}`);

describe('symbol extraction', () => {
  it.each([
    ['typescript', 'export class Foo {\n  bar(): void {}\n}\nexport const run = () => 1;\ninterface Shape { a: 1 }\ntype T = 1;\nenum E { A }',
      ['class Foo@0', 'method Foo.bar@1', 'function run@3', 'interface Shape@4', 'property Shape.a@4', 'type T@5', 'enum E@6', 'enumMember E.A@6']],
    ['typescript', "export declare function load(path: string): void;\ndeclare const VERSION: string;\nenum Level { Low, High = 2 }\nnamespace NS { export const inner = 1; }\nconst { a } = b;\nconst x = obj.prop;",
      ['function load@0', 'constant VERSION@1', 'enum Level@2', 'enumMember Level.Low@2', 'enumMember Level.High@2', 'namespace NS@3', 'constant x@5']],
    ['typescriptreact', 'export function App() { return <div/>; }', ['function App@0']],
    ['javascript', 'class A { m() {} static limit = 3; #secret; }\nfunction f() {}\nconst g = function () {};', ['class A@0', 'method A.m@0', 'property A.limit@0', 'property A.#secret@0', 'function f@1', 'function g@2']],
    ['javascript', "const fs = require('fs');\nconst p = await require('fs').promises;\nconst { a } = b;\nexport const LIMIT = 3;\nlet n = 0, m;\nvar v = {};\nfunction f() { const local = 1; }\n{ const block = 2; }",
      ['constant LIMIT@3', 'variable n@4', 'variable m@4', 'variable v@5', 'function f@6']],
    ['python', 'class A:\n    def m(self):\n        pass\ndef f():\n    x = 1\nLIMIT = 3\n', ['class A@0', 'function A.m@1', 'function f@3', 'variable LIMIT@5']],
    ['python', 'class Color(Enum):\n    RED = 1\n    def m(self):\n        local = 2\nif DEBUG:\n    nested = 3\na.b = 4\nx: int = 5\n', ['class Color@0', 'variable Color.RED@1', 'function Color.m@2', 'variable x@7']],
    ['go', 'package p\ntype S struct{}\nfunc (s *S) M() {}\nfunc F() {}\nconst C = 1', ['type S@1', 'method M@2', 'function F@3', 'constant C@4']],
    ['go', 'package p\nvar (\n  a = 1\n  b = 2\n)\nconst (\n  C = 3\n)\nfunc f() { var local = 1; _ = local }', ['variable a@2', 'variable b@3', 'constant C@6', 'function f@8']],
    ['rust', 'struct S {}\nimpl S { fn m(&self) {} }\nfn f() {}\ntrait T {}\nmacro_rules! mm { () => {} }', ['struct S@0', 'function S.m@1', 'function f@2', 'trait T@3', 'macro mm@4']],
    ['rust', 'pub union U { a: u32 }\nenum E { A, B(u32) }', ['struct U@0', 'enum E@1', 'enumMember E.A@1', 'enumMember E.B@1']],
    ['java', 'class A {\n  int f;\n  A() {}\n  void m() {}\n}', ['class A@0', 'field A.f@1', 'constructor A.A@2', 'method A.m@3']],
    ['java', 'interface I { int MAX = 3; }\nclass C { static final int LIMIT = 1; void m() { int local = 2; } }\nenum E { A, B; }',
      ['interface I@0', 'constant I.MAX@0', 'class C@1', 'field C.LIMIT@1', 'method C.m@1', 'enum E@2', 'enumMember E.A@2', 'enumMember E.B@2']],
    ['csharp', 'namespace N { class A { void M() {} int P { get; set; } } }', ['namespace N@0', 'class N.A@0', 'method A.M@0', 'property A.P@0']],
    ['csharp', 'class A {\n  private int count, other;\n  public event EventHandler Changed;\n  delegate void D();\n  void M() { int local = 1; }\n}\nenum E { X, Y = 2 }',
      ['class A@0', 'field A.count@1', 'field A.other@1', 'field A.Changed@2', 'type A.D@3', 'method A.M@4', 'enum E@6', 'enumMember E.X@6', 'enumMember E.Y@6']],
    ['cpp', 'namespace n { class A { }; }\nint f(int x) { return x; }\nvoid A::m() {}', ['namespace n@0', 'class n.A@0', 'function f@1', 'function m@2']],
    ['cpp', 'class A { public: void m(); int *field; };\nint declared(int);\nnamespace n { extern int counter; }\nvoid g() { int local = 1; }',
      ['class A@0', 'method A.m@0', 'field A.field@0', 'function declared@1', 'namespace n@2', 'variable n.counter@2', 'function g@3']],
    ['ruby', 'module M\n  class A\n    def m\n    end\n  end\nend', ['module M@0', 'class M.A@1', 'method A.m@2']],
    ['ruby', 'LIMIT = 3\nclass A\n  CONST = 1\n  def m\n    local = 2\n  end\nend\nx = 4', ['constant LIMIT@0', 'class A@1', 'constant A.CONST@2', 'method A.m@3']],
    ['php', '<?php\nclass A { function m() {} }\nfunction f() {}', ['class A@1', 'method A.m@1', 'function f@2']],
    ['php', '<?php\nclass A { const MAX = 3; public $x; }\nconst TOP = 1;\nenum Suit { case Hearts; }',
      ['class A@1', 'constant A.MAX@1', 'property A.$x@1', 'constant TOP@2', 'enum Suit@3', 'enumMember Suit.Hearts@3']],
    ['shellscript', 'build() { make; }\nfunction clean { rm -rf out; }', ['function build@0', 'function clean@1']],
    ['c', 'static int\nprobe(struct device *dev)\n{\n}\n#define MAX 4\nstruct ops {\n};\nEXPORT_SYMBOL(probe);\ntypedef unsigned long ulong_t;',
      ['function probe@1', 'macro MAX@4', 'struct ops@5', 'type ulong_t@8']],
    ['lua', 'local function helper()\nend\nfunction M.run()\nend', ['function helper@0', 'function M.run@2']],
  ])('%s', async (language, source, expected) => {
    expect(await outline(source, language)).toEqual(expected);
  });

  it('keeps at most MAX_BINDINGS_PER_FILE bindings of a generated table, and every function and type after them', async () => {
    const table = Array.from({ length: MAX_BINDINGS_PER_FILE + 500 }, (_, i) => `export const glyph${i} = ${i};`).join('\n');
    const symbols = await extractor.extract(`${table}\nexport function lookup() {}\nexport enum Mode { A }\nclass After { field = 1; }\n`, 'typescript');
    expect(symbols.filter((s) => s.kind === 'constant')).toHaveLength(MAX_BINDINGS_PER_FILE);
    expect(symbols.at(MAX_BINDINGS_PER_FILE - 1)?.name).toBe(`glyph${MAX_BINDINGS_PER_FILE - 1}`);
    expect(symbols.slice(MAX_BINDINGS_PER_FILE).map((s) => `${s.kind} ${s.name}`)).toEqual(['function lookup', 'enum Mode', 'class After']);
  });

  it('skips minified files', async () => {
    expect(await extractor.extract(`function a(){${'x;'.repeat(5000)}}`, 'javascript')).toEqual([]);
  });
});

describe('symbol name scoring', () => {
  it('orders exact, prefix, humps, substring, subsequence', () => {
    const scores = ['parseInput', 'parseInputLater', 'ParseInput', 'reparseInput', 'pXaXrXsXe'].map((name) => scoreSymbolName('parseInput', name) ?? -Infinity);
    expect(scores[0]).toBeGreaterThan(scores[2]);
    expect(scores[2]).toBeGreaterThan(scores[1]);
    expect(scores[1]).toBeGreaterThan(scores[3]);
    expect(scoreSymbolName('gfo', 'getFileOps')).toBeGreaterThan(scoreSymbolName('gfo', 'xgxfxo')!);
    expect(scoreSymbolName('zz', 'parse')).toBeNull();
  });
});

describe('identifier words', () => {
  it('splits camelCase, acronyms, snake_case and digits', () => {
    expect(splitIdentifier('parseHTTPResponse2')).toEqual(['parse', 'http', 'response', '2']);
    expect(splitIdentifier('RETRY_AFTER_MS')).toEqual(['retry', 'after', 'ms']);
    expect(distinctWords('retryAfter retry_after retry-after')).toEqual(['retryafter', 'retry', 'after']);
  });

  it('splits ASCII identifiers exactly as the Unicode word-part pattern does (fixed and random names)', () => {
    const parts = /\p{Lu}+(?=\p{Lu}\p{Ll})|\p{Lu}?\p{Ll}+|\p{Lu}+|\p{N}+/gu;
    const reference = (identifier: string) =>
      identifier.split('_').flatMap((chunk) => [...chunk.matchAll(parts)].map((match) => match[0].toLowerCase()));
    const names = ['HTTPServer', 'ABCdef', 'aB', 'A', '_a_B_', 'x1Y2', 'ABC123def', 'mmSDMA0_GFX_RB_CNTL__RB_ENABLE_MASK',
      'getHTTPSUrl2Go', '__init', 'AB', 'ABc', 'abCDe', '9lives', 'IOError', ''];
    let seed = 11;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 3000; i++) names.push(Array.from({ length: 1 + Math.floor(random() * 12) }, () => 'aBz_Q9x'[Math.floor(random() * 7)]).join(''));
    for (const name of names) expect(splitIdentifier(name), name).toEqual(reference(name));
    expect(splitIdentifier('ÄpfelBaum_naïveWord')).toEqual(['äpfel', 'baum', 'naïve', 'word']);
  });

  it('gives the same words for a text however often its identifiers were seen before', () => {
    const text = 'struct amdgpu_device_register_offset_table *veryLongIdentifierName; int GFX_RB_CNTL__RB_ENABLE_MASK;';
    const first = distinctWords(text);
    expect(first).toEqual(expect.arrayContaining(['verylongidentifiername', 'very', 'long', 'gfxrbcntlrbenablemask', 'mask']));
    expect(distinctWords(`${text}\n${text}`)).toEqual(first);
    expect(distinctWords(text)).toEqual(first);
  });
});
