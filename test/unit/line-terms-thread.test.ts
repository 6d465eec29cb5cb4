import { describe, expect, it } from 'vitest';
import { scanLineTerms } from '../../server/index/line-terms.js';

describe('scanning large files for ranking off the event loop', () => {
  it('gives the same line terms on the scanning thread as inline, for small and 1 MB texts, while the main thread stays free', { timeout: 120_000 }, async () => {
    // The daemon runs the built JavaScript, whose ranking scans texts of 64 KiB and more on the scanning thread.
    const built = await import(new URL('../../dist/server/index/line-terms.js', import.meta.url).href) as typeof import('../../server/index/line-terms.js');
    const termIds = new Map([['compute', 0], ['value', 1], ['retry', 2], ['schedule', 3]]);
    const identifiers = new Set(['scheduleRetry']);
    const large = Array.from({ length: 12_000 }, (_, line) => `export const value_${line} = compute(${line}); scheduleRetry(value_${line});\n`).join('');
    for (const text of ['', 'scheduleRetry(compute(1))', large, `${large}no newline at the end scheduleRetry`]) {
      let ticks = 0;
      const ticker = setInterval(() => ticks++, 5);
      const started = performance.now();
      const offThread = await built.scanLineTermsOffThread({ text, termIds, identifiers });
      const elapsed = performance.now() - started;
      clearInterval(ticker);
      const inline = scanLineTerms(text, termIds, identifiers);
      expect({ ...offThread, termIds: [...offThread.termIds] }).toEqual({ ...inline, termIds: [...inline.termIds] });
      if (text.length > 64 * 1024) expect(ticks).toBeGreaterThan(Math.min(3, elapsed / 50));
    }
  });
});
