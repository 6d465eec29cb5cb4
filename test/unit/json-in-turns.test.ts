import { describe, expect, it } from 'vitest';
import { jsonInTurns } from '../../server/lsp/json-in-turns.js';
import { loopDuring } from '../helpers/loop-turns.js';

describe('encoding large JSON-RPC answers in turns of the event loop', () => {
  const big = (unit: string, characters: number) => unit.repeat(Math.ceil(characters / unit.length)).slice(0, characters);

  it('writes exactly what JSON.stringify writes, for small and large strings of any content', async () => {
    const when = new Date(0);
    const messages: unknown[] = [
      { jsonrpc: '2.0', id: 1, result: null },
      { jsonrpc: '2.0', id: 2, result: { a: [1, 'two', null, true, undefined, () => 1], b: undefined, c: Number.NaN, when } },
      {
        jsonrpc: '2.0', id: 'x', result: {
          prompt: big('log line with "quotes", \\ backslashes, tabs\t and newlines\n', 1_000_000),
          proposal: [{ path: 'src/a.ts', before: big('const a = 1;\r\n', 900_000), after: big('é → 😀 \u2028 \u0000 ', 900_000) }, { path: 'b', before: null, after: 'short' }],
          events: [big('x', 65_536), big('y', 65_535), { nested: [big('z', 100_000)] }],
          lone: big('\ud800a', 70_000),
        },
      },
      { jsonrpc: '2.0', method: 'window/logMessage', params: { type: 3, message: big('m', 200_000) } },
    ];
    for (const message of messages) {
      const encoded = await jsonInTurns(message);
      expect(encoded.equals(Buffer.from(JSON.stringify(message), 'utf8'))).toBe(true);
    }
    // A string that looks like a marker is left as it is.
    const lookalike = { a: big('q', 70_000), b: '0123:0' };
    expect((await jsonInTurns(lookalike)).toString()).toBe(JSON.stringify(lookalike));
  });

  it('lets the event loop run while it encodes megabytes of strings', async () => {
    const answer = { jsonrpc: '2.0', id: 1, result: { prompt: big('p', 1_000_000), files: Array.from({ length: 4 }, (_, i) => ({ before: big(`b${i}`, 900_000), after: big(`a${i}`, 900_000) })) } };
    const { result: encoded, turns } = await loopDuring(() => jsonInTurns(answer));
    expect(encoded.length).toBe(Buffer.byteLength(JSON.stringify(answer)));
    // At least one turn per long string (nine of them) but the first.
    expect(turns).toBeGreaterThanOrEqual(8);
  });
});
