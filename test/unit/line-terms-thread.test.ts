import { describe, expect, it } from 'vitest';
import { bestWindow } from '../../server/index/best-window.js';
import { scanLineTerms } from '../../server/index/line-terms.js';

/** The daemon runs the built JavaScript, whose ranking scans texts of 64 KiB and more on the scanning thread. */
const builtLineTerms = async () => await import(new URL('../../dist/server/index/line-terms.js', import.meta.url).href) as typeof import('../../server/index/line-terms.js');
const termIds = new Map([['compute', 0], ['value', 1], ['retry', 2], ['schedule', 3]]);
const identifiers = new Set(['scheduleRetry']);
const weights = [0.5, 0.2, 2, 1.5];

describe('scanning large files for ranking off the event loop', () => {
  it('gives the same line terms on the scanning thread as inline, for small and 1 MB texts, while the main thread stays free', { timeout: 120_000 }, async () => {
    const built = await builtLineTerms();
    const large = Array.from({ length: 12_000 }, (_, line) => `export const value_${line} = compute(${line}); scheduleRetry(value_${line});\n`).join('');
    for (const text of ['', 'scheduleRetry(compute(1))', large, `${large}no newline at the end scheduleRetry`]) {
      let ticks = 0;
      const ticker = setInterval(() => ticks++, 5);
      const started = performance.now();
      const offThread = (await built.scanLineTermsOffThread({ text, termIds, identifiers }))!;
      const elapsed = performance.now() - started;
      clearInterval(ticker);
      const inline = scanLineTerms(text, termIds, identifiers);
      expect({ ...offThread, termIds: [...offThread.termIds] }).toEqual({ ...inline, termIds: [...inline.termIds] });
      if (text.length > 64 * 1024) expect(ticks).toBeGreaterThan(Math.min(3, elapsed / 50));
    }
  });

  it('finds a large file\'s best window on the scanning thread, as inline, with and without coverage', { timeout: 120_000 }, async () => {
    const built = await builtLineTerms();
    const large = Array.from({ length: 12_000 }, (_, line) => (line === 7_000 ? '  scheduleRetry(compute(value)); // retry\n' : `export const value_${line} = compute(${line});\n`)).join('');
    for (const coverage of [true, false]) {
      const offThread = (await built.scanLineTermsOffThread({ text: large, termIds, identifiers, window: { weights, coverage } }))!;
      expect(offThread.window).toEqual(bestWindow(large, scanLineTerms(large, termIds, identifiers), weights, coverage));
      expect(offThread.window?.preview).toBe('scheduleRetry(compute(value)); // retry');
    }
    // A short text is scanned here, and its window left to the caller.
    expect((await built.scanLineTermsOffThread({ text: 'scheduleRetry()', termIds, identifiers, window: { weights, coverage: true } }))!.window).toBeUndefined();
  });

  it('decodes a large file\'s bytes on the scanning thread, moved there uncopied: the scan, window, phrases and imports a text gives', { timeout: 120_000 }, async () => {
    const built = await builtLineTerms();
    const body = Array.from({ length: 12_000 }, (_, line) => (line === 9_000 ? '  scheduleRetry(compute(value)); // réessayer\n' : `export const value_${line} = compute(${line});\n`)).join('');
    const request = {
      termIds, identifiers, window: { weights, coverage: true }, phrases: ['// réessayer', 'not in the file'],
      links: { path: 'src/app.ts', candidates: ['src/app.ts', 'src/retry.ts', 'src/other.ts'] },
    };
    const cases = [
      { text: `import { scheduleRetry } from './retry';\n${body}`, imports: ['src/retry.ts'] },
      { text: `\uFEFF${body}`, imports: [] },
      { text: `const retry = require("./retry")\r\n${body.replaceAll('\n', '\r\n')}`, imports: ['src/retry.ts'] },
    ];
    for (const { text, imports } of cases) {
      const bytes = Buffer.from(text);
      const fromBytes = (await built.scanLineTermsOffThread({ ...request, bytes }))!;
      // Moved, not copied: the buffer is empty here once the scanning thread has it.
      expect(bytes.byteLength).toBe(0);
      const fromText = built.scanRequest({ ...request, text: text.replace(/^\uFEFF/, '') })!;
      expect({ ...fromBytes, termIds: [...fromBytes.termIds] }).toEqual({ ...fromText, termIds: [...fromText.termIds] });
      expect(fromBytes.phrasesHeld).toEqual([true, false]);
      expect(fromBytes.imports).toEqual(imports);
      expect(fromBytes.window?.preview).toBe('scheduleRetry(compute(value)); // réessayer');
    }
    // Bytes that are not text scan as nothing, as search reads them.
    const binary = Buffer.alloc(100_000, 0);
    expect(await built.scanLineTermsOffThread({ ...request, bytes: binary })).toBeNull();
    // Bytes that share their buffer (a slice) are copied, and still scanned.
    const shared = Buffer.from(`xx${cases[0].text}`).subarray(2);
    expect((await built.scanLineTermsOffThread({ ...request, bytes: shared }))!.imports).toEqual(['src/retry.ts']);
    expect(shared.byteLength).toBeGreaterThan(0);
  });
});
