import type { CliIndexResult } from '../../protocol/search.js';
import { noticeWhenBusy } from '../daemon/busy-notice.js';
import { meetDaemon } from '../daemon/daemon-build.js';
import { daemonPaths } from '../daemon/daemon-paths.js';
import { requestDaemon } from '../daemon/daemon-request.js';
import { CodeloopError } from '../errors.js';
import { formatBytes } from '../format-bytes.js';
import { resolveWorkspaceRoot } from '../workspace/workspace-root.js';

/** No daemon: index in this process (loading the index modules only now). */
async function indexInProcess(root: string, rebuild: boolean): Promise<CliIndexResult> {
  const { openIndexForCli, syncWithProgress } = await import('./open-index.js');
  const index = openIndexForCli(root, { rebuild });
  try {
    const summary = await syncWithProgress(index, 'indexing');
    return { summary, status: index.status(), problems: index.problems() };
  } finally {
    await index.close();
  }
}

/**
 * `codeloop index [DIR] [--rebuild] [--json]`: index (or re-validate) a tree and report what it holds. A running
 * daemon does it (and keeps watching the tree afterwards); a rebuild deletes the database, so it needs no daemon.
 */
export async function indexCommand(dir: string, options: { rebuild: boolean; json: boolean }): Promise<number> {
  const root = resolveWorkspaceRoot(dir);
  const paths = daemonPaths();
  // Counting from here: waiting for the daemon to say its build is waiting for the indexing too.
  const answeredNow = options.rebuild ? () => undefined : noticeWhenBusy(paths, 'the indexing');
  const met = await meetDaemon(paths);
  if (met.notice) process.stderr.write(`${met.notice}\n`);
  const socket = paths.socket;
  let answered: { result: CliIndexResult } | null = null;
  if (options.rebuild) {
    const daemonHasIt = await requestDaemon<{ workspaces: { root: string }[] }>(socket, 'codeloop/status', {});
    if (daemonHasIt?.result.workspaces.some((workspace) => workspace.root === root)) {
      throw new CodeloopError('invalidArgument', `the codeloop daemon has ${root} open; stop it first (codeloop daemon stop), then run codeloop index --rebuild`);
    }
  } else {
    answered = await requestDaemon<CliIndexResult>(socket, 'codeloop/cliIndex', { root }).finally(answeredNow);
  }
  const { summary, status, problems } = answered ? answered.result : await indexInProcess(root, options.rebuild);
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ ...summary, databasePath: status.databasePath, databaseBytes: status.databaseBytes, symbols: status.symbols })}\n`);
  } else {
    const seconds = (summary.durationMs / 1000).toFixed(2);
    process.stdout.write(
      `indexed ${summary.files} files (${formatBytes(summary.bytes)}) in ${seconds}s: `
      + `${summary.added} added, ${summary.updated} updated, ${summary.removed} removed, ${summary.unchanged} unchanged\n`
      + `skipped ${summary.skippedTooLarge} too large, ${summary.skippedBinary} binary, ${summary.unreadable.length} unreadable folders\n`
      + `${status.symbols} symbols; database ${formatBytes(status.databaseBytes)} at ${status.databasePath}\n`
      + problems.map((problem) => `${problem.severity}: ${problem.message}\n`).join(''),
    );
  }
  return 0;
}
