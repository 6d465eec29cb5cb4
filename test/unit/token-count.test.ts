import { describe, expect, it } from 'vitest';
import { TokenCounter } from '../../server/model/token-count.js';

const file = 'export function add(a: number, b: number): number {\n  return a + b;\n}\n'.repeat(200);

describe('TokenCounter', () => {
  it('counts messages, tool calls, tool results and tool specifications', () => {
    const counter = new TokenCounter();
    const small = counter.count([{ role: 'user', content: 'hi' }]);
    expect(small).toBeGreaterThan(2);
    expect(small).toBeLessThan(15);
    const withFile = counter.count([{ role: 'user', content: 'hi' }, { role: 'tool', tool_call_id: 'call_1', content: file }]);
    // o200k spends roughly one token per 3–5 characters of code.
    expect(withFile - small).toBeGreaterThan(file.length / 6);
    expect(withFile - small).toBeLessThan(file.length / 2);
    const call = counter.count([{ role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'read_file', arguments: JSON.stringify({ path: 'src/a-rather-long-file-name.ts' }) } }] }]);
    expect(call).toBeGreaterThan(small);
    const tools = [{ type: 'function' as const, function: { name: 'read_file', description: 'Read a file of the workspace', parameters: { type: 'object', properties: { path: { type: 'string' } } } } }];
    expect(counter.count([{ role: 'user', content: 'hi' }], tools)).toBeGreaterThan(small + 10);
    expect(counter.count([{ role: 'user', content: [{ type: 'text', text: 'hi' }] }])).toBe(small);
  });

  it('counts special-token text found in files as text instead of refusing it', () => {
    const counter = new TokenCounter();
    expect(counter.countText('before <|endoftext|> after <|im_start|>')).toBeGreaterThan(5);
  });

  it('calibrates towards the endpoint\'s reported counts, step by step and within bounds', () => {
    const counter = new TokenCounter();
    const messages = [{ role: 'user' as const, content: file }];
    const estimate = counter.count(messages);
    counter.calibrate(estimate, Math.round(estimate * 1.2));
    const once = counter.count(messages);
    expect(once).toBeGreaterThan(estimate);
    expect(once).toBeLessThan(estimate * 1.2);
    for (let i = 0; i < 10; i++) counter.calibrate(counter.count(messages), Math.round(estimate * 1.2));
    expect(counter.count(messages) / estimate).toBeCloseTo(1.2, 2);
    expect(counter.countText(file)).toBeGreaterThan(new TokenCounter().countText(file));
    for (let i = 0; i < 20; i++) counter.calibrate(counter.count(messages), estimate * 100);
    expect(counter.calibration).toBe(3);
    counter.calibrate(0, 10);
    counter.calibrate(10, 0);
    expect(counter.calibration).toBe(3);
  });
});
