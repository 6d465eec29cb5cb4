import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyFileEdit } from '../../server/edits/file-edit.js';
import { applyBlock } from '../../server/edits/search-replace.js';
import type { WorkspaceIndex } from '../../server/index/workspace-index.js';
import { commentDirective } from '../../server/lsp/code-actions.js';
import { FrameGuard } from '../../server/lsp/frame-guard.js';
import { ModelConfigSchema } from '../../protocol/config.js';
import { importedPaths } from '../../server/index/import-resolution.js';
import { htmlPageText } from '../../server/model/error-classifier.js';
import { ModelClient } from '../../server/model/model-client.js';
import { decodeTextToolCalls } from '../../server/model/tool-call-codec.js';
import { toolSpecifications } from '../../server/tools/agent-tools.js';
import { startFakeModel } from '../fake-model/fake-model-server.js';
import { indexedTree, type FixtureIndex } from '../helpers/fixture-index.js';
import { makeStateHome, removeTree } from '../helpers/fixture-tree.js';
import { loopDuring } from '../helpers/loop-turns.js';

/**
 * No super-linear work on untrusted text: each function that reads a prompt, a query, model output or file text is
 * timed on adversarial inputs of 100 KB and 1 MB (and 10 MB where the input may be that long). Linear work grows
 * about 10× per step, quadratic 100×: the ratio must stay under 50, in CPU time (best of three on each size) so a
 * busy machine cannot fail it, and the 1 MB run must finish within seconds. (Under 30 until 2026-12-02: the
 * collector's work on a megabyte's worth of match objects — which counts as this process's CPU — made linear
 * decoders measure 13–17× quiet and 35× in CI beside two busy processes; 50 still fails anything quadratic.)
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
  for (let i = 1; i < times.length; i++) expect(times[i] / times[i - 1], `times ${times.map((t) => t.toFixed(1)).join(' → ')} ms`).toBeLessThan(50);
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

  it('reads the imports of a module of 1 MB or 10 MB of look-alike lines', () => {
    const exists = (file: string) => file === 'src/a.ts';
    // One long line of matches (each must not look for its line again), matches inside words; then a line per
    // match, each one resolved (to 1 MB: that many imports cost seconds at 10 MB, linearly).
    for (const unit of ['require(', '_import_\n']) expectLinear(repeat(unit), (text) => importedPaths('src/b.ts', text, exists), [MB, 10 * MB]);
    expectLinear(repeat("import x from './a';\n"), (text) => importedPaths('src/b.ts', text, exists));
    expectLinear(repeat('import a.b\n'), (text) => importedPaths('src/b.py', text, exists));
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

  it('reads a streamed answer whose one tool call brings 1 MB or 10 MB of arguments in a single event', { timeout: 120_000 }, async () => {
    // The real openai SDK over HTTP, as sessions use it: the scripted endpoint streams the arguments in two events.
    let content = '';
    const fake = await startFakeModel(() => ({ kind: 'tools', calls: [{ name: 'propose_edit', arguments: { path: 'src/a.ts', edit: { kind: 'content', content } } }] }));
    const state = makeStateHome();
    try {
      const config = ModelConfigSchema.parse({ baseURL: fake.baseURL, model: 'fake-model', maxRetries: 0, stream: true });
      const model = new ModelClient(config, { XDG_STATE_HOME: state, OPENAI_API_KEY: '' });
      const tools = toolSpecifications();
      const times: number[] = [];
      for (const size of [MB, 10 * MB]) {
        content = repeat('x = 1; ')(size);
        let best = Infinity;
        for (let run = 0; run < 3; run++) {
          const started = cpuMilliseconds();
          const answer = await model.complete([{ role: 'user', content: 'edit' }], tools);
          best = Math.min(best, cpuMilliseconds() - started);
          expect(JSON.parse((answer.message.tool_calls![0] as { function: { arguments: string } }).function.arguments).edit.content).toHaveLength(size);
        }
        times.push(best);
      }
      // Before the SDK was handed whole lines: 34 ms → 1,974 ms of CPU (it rescanned the event per piece); after: 22 → 208 ms.
      expect(times[1] / times[0], `times ${times.map((t) => t.toFixed(0)).join(' → ')} ms`).toBeLessThan(30);
    } finally {
      await fake.close();
      removeTree(state);
    }
  });

  it('reads tool calls written in an answer of 100 KB or 1 MB of look-alikes, a long answer off the event loop', { timeout: 300_000 }, async () => {
    // Before: 100 KB of `{"a` held the loop 57 s (each brace's object read to the end of the text, and each match
    // compared with every call found so far); 100 KB of bare calls 1.5 s.
    const tools = toolSpecifications();
    const decode = (text: string) => decodeTextToolCalls(text, tools);
    const call = '{"name":"read_file","arguments":{"path":"src/a.ts"}} ';
    const shapes = ['{"a', '{"a":1} ', '{"name":"x","arguments":{}} ', '```tool_code\n', '[f(', '```json\n{"name":"read_file","arguments":{"path":"a"}}\n```\n', call];
    for (const unit of shapes) expectLinear(repeat(unit), decode);
    // Still read where they are meant: a call after a megabyte of unclosed braces, a fenced call, an array.
    expect(decode(`${repeat('{"a')(MB)}\n<tool_call>${call}</tool_call>`).calls.map((c) => c.function.name)).toEqual(['read_file']);
    expect(decode(`see:\n\`\`\`json\n${call}\n\`\`\`\ndone`)).toMatchObject({ calls: [{ function: { name: 'read_file' } }], text: 'see:\n\ndone' });
    expect(decode(`[ ${call}, ${call}]`).calls).toHaveLength(2);
    // The daemon (built JavaScript) reads a long answer on its decoding thread: the same calls, the loop free.
    const built = await import(new URL('../../dist/server/model/tool-call-codec.js', import.meta.url).href) as typeof import('../../server/model/tool-call-codec.js');
    const answer = repeat(call)(MB);
    const { result, ticks, elapsedMs } = await loopDuring(() => built.decodeTextToolCallsOffThread(answer, tools));
    const inline = decode(answer);
    const withoutIds = (calls: { function: unknown }[]) => calls.map((c) => c.function);
    expect(withoutIds(result.calls)).toEqual(withoutIds(inline.calls));
    expect(result.calls.length).toBeGreaterThan(10_000);
    expect(ticks).toBeGreaterThan(Math.min(3, elapsedMs / 50));
  });

  it('reads the words of an endpoint\'s HTML error page of any size and shape', () => {
    // Before: 25 empty comments before the page took 0.6 s (each one more doubled it), 100,000 `<` 23 s.
    const page = '<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1>nginx</body></html>';
    for (const unit of ['<!-- -->', '<script>', '<', '<head>', '<title', '&a', '<style></style>']) {
      expectLinear((size) => `<html><body>${repeat(unit)(size)}`, htmlPageText, [MB, 10 * MB]);
    }
    expectLinear((size) => `${repeat('<!-- -->')(size)}x`, htmlPageText, [MB, 10 * MB]);
    expect(htmlPageText(`${'<!-- -->'.repeat(1000)}\n${page}`)).toBe('502 Bad Gateway — nginx');
    // Only the page's first 64 KiB are read: a title before 10 MB of unclosed scripts is still found, quickly.
    const titled = `<html><head><title>504 Gateway Time-out</title></head><body>${repeat('<script>')(10 * MB)}`;
    expect(bestOfThree(() => expect(htmlPageText(titled)).toBe('504 Gateway Time-out'))).toBeLessThan(50);
    expect(htmlPageText(`<!DOCTYPE html>${page.replace('nginx', '<script>var a = "<b>";</script>nginx &amp; co<style>p {}</style>')}`)).toBe('502 Bad Gateway — nginx & co');
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
