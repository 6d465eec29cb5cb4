import { describe, expect, it } from 'vitest';
import { unifiedDiff } from '../../server/edits/unified-diff.js';
import { loopDuring } from '../helpers/loop-turns.js';

describe('diffing a large proposal off the event loop', () => {
  it('gives the same diff on the diffing thread as inline, for small, created, deleted and 900 KB files, while the main thread stays free', { timeout: 120_000 }, async () => {
    // The daemon runs the built JavaScript, which diffs proposals of 64 KiB and more on the diffing thread.
    const built = await import(new URL('../../dist/server/edits/unified-diff.js', import.meta.url).href) as typeof import('../../server/edits/unified-diff.js');
    const big = (changed: boolean) => Array.from({ length: 12_000 }, (_, line) => `export const value_${line} = compute(${changed && line % 10 === 0 ? -line : line}, 'a fairly long string literal here');\n`).join('');
    const proposals = [
      [{ path: 'src/a.ts', before: 'export const a = 1;\n', after: 'export const a = 2;\n' }],
      [{ path: 'src/new.ts', before: null, after: big(false) }, { path: 'src/old.ts', before: big(false), after: null }],
      [{ path: 'src/big.ts', before: big(false), after: big(true) }, { path: 'src/a.ts', before: 'x\n', after: 'y\n' }],
    ];
    for (const files of proposals) {
      const { result: offThread, ticks, elapsedMs: elapsed } = await loopDuring(() => built.unifiedDiffOffThread(files));
      expect(offThread).toBe(unifiedDiff(files));
      if (files[0].path === 'src/big.ts') {
        expect(offThread).toContain('-export const value_10 = compute(10,');
        expect(offThread).toContain('+export const value_10 = compute(-10,');
        expect(ticks).toBeGreaterThan(Math.min(3, elapsed / 50));
      }
    }
  });
});
