import type { SqliteDatabase } from './index-database.js';
import type { SearchSource } from './search-text.js';
import { startRanking } from './text-ranking.js';

export interface RepoMapOptions {
  question?: string;
  /** Approximate token budget (4 characters a token). */
  tokenBudget: number;
}

interface MapSymbol {
  name: string;
  kind: string;
  container: string | null;
  line: number;
}

const FILES_CONSIDERED = 60;
const SYMBOLS_PER_FILE = 12;
const CHARS_PER_TOKEN = 4;

/**
 * Files to show, best first: ranked for the question, or by how widely their symbols are mentioned; with the
 * symbols of every file that can be shown, read before the ranking's scans are awaited (see `startRanking`: a
 * session's view of the index is gone by then).
 */
async function orderedFiles(db: SqliteDatabase, readSource: (path: string) => SearchSource | null, question: string | undefined): Promise<{ paths: string[]; symbols: Map<string, MapSymbol[]> }> {
  const symbolsOf = db.prepare(
    `SELECT s.name, s.kind, s.container, s.start_line + 1 AS line, coalesce(v.doc, 0) AS mentions
     FROM symbols s JOIN files f ON f.id = s.file_id
     LEFT JOIN file_words_vocabulary v ON v.term = lower(s.name)
     WHERE f.path = ? ORDER BY mentions DESC, s.start_line LIMIT ${SYMBOLS_PER_FILE}`,
  );
  const symbolsFor = (paths: string[]) => new Map(paths.map((path) => [path, symbolsOf.all(path) as MapSymbol[]]));
  if (question?.trim()) {
    const ranking = startRanking(db, readSource, question, FILES_CONSIDERED);
    const symbols = symbolsFor(ranking.candidates);
    return { paths: (await ranking.finish()).map((file) => file.path), symbols };
  }
  // No question: files whose defined names appear in the most other files come first.
  const paths = db.prepare(
    `SELECT f.path FROM symbols s JOIN files f ON f.id = s.file_id
     LEFT JOIN file_words_vocabulary v ON v.term = lower(s.name)
     GROUP BY f.id ORDER BY sum(coalesce(v.doc, 0)) DESC, f.path LIMIT ${FILES_CONSIDERED}`,
  ).pluck().all() as string[];
  return { paths, symbols: symbolsFor(paths) };
}

/**
 * A compact outline of the workspace's most relevant files and their most referenced definitions, fitted to a
 * token budget: the agent's first view of a large repository.
 */
export async function buildRepoMap(db: SqliteDatabase, readSource: (path: string) => SearchSource | null, options: RepoMapOptions): Promise<string> {
  const files = await orderedFiles(db, readSource, options.question);
  const budget = options.tokenBudget * CHARS_PER_TOKEN;
  const blocks: string[] = [];
  let used = 0;
  for (const path of files.paths) {
    const symbols = [...files.symbols.get(path)!].sort((a, b) => a.line - b.line);
    const lines = [`${path}:`, ...symbols.map((symbol) =>
      `  ${symbol.line}: ${symbol.kind} ${symbol.container ? `${symbol.container}.` : ''}${symbol.name}`)];
    let block = lines.join('\n');
    if (used + block.length + 1 > budget) {
      block = lines[0];
      if (used + block.length + 1 > budget) break;
    }
    blocks.push(block);
    used += block.length + 1;
  }
  return blocks.join('\n');
}
