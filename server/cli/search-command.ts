import path from 'node:path';
import { SearchParamsSchema, type SearchMode, type SearchResult } from '../../protocol/search.js';
import { CodeloopError } from '../errors.js';
import { encodeSearchText } from '../index/search-text.js';
import { openIndexForCli, syncWithProgress } from './open-index.js';

export interface SearchCommandOptions {
  mode: SearchMode;
  caseInsensitive: boolean;
  json: boolean;
  limit?: number;
  /** Skip the re-validation pass (the index may then miss changes made since it was last updated). */
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

/** `codeloop search`: ripgrep-like output; exit 0 with results, 1 with none (as rg does). */
export async function searchCommand(query: string, dir: string | undefined, options: SearchCommandOptions): Promise<number> {
  const parsed = SearchParamsSchema.safeParse({ query, mode: options.mode, caseInsensitive: options.caseInsensitive, limit: options.limit });
  if (!parsed.success) throw new CodeloopError('invalidArgument', parsed.error.issues[0].message);
  const index = openIndexForCli(dir ?? '.');
  try {
    if (index.isEmpty() || !options.noRefresh) await syncWithProgress(index, 'indexing');
    const result = index.search(parsed.data);
    if (options.json) {
      process.stdout.write(`${JSON.stringify(result)}\n`);
    } else {
      const displayPath = (rel: string) => (dir === undefined ? rel : path.join(dir, rel));
      const lines = formatResult(result, displayPath);
      // Lines hold the file's own bytes where it is not UTF-8: print those bytes, as rg does.
      if (lines.length) process.stdout.write(encodeSearchText(`${lines.join('\n')}\n`));
    }
    return resultCount(result) > 0 ? 0 : 1;
  } finally {
    await index.close();
  }
}
