import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IndexConfigSchema } from '../../protocol/config.js';
import { WorkspaceIndex } from '../../server/index/workspace-index.js';
import { makeStateHome, makeTree, removeTree } from '../helpers/fixture-tree.js';

let root: string;
let state: string;
let index: WorkspaceIndex;

beforeAll(async () => {
  const files: Record<string, string> = {
    'src/retry.ts': 'export function computeBackoff(attempt: number) { return 2 ** attempt; }\nexport class RetryPolicy { shouldRetry(status: number) { return status === 429; } }\n',
    'src/client.ts': 'import { RetryPolicy, computeBackoff } from "./retry";\nexport class HttpClient { policy = new RetryPolicy(); send() { return computeBackoff(1); } }\n',
    'src/format.ts': 'export function formatDate(d: Date) { return d.toISOString(); }\n',
  };
  for (let i = 0; i < 30; i++) files[`src/filler${i}.ts`] = `export function filler${i}() { return ${i}; }\n`;
  root = makeTree(files, { git: true });
  state = makeStateHome();
  index = WorkspaceIndex.open(root, IndexConfigSchema.parse({}), path.join(state, 'index.db'));
  await index.sync();
});
afterAll(async () => {
  await index.close();
  removeTree(root, state);
});

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
