import path from 'node:path';
import type { SearchResult } from '../../protocol/search.js';
import { encodeSearchText } from '../index/search-text.js';

/** How `codeloop search` prints: `--json`, and the DIR argument as typed (paths are shown under it; none: relative). */
export interface SearchOutputOptions {
  json: boolean;
  displayDir?: string;
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

/**
 * What `codeloop search` prints for a result — the exact bytes for stdout (rg-style lines, or the result as JSON)
 * — and its exit code: 0 with results, 1 with none, as rg. One function for the Node CLI and for the daemon
 * answering the native client (`codeloop/cliSearchOutput`), so both print the same bytes.
 */
export function searchOutput(result: SearchResult, options: SearchOutputOptions): { bytes: Buffer; exitCode: 0 | 1 } {
  const exitCode = resultCount(result) > 0 ? 0 : 1;
  if (options.json) return { bytes: Buffer.from(`${JSON.stringify(result)}\n`), exitCode };
  const dir = options.displayDir;
  const lines = formatResult(result, (rel) => (dir === undefined ? rel : path.join(dir, rel)));
  // Lines hold the file's own bytes where it is not UTF-8: print those bytes, as rg does.
  return { bytes: lines.length ? encodeSearchText(`${lines.join('\n')}\n`) : Buffer.alloc(0), exitCode };
}
