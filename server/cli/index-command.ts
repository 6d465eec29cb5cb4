import { formatBytes } from '../format-bytes.js';
import { openIndexForCli, syncWithProgress } from './open-index.js';

/** `codeloop index [DIR] [--rebuild] [--json]`: index (or re-validate) a tree and report what it holds. */
export async function indexCommand(dir: string, options: { rebuild: boolean; json: boolean }): Promise<number> {
  const index = openIndexForCli(dir, options);
  try {
    const summary = await syncWithProgress(index, 'indexing');
    const status = index.status();
    if (options.json) {
      process.stdout.write(`${JSON.stringify({ ...summary, databasePath: status.databasePath, databaseBytes: status.databaseBytes, symbols: status.symbols })}\n`);
    } else {
      const seconds = (summary.durationMs / 1000).toFixed(2);
      process.stdout.write(
        `indexed ${summary.files} files (${formatBytes(summary.bytes)}) in ${seconds}s: `
        + `${summary.added} added, ${summary.updated} updated, ${summary.removed} removed, ${summary.unchanged} unchanged\n`
        + `skipped ${summary.skippedTooLarge} too large, ${summary.skippedBinary} binary, ${summary.unreadable.length} unreadable folders\n`
        + `${status.symbols} symbols; database ${formatBytes(status.databaseBytes)} at ${status.databasePath}\n`
        + index.problems().map((problem) => `${problem.severity}: ${problem.message}\n`).join(''),
      );
    }
  } finally {
    await index.close();
  }
  return 0;
}
