import type { SearchMode, SearchParams, SearchResult } from '../../protocol/search.js';
import { noticeWhenBusy } from '../daemon/busy-notice.js';
import { meetDaemon } from '../daemon/daemon-build.js';
import { daemonPaths } from '../daemon/daemon-paths.js';
import { requestDaemon } from '../daemon/daemon-request.js';
import { CodeloopError } from '../errors.js';
import { resolveWorkspaceRoot } from '../workspace/workspace-root.js';
import { searchOutput } from './search-output.js';

export interface SearchCommandOptions {
  mode: SearchMode;
  caseInsensitive: boolean;
  json: boolean;
  limit?: number;
  /** Without a daemon: skip the re-validation pass (the index may then miss changes made since its last update). */
  noRefresh: boolean;
}

/** No daemon: open the index in this process (loading the index modules only now), re-validate, search. */
async function searchInProcess(root: string, request: SearchParams, noRefresh: boolean): Promise<SearchResult> {
  const { SearchParamsSchema } = await import('../../protocol/search.js');
  const parsed = SearchParamsSchema.safeParse(request);
  if (!parsed.success) throw new CodeloopError('invalidArgument', parsed.error.issues[0].message);
  const { openIndexForCli, syncWithProgress } = await import('./open-index.js');
  const index = openIndexForCli(root);
  try {
    if (index.isEmpty() || !noRefresh) await syncWithProgress(index, 'indexing');
    return await index.search(parsed.data);
  } finally {
    await index.close();
  }
}

/**
 * `codeloop search`: ripgrep-like output; exit 0 with results, 1 with none (as rg does). A running daemon
 * answers (its watcher keeps the index fresh, so nothing is re-validated); otherwise this process does the work.
 */
export async function searchCommand(query: string, dir: string | undefined, options: SearchCommandOptions): Promise<number> {
  const root = resolveWorkspaceRoot(dir ?? '.');
  const request: SearchParams = { query, mode: options.mode, caseInsensitive: options.caseInsensitive, ...(options.limit ? { limit: options.limit } : {}) };
  const paths = daemonPaths();
  // Counting from here: waiting for the daemon to say its build is waiting for the search too.
  const answeredNow = noticeWhenBusy(paths, 'the search');
  const met = await meetDaemon(paths);
  if (met.notice) process.stderr.write(`${met.notice}\n`);
  const answered = await requestDaemon<SearchResult>(paths.socket, 'codeloop/cliSearch', { ...request, root }).finally(answeredNow);
  const result = answered ? answered.result : await searchInProcess(root, request, options.noRefresh);
  const { bytes, exitCode } = searchOutput(result, { json: options.json, ...(dir === undefined ? {} : { displayDir: dir }) });
  if (bytes.length) process.stdout.write(bytes);
  return exitCode;
}
