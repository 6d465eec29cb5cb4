import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { indexedTree, type FixtureIndex } from '../helpers/fixture-index.js';
import { loopDuring } from '../helpers/loop-turns.js';

/**
 * Ranking a question over large files scores each file's definitions and best window on the event loop; between
 * large files it lets the loop serve others, so another editor's request waits for one file, not all of them.
 */
describe('ranking large files in turns', () => {
  let fixture: FixtureIndex;
  const bigFile = (n: number) => Array.from({ length: 12_000 }, (_, line) => `export const value${n}_${line} = scheduleRetry(${line}, 'retry budget exhausted here');\n`).join('');
  beforeAll(async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 4; i++) files[`src/big${i}.ts`] = bigFile(i);
    for (let i = 0; i < 20; i++) files[`src/module${i}.ts`] = `export function handler${i}() { return scheduleRetry(${i}); }\n`;
    fixture = await indexedTree(files);
  }, 120_000);
  afterAll(() => fixture.close());

  it('lets the event loop run between the large files it scores, with the same result', { timeout: 120_000 }, async () => {
    const question = 'the retry budget is exhausted in `scheduleRetry`; see src/big2.ts';
    const search = () => fixture.index.search({ query: question, mode: 'text', caseInsensitive: false });
    const alone = await search();
    const { result: beside, turns } = await loopDuring(search);
    expect(beside).toEqual(alone);
    expect(alone.mode === 'text' && alone.files.filter((file) => file.path.startsWith('src/big')).map((file) => file.path).sort()).toEqual(['src/big0.ts', 'src/big1.ts', 'src/big2.ts', 'src/big3.ts']);
    // At least one turn after each large file's definitions and each one's window.
    expect(turns).toBeGreaterThanOrEqual(8);
  });
});
