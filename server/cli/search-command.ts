import path from 'node:path';
import type { SearchMode, SearchParams, SearchResult } from '../../protocol/search.js';
import { noticeWhenBusy } from '../daemon/busy-notice.js';
import { daemonPaths } from '../daemon/daemon-paths.js';
import { requestDaemon } from '../daemon/daemon-request.js';
import { CodeloopError } from '../errors.js';
import { encodeSearchText } from '../index/search-text.js';
import { resolveWorkspaceRoot } from '../workspace/workspace-root.js';

export interface SearchCommandOptions {
  mode: SearchMode;
  caseInsensitive: boolean;
  json: boolean;
  limit?: number;
  /** Without a daemon: skip the re-validation pass (the index may then miss changes made since its last update). */
  noRefresh: boolean;
}

function formatResult(result: SearchResult, displayPath: (rel: string) => string): string[] {
  switch (result.mode) {
    case 'literal':
    case 'regex':
      return result.matches.map((match) => `${displayPath(match.path)}:${match.line}:${match.column}:${match.text}`);
    case 'symbol':
      return result.symbols.map((symbol) =>
        `${displayPath(symbol.path)}:${symbol.startLine + 1}:${symbol.startCharacter + 1}:${symbol.kind} ${symbol.container ? `${symbol.container}.` : ''}${symbol.name}`);
    case 'text':
      return result.files.map((file) =>
        `${displayPath(file.path)}:${file.startLine}-${file.endLine}: (${file.score.toFixed(2)}) ${file.preview}`);
  }
}

function resultCount(result: SearchResult): number {
  switch (result.mode) {
    case 'literal':
    case 'regex':
      return result.matches.length;
    case 'symbol':
      return result.symbols.length;
    case 'text':
      return result.files.length;
  }
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
  const answeredNow = noticeWhenBusy(paths, 'the search');
  const answered = await requestDaemon<SearchResult>(paths.socket, 'codeloop/cliSearch', { ...request, root }).finally(answeredNow);
  const result = answered ? answered.result : await searchInProcess(root, request, options.noRefresh);
  if (options.json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } else {
    const displayPath = (rel: string) => (dir === undefined ? rel : path.join(dir, rel));
    const lines = formatResult(result, displayPath);
    // Lines hold the file's own bytes where it is not UTF-8: print those bytes, as rg does.
    if (lines.length) process.stdout.write(encodeSearchText(`${lines.join('\n')}\n`));
  }
  return resultCount(result) > 0 ? 0 : 1;
}
