import { describe, expect, it } from 'vitest';
import { FrameSplitter } from '../../server/daemon/frame-splitter.js';

const frame = (body: string) => `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

describe('FrameSplitter (codeloop lsp following the relayed stream)', () => {
  it('finds every message and the boundaries between them, however the stream is cut into chunks', () => {
    const bodies = ['{"id":1,"method":"a"}', '{"id":2,"result":"é ü 漢字"}', '{}', `{"big":"${'x'.repeat(5000)}"}`];
    const stream = Buffer.from(bodies.map(frame).join(''));
    for (const size of [1, 2, 3, 7, 16, 100, stream.length]) {
      const found: string[] = [];
      const splitter = new FrameSplitter((body) => found.push(body), 1000);
      const boundaries: number[] = [];
      for (let offset = 0; offset < stream.length; offset += size) {
        splitter.push(stream.subarray(offset, offset + size));
        if (splitter.atBoundary) boundaries.push(Math.min(stream.length, offset + size));
      }
      // The body over `maxBody` is counted past, not kept.
      expect(found, `chunks of ${size}`).toEqual(bodies.slice(0, 3));
      expect(splitter.atBoundary).toBe(true);
      // A boundary is only ever reported where a message ends.
      const ends = bodies.map(frame).reduce<number[]>((all, f) => [...all, (all.at(-1) ?? 0) + Buffer.byteLength(f)], []);
      for (const at of boundaries) expect(ends, `chunks of ${size}`).toContain(at);
    }
  });

  it('is inside a message until all of it has been relayed', () => {
    const splitter = new FrameSplitter(() => undefined);
    expect(splitter.atBoundary).toBe(true);
    splitter.push(Buffer.from('Content-Len'));
    expect(splitter.atBoundary).toBe(false);
    splitter.push(Buffer.from('gth: 4\r\n\r\n{}'));
    expect(splitter.atBoundary).toBe(false);
    splitter.push(Buffer.from('{}'));
    expect(splitter.atBoundary).toBe(true);
  });
});
