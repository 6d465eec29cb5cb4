import { describe, expect, it } from 'vitest';
import { countO200kTokens } from '../../server/model/o200k-count.js';
import { TokenCounter } from '../../server/model/token-count.js';
import { loopDuring } from '../helpers/loop-turns.js';

const file = 'export function add(a: number, b: number): number {\n  return a + b;\n}\n'.repeat(200);

describe('TokenCounter', () => {
  it('counts messages, tool calls, tool results and tool specifications', async () => {
    const counter = new TokenCounter();
    const small = await counter.count([{ role: 'user', content: 'hi' }]);
    expect(small).toBeGreaterThan(2);
    expect(small).toBeLessThan(15);
    const withFile = await counter.count([{ role: 'user', content: 'hi' }, { role: 'tool', tool_call_id: 'call_1', content: file }]);
    // o200k spends roughly one token per 3–5 characters of code.
    expect(withFile - small).toBeGreaterThan(file.length / 6);
    expect(withFile - small).toBeLessThan(file.length / 2);
    const call = await counter.count([{ role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'read_file', arguments: JSON.stringify({ path: 'src/a-rather-long-file-name.ts' }) } }] }]);
    expect(call).toBeGreaterThan(small);
    const tools = [{ type: 'function' as const, function: { name: 'read_file', description: 'Read a file of the workspace', parameters: { type: 'object', properties: { path: { type: 'string' } } } } }];
    expect(await counter.count([{ role: 'user', content: 'hi' }], tools)).toBeGreaterThan(small + 10);
    expect(await counter.count([{ role: 'user', content: [{ type: 'text', text: 'hi' }] }])).toBe(small);
  });

  it('counts special-token text found in files as text instead of refusing it', async () => {
    const counter = new TokenCounter();
    expect(await counter.countText('before <|endoftext|> after <|im_start|>')).toBeGreaterThan(5);
  });

  it('calibrates towards the endpoint\'s reported counts, step by step and within bounds', async () => {
    const counter = new TokenCounter();
    const messages = [{ role: 'user' as const, content: file }];
    const estimate = await counter.count(messages);
    counter.calibrate(estimate, Math.round(estimate * 1.2));
    const once = await counter.count(messages);
    expect(once).toBeGreaterThan(estimate);
    expect(once).toBeLessThan(estimate * 1.2);
    for (let i = 0; i < 10; i++) counter.calibrate(await counter.count(messages), Math.round(estimate * 1.2));
    expect(await counter.count(messages) / estimate).toBeCloseTo(1.2, 2);
    expect(await counter.countText(file)).toBeGreaterThan(await new TokenCounter().countText(file));
    for (let i = 0; i < 20; i++) counter.calibrate(await counter.count(messages), estimate * 100);
    expect(counter.calibration).toBe(3);
    counter.calibrate(0, 10);
    counter.calibrate(10, 0);
    expect(counter.calibration).toBe(3);
  });

  it('counts on its own thread in the built daemon, with the same results as counting inline, while the main thread stays free', { timeout: 120_000 }, async () => {
    // The daemon runs the built JavaScript, whose counter uses the tokenizer worker (sources count inline).
    const built = await import(new URL('../../dist/server/model/token-count.js', import.meta.url).href) as typeof import('../../server/model/token-count.js');
    const counter = new built.TokenCounter();
    // A pasted log with the long runs that make BPE slow, a file, and texts under and over the exact-count size.
    const log = `ERROR at com.example.Service.run(Service.java:812)\n  payload=${'a'.repeat(20_000)}\n  ${'#'.repeat(5_000)} ${'src/'.repeat(3_000)}\n`.repeat(8);
    const texts = ['hi', file, log, `${file}${file}${file}${file}${file}`];
    const messages = texts.map((content) => ({ role: 'user' as const, content }));
    const { result: inWorker, ticks, elapsedMs: elapsed } = await loopDuring(() => counter.count(messages));
    const inline = 3 + texts.reduce((sum, text) => sum + 4 + countO200kTokens(`user\n${text}`), 0);
    expect(inWorker).toBe(inline);
    for (const text of texts) expect(await counter.countText(text)).toBe(countO200kTokens(text));
    // The main thread kept ticking while the worker counted (inline, it could not have ticked at all).
    expect(ticks).toBeGreaterThan(Math.min(3, elapsed / 50));
    // Counted again (each session turn recounts its conversation): the worker remembers, the answer is the same.
    expect(await counter.count(messages)).toBe(inline);
  });
});
