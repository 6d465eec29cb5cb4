import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkspaceIndex } from '../../server/index/workspace-index.js';
import { indexedTree, type FixtureIndex } from '../helpers/fixture-index.js';

let fixture: FixtureIndex;
let index: WorkspaceIndex;

beforeAll(async () => {
  const files: Record<string, string> = {
    'src/retry.ts': 'export function computeBackoff(attempt: number) { return 2 ** attempt; }\nexport class RetryPolicy { shouldRetry(status: number) { return status === 429; } }\n',
    'src/client.ts': 'import { RetryPolicy, computeBackoff } from "./retry";\nexport class HttpClient { policy = new RetryPolicy(); send() { return computeBackoff(1); } }\n',
    'src/format.ts': 'export function formatDate(d: Date) { return d.toISOString(); }\n',
  };
  for (let i = 0; i < 30; i++) files[`src/filler${i}.ts`] = `export function filler${i}() { return ${i}; }\n`;
  fixture = await indexedTree(files, { git: true });
  ({ index } = fixture);
});
afterAll(() => fixture.close());

describe('repo map', () => {
  it('puts the files relevant to a question first, with their definitions', async () => {
    const map = await index.repoMap('requests are not retried after a 429 status, backoff looks wrong', 200);
    const lines = map.split('\n');
    expect(lines[0]).toBe('src/retry.ts:');
    expect(lines).toContain('  1: function computeBackoff');
    expect(lines).toContain('  2: method RetryPolicy.shouldRetry');
  });

  it('fits the token budget', async () => {
    const small = await index.repoMap(undefined, 30);
    expect(small.length).toBeLessThanOrEqual(30 * 4);
    expect(small.length).toBeGreaterThan(0);
    expect((await index.repoMap(undefined, 5000)).length).toBeGreaterThan(small.length);
  });

  it('without a question ranks widely mentioned definitions first', async () => {
    expect((await index.repoMap(undefined, 5000)).split('\n')[0]).toBe('src/retry.ts:');
  });
});
