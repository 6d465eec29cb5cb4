import { loadConfig } from '../config/load-config.js';
import { removeIndexDatabase } from '../index/index-database.js';
import type { SyncSummary } from '../index/index-writer.js';
import { defaultDatabasePath, WorkspaceIndex } from '../index/workspace-index.js';
import { resolveWorkspaceRoot } from '../workspace/workspace-root.js';
import { progressBar } from './cli-output.js';

/** Opens the index of a directory for a CLI command, optionally rebuilding it from scratch. */
export function openIndexForCli(dir: string, options: { rebuild?: boolean } = {}): WorkspaceIndex {
  const root = resolveWorkspaceRoot(dir);
  const config = loadConfig(root);
  if (options.rebuild) removeIndexDatabase(defaultDatabasePath(root, config.index));
  return WorkspaceIndex.open(root, config.index);
}

/** Re-validates (or first indexes) with a progress bar, saying first why when an older index is being rebuilt. */
export async function syncWithProgress(index: WorkspaceIndex, label: string): Promise<SyncSummary> {
  const note = index.rebuildNote();
  if (note) process.stderr.write(`codeloop: ${note}\n`);
  const bar = progressBar(label);
  try {
    return await index.sync((done, total) => bar.update(done, total));
  } finally {
    bar.finish();
  }
}
