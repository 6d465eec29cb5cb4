import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyFileEdit } from '../../server/edits/file-edit.js';
import { applyBlock } from '../../server/edits/search-replace.js';
import type { WorkspaceIndex } from '../../server/index/workspace-index.js';
import { commentDirective } from '../../server/lsp/code-actions.js';
import { FrameGuard } from '../../server/lsp/frame-guard.js';
import { indexedTree, type FixtureIndex } from '../helpers/fixture-index.js';

/**
 * No super-linear work on untrusted text: each function that reads a prompt, a query, model output or file text is
 * timed on adversarial inputs of 100 KB and 1 MB (and 10 MB where the input may be that long). Linear work grows
 * about 10× per step, quadratic 100×: the ratio must stay under 30, in CPU time (best of three on each size) so a
 * busy machine cannot fail it, and the 1 MB run must finish within seconds.
 */
const KB = 1000;
const MB = 1000 * KB;

/** Milliseconds of this process's CPU (user + system): unlike wall time, a busy machine's preemption adds nothing. */
function cpuMilliseconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/**
 * The best of three timings of `run`, in CPU milliseconds per call; a call too quick for the clock is repeated
 * until a timing spans at least 5 ms, so small inputs are measured, not rounded.
 */
function bestOfThree(run: () => unknown): number {
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    let calls = 0;
    const started = cpuMilliseconds();
    do {
      run();
      calls++;
    } while (cpuMilliseconds() - started < 5 && calls < 1000);
    best = Math.min(best, (cpuMilliseconds() - started) / calls);
  }
  return best;
}

/** Times `run` on inputs of each size; asserts linear growth between consecutive sizes. */
function expectLinear(make: (size: number) => string, run: (input: string) => unknown, sizes = [100 * KB, MB]): number[] {
  const times = sizes.map((size) => {
    const input = make(size);
    // Runs under a millisecond are dominated by call overhead and the clock: the floor keeps the ratio meaningful.
    return Math.max(1, bestOfThree(() => run(input)));
  });
  for (let i = 1; i < times.length; i++) expect(times[i] / times[i - 1], `times ${times.map((t) => t.toFixed(1)).join(' → ')} ms`).toBeLessThan(30);
  expect(times.at(-1)!).toBeLessThan(sizes.at(-1)! >= 10 * MB ? 20_000 : 5_000);
  return times;
}

const repeat = (unit: string) => (size: number) => unit.repeat(Math.ceil(size / unit.length)).slice(0, size);

describe('linear time on adversarial text', () => {
  it('finds comment directives in a line of any length and shape', () => {
    expect(commentDirective('')).toBeNull();
    for (const unit of ['#', ' ', 'codeloop:', '// codeloop:', '/*', 'a']) expectLinear(repeat(unit), commentDirective);
    expectLinear((size) => `// codeloop: fix it${' '.repeat(size)}x`, commentDirective);
    expect(commentDirective(`${'#'.repeat(MB)} codeloop: still found`)).toBe('still found');
  });

  it('matches search/replace blocks against long files of look-alike lines', () => {
    // A file of identical lines and a block that matches nowhere: every start looked alike.
    const file = (size: number) => repeat('  x = 1;\n')(size);
    expectLinear(file, (text) => applyBlock(text, { search: `${'x = 1;\n'.repeat(2000)}y = 2;\n`, replace: 'z' }), [MB, 10 * MB]);
    expectLinear(file, (text) => applyBlock(text, { search: 'x = 1;', replace: 'z' }), [MB, 10 * MB]);
    expect(applyBlock('a\na\na\n', { search: 'a', replace: 'b' })).toMatchObject({ ok: false, message: expect.stringContaining('3 times') });
  });

  it('rewrites a large LF or CRLF file whole, one line in ten changed, keeping its line endings', () => {
    const lines = (size: number, lineBreak: string, changed: boolean) => {
      const out: string[] = [];
      for (let i = 0, length = 0; length < size; i++) {
        const line = `export const value_${i} = compute(${changed && i % 10 === 0 ? i + 1 : i}, 'a fairly long string literal');${lineBreak}`;
        out.push(line);
        length += line.length;
      }
      return out.join('');
    };
    for (const lineBreak of ['\n', '\r\n']) {
      const rewrite = (original: string) => {
        const outcome = applyFileEdit(original, { kind: 'content', content: original.replaceAll('\r\n', '\n').replace(/compute\((\d*0),/g, (_, n) => `compute(${Number(n) + 1},`) });
        return outcome.ok ? outcome.text : null;
      };
      expectLinear((size) => lines(size, lineBreak, false), rewrite);
      expect(rewrite(lines(MB, lineBreak, false))).toBe(lines(MB, lineBreak, true));
    }
  });

  it('skips a 10 MB message in the frame guard without buffering it', () => {
    const skip = (body: string) => {
      const guard = new FrameGuard(() => {
        throw new Error('a valid frame is not a violation');
      }, { messageBytes: 1000, headerBytes: 8192 });
      const out: Buffer[] = [];
      guard.on('data', (chunk: Buffer) => out.push(chunk));
      const bytes = Buffer.from(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      for (let at = 0; at < bytes.length; at += 64 * KB) guard.write(bytes.subarray(at, at + 64 * KB));
      return Buffer.concat(out).toString();
    };
    const message = (size: number) => `{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"text":"${repeat('x\\"')(size)}"},"id":7}`;
    expectLinear(message, skip, [MB, 10 * MB]);
    expect(skip(message(MB))).toMatch(/"id":7,"method":"\$\/codeloop\/oversizedMessage","params":\{"method":"textDocument\/didOpen","bytes":\d+\}/);
  });

  describe('retrieval', () => {
    let fixture: FixtureIndex;
    let index: WorkspaceIndex;
        beforeAll(async () => {
      const files: Record<string, string> = {};
      for (let i = 0; i < 100; i++) files[`src/module${i}.ts`] = `export function handler${i}(input: string) { return scheduleRetry(input.length + ${i}); }\n`;
      fixture = await indexedTree(files);
      ({ index } = fixture);
    });
    afterAll(() => fixture.close());

    it('ranks files for a question of 0 to 10 MB, reading identifiers, not the whole text', async () => {
      expect(await index.search({ query: ' ', mode: 'text', caseInsensitive: false })).toEqual({ mode: 'text', files: [] });
      const shapes = ['a', 'src/', 'handler_', '#', 'aB', 'x(', '`scheduleRetry` ', 'see src/module7.ts. '];
      for (const unit of shapes) expectLinear(repeat(unit), (question) => index.repoMap(question, 500), [MB, 10 * MB]);
      // The question's point may come last, after a megabyte of log.
      const map = await index.repoMap(`${repeat('noise ')(MB)}\nwhy does handler42 fail?`, 200);
      expect(map.split('\n')[0]).toBe('src/module42.ts:');
    });

    it('finds symbols for a long query without a pattern SQLite refuses', () => {
      expect(index.searchSymbols('x'.repeat(10 * KB), 20)).toEqual([]);
      expect(index.searchSymbols('handler4', 1)[0].name).toBe('handler4');
      expect(index.searchSymbols('hdlr42', 1)[0].name).toBe('handler42');
    });
  });
});
