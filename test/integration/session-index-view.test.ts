import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkspaceIndex } from '../../server/index/workspace-index.js';
import { indexedTree, type FixtureIndex } from '../helpers/fixture-index.js';

let fixture: FixtureIndex;
let index: WorkspaceIndex;
let root: string;

beforeAll(async () => {
  fixture = await indexedTree({
    'src/retry.ts': 'export function computeBackoff(attempt: number) { return 2 ** attempt; }\n',
    'src/client.ts': 'import { computeBackoff } from "./retry";\nexport function send() { return computeBackoff(1); }\n',
    'src/legacy.ts': 'export function legacyHelper() { return "legacy marker"; }\n',
    'node_modules/dep/index.js': 'module.exports = 1;\n',
  }, { git: true });
  ({ root, index } = fixture);
});
afterAll(() => fixture.close());

/** A session that renamed computeBackoff to backoffDelay, deleted legacy.ts and added a file. */
const changes = new Map<string, string | null>([
  ['src/retry.ts', 'export function backoffDelay(attempt: number) { return 2 ** attempt; }\n'],
  ['src/client.ts', 'import { backoffDelay } from "./retry";\nexport function send() { return backoffDelay(1); }\n'],
  ['src/legacy.ts', null],
  ['src/jitter.ts', 'export function addJitter(delay: number) { return delay * 1.1; }\n'],
  ['node_modules/dep/extra.js', 'function ignoredByTheIndex() {}\n'],
]);

describe('search inside a session sees the session', () => {
  it('finds the session\'s new names and text, and not what it renamed away or deleted', async () => {
    const view = await index.queryWithChanges(changes, (session) => ({
      renamed: session.searchSymbols('backoffDelay', 10).map((s) => `${s.path}:${s.name}`),
      old: session.searchSymbols('computeBackoff', 10).map((s) => `${s.path}:${s.name}`),
      added: session.searchSymbols('addJitter', 10).map((s) => `${s.path}:${s.name}`),
      deleted: session.searchSymbols('legacyHelper', 10),
      uses: session.search({ mode: 'literal', query: 'backoffDelay(', caseInsensitive: false, limit: 50 }),
      oldText: session.search({ mode: 'literal', query: 'computeBackoff', caseInsensitive: false, limit: 50 }),
      deletedText: session.search({ mode: 'literal', query: 'legacy marker', caseInsensitive: false, limit: 50 }),
      ignored: session.searchSymbols('ignoredByTheIndex', 10),
      map: session.repoMap('backoff delay jitter', 400),
    }));
    // Searches answer with promises (ranking scans off the event loop); their index reads ran inside the view.
    const [uses, oldText, deletedText, map] = await Promise.all([view.uses, view.oldText, view.deletedText, view.map]);
    expect(view.renamed).toEqual(['src/retry.ts:backoffDelay']);
    expect(view.old).toEqual([]);
    expect(view.added).toEqual(['src/jitter.ts:addJitter']);
    expect(view.deleted).toEqual([]);
    expect(uses).toMatchObject({ matches: [{ path: 'src/client.ts', line: 2 }, { path: 'src/retry.ts', line: 1 }] });
    expect(oldText).toMatchObject({ matches: [] });
    expect(deletedText).toMatchObject({ matches: [] });
    expect(view.ignored).toEqual([]); // a file the index excludes stays out, as it would on disk
    expect(map).toContain('backoffDelay');
    expect(map).not.toContain('legacy');
  });

  it('leaves the shared index as it was: editors and other sessions never see a session\'s changes', async () => {
    await index.queryWithChanges(changes, (session) => session.searchSymbols('backoffDelay', 10));
    expect(index.searchSymbols('computeBackoff', 10).map((s) => s.path)).toEqual(['src/retry.ts']);
    expect(index.searchSymbols('backoffDelay', 10)).toEqual([]);
    expect(index.searchSymbols('legacyHelper', 10).map((s) => s.path)).toEqual(['src/legacy.ts']);
    expect(index.searchSymbols('addJitter', 10)).toEqual([]);
    expect(index.integrityCheck()).toBe('ok');
    // And the index still takes the user's own edits while sessions query it.
    fs.writeFileSync(path.join(root, 'src/format.ts'), 'export function formatDate() { return 1; }\n');
    await index.updatePaths(['src/format.ts']);
    const [user, session] = [index.searchSymbols('formatDate', 10), await index.queryWithChanges(changes, (view) => view.searchSymbols('formatDate', 10))];
    expect(user.map((s) => s.path)).toEqual(['src/format.ts']);
    expect(session.map((s) => s.path)).toEqual(['src/format.ts']);
  });

  it('with no changes it is the index itself', async () => {
    expect(await index.queryWithChanges(new Map(), (view) => view.searchSymbols('computeBackoff', 10).length)).toBe(1);
  });
});
