import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnalysisPool } from '../../server/index/analysis-pool.js';
import type { FileAnalysis } from '../../server/index/file-analysis.js';
import type { ViewFile, ViewWordsRequest } from '../../server/index/session-view-ranking.js';
import { indexedTree, type FixtureIndex } from '../helpers/fixture-index.js';

/** A ≈ 900 KB module of distinct names, and one that names the retry path: what a session changed. */
const large = Array.from({ length: 12_000 }, (_, line) => `export const value_${line} = compute(${line}, 'a fairly long string literal');\n`).join('');
let fixture: FixtureIndex;
let files: ViewFile[];

beforeAll(async () => {
  fixture = await indexedTree({
    'src/retry.ts': 'export function computeBackoff(attempt: number) { return 2 ** attempt; }\n',
    'src/legacy.ts': 'export function legacyBackoff() { return 1; }\n',
    'src/large.ts': large,
  });
  const pool = new AnalysisPool();
  const analysed = async (file: string, text: string): Promise<FileAnalysis> => {
    const outcome = await pool.analyze({ root: fixture.root, path: file, overlay: text });
    if (outcome.kind !== 'analysed') throw new Error(`${file} was not analysed`);
    return outcome.analysis;
  };
  const changed = { 'src/retry.ts': 'export function backoffDelay(attempt: number) { return jitter(2 ** attempt); }\n', 'src/large.ts': `${large}export function backoffJitter() { return 3; }\n` };
  files = [
    ...await Promise.all(Object.entries(changed).map(async ([file, text]) => ({ path: file, text, analysis: await analysed(file, text) }))),
    { path: 'src/legacy.ts', text: null, analysis: null },
  ];
  await pool.close();
}, 120_000);
afterAll(() => fixture.close());

describe('the session view thread', () => {
  it('ranks and maps inside a view on its own connection as the index\'s connection does inline, and leaves the index as it was', { timeout: 120_000 }, async () => {
    // The daemon runs the built JavaScript: its session views rank on this thread. The inline fallback here
    // throws, so an answer can only come from the thread.
    const { WorkerThread } = await import(new URL('../../dist/server/threads/worker-thread.js', import.meta.url).href) as typeof import('../../server/threads/worker-thread.js');
    const { answerInView } = await import('../../server/index/session-view-ranking.js');
    const thread = new WorkerThread<ViewWordsRequest, unknown>(new URL('../../dist/server/index/session-view-worker.js', import.meta.url), () => {
      throw new Error('answered inline, not on the session view thread');
    });
    const { openIndexDatabase } = await import('../../server/index/index-database.js');
    const db = openIndexDatabase(path.join(fixture.state, 'index.db'));
    try {
      const base = { databasePath: path.join(fixture.state, 'index.db'), root: fixture.root, files, overlays: [] as [string, string][] };
      const queries: ViewWordsRequest['query'][] = [
        { kind: 'rank', question: 'backoff delay jitter', limit: 5 },
        { kind: 'rank', question: 'legacy backoff', limit: 5 },
        { kind: 'map', question: 'backoff', tokenBudget: 300 },
      ];
      for (const query of queries) {
        const request = { ...base, query };
        const onThread = await thread.run(request);
        expect(onThread).toEqual(await answerInView(db, request));
        if (query.kind === 'rank') {
          const ranked = (onThread as { files: { path: string }[] }).files.map((file) => file.path);
          // The session's new words find its files; the file it deleted is gone.
          expect(ranked).toEqual(expect.arrayContaining(['src/retry.ts', 'src/large.ts']));
          expect(ranked).not.toContain('src/legacy.ts');
        }
      }
      // Both savepoints rolled back: the index still holds the files on disk.
      expect(fixture.index.searchSymbols('backoffDelay', 10)).toEqual([]);
      expect(fixture.index.searchSymbols('legacyBackoff', 10).map((symbol) => symbol.path)).toEqual(['src/legacy.ts']);
      expect((await fixture.index.rankFiles('legacy backoff', 5)).map((file) => file.path)).toContain('src/legacy.ts');
      expect(fixture.index.integrityCheck()).toBe('ok');
    } finally {
      db.close();
      await thread.close();
    }
  });
});
