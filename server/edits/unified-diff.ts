import { createTwoFilesPatch } from 'diff';
import type { ProposedFile } from '../../protocol/session-lifecycle.js';
import { WorkerThread } from '../threads/worker-thread.js';

/**
 * The files' changes as one unified diff (`a/` and `b/` prefixes, `/dev/null` for a created or deleted file,
 * three lines of context), from the `diff` package.
 */
export function unifiedDiff(files: ProposedFile[]): string {
  return files.map((file) => createTwoFilesPatch(
    file.before === null ? '/dev/null' : `a/${file.path}`,
    file.after === null ? '/dev/null' : `b/${file.path}`,
    file.before ?? '', file.after ?? '', '', '', { context: 3 },
  )).join('');
}

/**
 * Texts at least this long in total (characters, before and after) are diffed on the diffing thread: a line diff
 * of two 900 KB versions takes 40–100 ms, which every editor of the daemon would wait for; shorter ones cost
 * less than the trip to the thread.
 */
const OFF_THREAD_CHARACTERS = 64 * 1024;
const differ = new WorkerThread<ProposedFile[], string>(new URL('./unified-diff-worker.js', import.meta.url), unifiedDiff);

/** `unifiedDiff`, on the process's diffing thread when the files are large (the same text either way). */
export function unifiedDiffOffThread(files: ProposedFile[]): Promise<string> {
  const characters = files.reduce((sum, file) => sum + (file.before?.length ?? 0) + (file.after?.length ?? 0), 0);
  return characters < OFF_THREAD_CHARACTERS ? Promise.resolve(unifiedDiff(files)) : differ.run(files);
}
