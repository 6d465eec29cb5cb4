import type { SqliteDatabase } from './index-database.js';
import { rankFiles } from './text-ranking.js';

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

/** Files to show, best first: ranked for the question, or by how widely their symbols are mentioned. */
function orderedFiles(db: SqliteDatabase, readText: (path: string) => string | null, question: string | undefined): string[] {
  if (question?.trim()) return rankFiles(db, readText, question, FILES_CONSIDERED).map((file) => file.path);
  // No question: files whose defined names appear in the most other files come first.
  return db.prepare(
    `SELECT f.path FROM symbols s JOIN files f ON f.id = s.file_id
     LEFT JOIN file_words_vocabulary v ON v.term = lower(s.name)
     GROUP BY f.id ORDER BY sum(coalesce(v.doc, 0)) DESC, f.path LIMIT ${FILES_CONSIDERED}`,
  ).pluck().all() as string[];
}

/**
 * A compact outline of the workspace's most relevant files and their most referenced definitions, fitted to a
 * token budget: the agent's first view of a large repository.
 */
export function buildRepoMap(db: SqliteDatabase, readText: (path: string) => string | null, options: RepoMapOptions): string {
  const symbolsOf = db.prepare(
    `SELECT s.name, s.kind, s.container, s.start_line + 1 AS line, coalesce(v.doc, 0) AS mentions
     FROM symbols s JOIN files f ON f.id = s.file_id
     LEFT JOIN file_words_vocabulary v ON v.term = lower(s.name)
     WHERE f.path = ? ORDER BY mentions DESC, s.start_line LIMIT ${SYMBOLS_PER_FILE}`,
  );
  const budget = options.tokenBudget * CHARS_PER_TOKEN;
  const blocks: string[] = [];
  let used = 0;
  for (const path of orderedFiles(db, readText, options.question)) {
    const symbols = (symbolsOf.all(path) as MapSymbol[]).sort((a, b) => a.line - b.line);
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
