import path from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { IndexConfigSchema } from '../../protocol/config.js';
import type { RankingSignal } from '../../server/index/text-ranking.js';
import { WorkspaceIndex } from '../../server/index/workspace-index.js';
import { makeStateHome, makeTree, removeTree } from './fixture-tree.js';
import { runCli } from './run-cli.js';

/** A fixture tree indexed (default config) into a real SQLite file in a private state folder. */
export interface FixtureIndex {
  root: string;
  state: string;
  index: WorkspaceIndex;
  /** Closes the index, then removes the tree and the state folder. */
  close(): Promise<void>;
}

/** Writes `files` into a fresh tree (a git repository when `git`), opens its index and waits for the first sync. */
export async function indexedTree(files: Record<string, string>, options: { git?: boolean } = {}): Promise<FixtureIndex> {
  const root = makeTree(files, options);
  const state = makeStateHome();
  const index = WorkspaceIndex.open(root, IndexConfigSchema.parse({}), path.join(state, 'index.db'));
  await index.sync();
  return {
    root, state, index,
    async close() {
      await index.close();
      removeTree(root, state);
    },
  };
}

/** A suite's ranked tree (see rankedTreeForSuite): the ranking in process, and what `codeloop search --text` prints. */
export interface RankedTree {
  /** The tree, once the suite's beforeAll has indexed it. */
  tree(): FixtureIndex;
  /** The paths `rankFiles` ranks for the question, best first (at most 10), with `disabled` signals switched off. */
  rank(question: string, disabled?: RankingSignal[]): Promise<string[]>;
  /** The files `codeloop search --text` prints for the question, in order (what the user sees). */
  searchText(question: string): string[];
}

/**
 * For a `describe` of ranking tests: indexes `files` before its tests — in process, and with `codeloop index`
 * into the tree's state folder for `searchText` — and removes everything after them.
 */
export function rankedTreeForSuite(files: Record<string, string>, options: { git?: boolean } = {}): RankedTree {
  let fixture: FixtureIndex;
  beforeAll(async () => {
    fixture = await indexedTree(files, options);
    const indexed = runCli(['index', '.'], { cwd: fixture.root, stateHome: fixture.state });
    expect(indexed.status, indexed.stderr).toBe(0);
  }, 60_000);
  afterAll(() => fixture.close());
  return {
    tree: () => fixture,
    rank: async (question, disabled = []) => (await fixture.index.rankFiles(question, 10, { disabled })).map((file) => file.path),
    searchText: (question) => {
      const result = runCli(['search', '--no-refresh', '--text', question], { cwd: fixture.root, stateHome: fixture.state });
      expect(result.status, result.stderr).toBe(0);
      return result.stdout.split('\n').filter(Boolean).map((line) => line.slice(0, line.indexOf(':')));
    },
  };
}
