import { describe, expect, it } from 'vitest';
import { SymbolExtractor } from '../../server/index/symbols/symbol-extractor.js';
import { scoreSymbolName } from '../../server/index/symbol-search.js';
import { splitIdentifier, distinctWords } from '../../server/index/identifier-words.js';

const extractor = new SymbolExtractor();
const outline = async (text: string, language: string) =>
  (await extractor.extract(text, language)).map((s) => `${s.kind} ${s.container ? `${s.container}.` : ''}${s.name}@${s.startLine}`);

describe('symbol extraction', () => {
  it.each([
    ['typescript', 'export class Foo {\n  bar(): void {}\n}\nexport const run = () => 1;\ninterface Shape { a: 1 }\ntype T = 1;\nenum E { A }',
      ['class Foo@0', 'method Foo.bar@1', 'function run@3', 'interface Shape@4', 'type T@5', 'enum E@6']],
    ['typescriptreact', 'export function App() { return <div/>; }', ['function App@0']],
    ['javascript', 'class A { m() {} }\nfunction f() {}\nconst g = function () {};', ['class A@0', 'method A.m@0', 'function f@1', 'function g@2']],
    ['python', 'class A:\n    def m(self):\n        pass\ndef f():\n    x = 1\nLIMIT = 3\n', ['class A@0', 'function A.m@1', 'function f@3', 'variable LIMIT@5']],
    ['go', 'package p\ntype S struct{}\nfunc (s *S) M() {}\nfunc F() {}\nconst C = 1', ['type S@1', 'method M@2', 'function F@3', 'constant C@4']],
    ['rust', 'struct S {}\nimpl S { fn m(&self) {} }\nfn f() {}\ntrait T {}\nmacro_rules! mm { () => {} }', ['struct S@0', 'function S.m@1', 'function f@2', 'trait T@3', 'macro mm@4']],
    ['java', 'class A {\n  int f;\n  A() {}\n  void m() {}\n}', ['class A@0', 'field A.f@1', 'constructor A.A@2', 'method A.m@3']],
    ['csharp', 'namespace N { class A { void M() {} int P { get; set; } } }', ['namespace N@0', 'class N.A@0', 'method A.M@0', 'property A.P@0']],
    ['cpp', 'namespace n { class A { }; }\nint f(int x) { return x; }\nvoid A::m() {}', ['namespace n@0', 'class n.A@0', 'function f@1', 'function m@2']],
    ['ruby', 'module M\n  class A\n    def m\n    end\n  end\nend', ['module M@0', 'class M.A@1', 'method A.m@2']],
    ['php', '<?php\nclass A { function m() {} }\nfunction f() {}', ['class A@1', 'method A.m@1', 'function f@2']],
    ['shellscript', 'build() { make; }\nfunction clean { rm -rf out; }', ['function build@0', 'function clean@1']],
    ['c', 'static int\nprobe(struct device *dev)\n{\n}\n#define MAX 4\nstruct ops {\n};\nEXPORT_SYMBOL(probe);\ntypedef unsigned long ulong_t;',
      ['function probe@1', 'macro MAX@4', 'struct ops@5', 'type ulong_t@8']],
    ['lua', 'local function helper()\nend\nfunction M.run()\nend', ['function helper@0', 'function M.run@2']],
  ])('%s', async (language, source, expected) => {
    expect(await outline(source, language)).toEqual(expected);
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
});
