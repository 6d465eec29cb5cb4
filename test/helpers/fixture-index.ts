import path from 'node:path';
import { IndexConfigSchema } from '../../protocol/config.js';
import { WorkspaceIndex } from '../../server/index/workspace-index.js';
import { makeStateHome, makeTree, removeTree } from './fixture-tree.js';

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
