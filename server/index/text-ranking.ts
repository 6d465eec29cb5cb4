import type { RankedFile } from '../../protocol/search.js';
import { distinctWords, wordsInOrder } from './identifier-words.js';
import type { SqliteDatabase } from './index-database.js';

/** Words too common in questions to say anything about where code lives. */
const STOP_WORDS = new Set(
  ('a an and are as at be been but by can could do does doesn did didn for from had has have how if in into is it its '
    + 'not of on or should so some than that the their then there these this those to too up was we were what when '
    + 'where which while who why will with would you your i me my our us get gets got use used using also just only '
    + 'after before instead because way like any all no yes very more most other same such out over one two new')
    .split(' '),
);

/** Column weights for bm25(): a word in the path or a defined name says more than one in the body. */
const PATH_WEIGHT = 4;
const SYMBOL_WEIGHT = 3;
const BODY_WEIGHT = 1;
const BM25_CANDIDATES = 200;
const WINDOW_LINES = 30;

/** Signals of the ranker that can be switched off one at a time (to measure what each contributes). */
export const RANKING_SIGNALS = ['identifiers', 'paths'] as const;
export type RankingSignal = (typeof RANKING_SIGNALS)[number];

export interface RankingOptions {
  /** Signals left out (for ablation); all are on by default. */
  disabled?: readonly RankingSignal[];
}

/** Paths or file names the question names (`src/client.ts`, `client.ts`). */
function mentionedPaths(question: string): string[] {
  return [...question.matchAll(/[\w./-]*\w\.[A-Za-z]{1,5}\b/g)].map((match) => match[0].replace(/^\.\//, ''));
}

/** Tokens that look like code, not prose: camelCase, snake_case, call syntax, backticks. */
function mentionedIdentifiers(question: string): string[] {
  const found = new Set<string>();
  for (const match of question.matchAll(/`([A-Za-z_$][\w$.]*)`|\b([A-Za-z_$][\w$]*)(?=\()|\b([a-z]+[A-Z_]\w*|[A-Z][a-z]+[A-Z]\w*|\w+_\w+)\b/g)) {
    const identifier = (match[1] ?? match[2] ?? match[3]).split('.').at(-1)!;
    if (identifier.length > 2) found.add(identifier);
  }
  return [...found];
}

export function questionTerms(question: string): string[] {
  return distinctWords(question).filter((word) => !STOP_WORDS.has(word));
}

function quote(term: string): string {
  return `"${term.replaceAll('"', '""')}"`;
}

/** Inverse document frequency of each term, from the FTS vocabulary. */
function inverseDocumentFrequencies(db: SqliteDatabase, terms: string[]): Map<string, number> {
  const fileCount = (db.prepare('SELECT count(*) FROM files').pluck().get() as number) || 1;
  const lookup = db.prepare('SELECT doc FROM file_words_vocabulary WHERE term = ?').pluck();
  return new Map(terms.map((term) => {
    const documents = (lookup.get(term) as number | undefined) ?? 0;
    return [term, Math.log(1 + (fileCount - documents + 0.5) / (documents + 0.5))];
  }));
}

/** The WINDOW_LINES-line window whose lines carry the most idf-weighted query terms. */
function bestWindow(text: string, weights: Map<string, number>): { startLine: number; endLine: number; preview: string } {
  const lines = text.split('\n');
  const lineScores = lines.map((line) => {
    let score = 0;
    for (const word of new Set(wordsInOrder(line))) score += weights.get(word) ?? 0;
    return score;
  });
  let best = 0;
  let bestStart = 0;
  let running = 0;
  for (let i = 0; i < lines.length; i++) {
    running += lineScores[i];
    if (i >= WINDOW_LINES) running -= lineScores[i - WINDOW_LINES];
    if (running > best) {
      best = running;
      bestStart = Math.max(0, i - WINDOW_LINES + 1);
    }
  }
  const endLine = Math.min(lines.length, bestStart + WINDOW_LINES);
  let previewLine = bestStart;
  for (let i = bestStart; i < endLine; i++) if (lineScores[i] > lineScores[previewLine]) previewLine = i;
  return { startLine: bestStart + 1, endLine, preview: lines[previewLine]?.trim().slice(0, 200) ?? '' };
}

/**
 * Ranks files for a natural-language question: BM25 over split identifiers (path, defined names, body),
 * boosted when the question names a file's path or an identifier the file defines.
 */
export function rankFiles(
  db: SqliteDatabase,
  readText: (relativePath: string) => string | null,
  question: string,
  limit: number,
  options: RankingOptions = {},
): RankedFile[] {
  const on = (signal: RankingSignal) => !options.disabled?.includes(signal);
  const terms = questionTerms(question);
  const scores = new Map<string, number>();
  const idByPath = new Map<string, number>();
  if (terms.length) {
    const rows = db.prepare(
      `SELECT f.id, f.path, -bm25(file_words, ${PATH_WEIGHT}, ${SYMBOL_WEIGHT}, ${BODY_WEIGHT}) AS score
       FROM file_words JOIN files f ON f.id = file_words.rowid
       WHERE file_words MATCH ? ORDER BY rank LIMIT ${BM25_CANDIDATES}`,
    ).all(terms.map(quote).join(' OR ')) as { id: number; path: string; score: number }[];
    for (const row of rows) {
      scores.set(row.path, row.score);
      idByPath.set(row.path, row.id);
    }
  }
  const topScore = Math.max(1, ...scores.values());
  // A named identifier defined in a file is the strongest hint; a named path is next to certain.
  const definers = db.prepare(
    'SELECT DISTINCT f.path FROM symbols s JOIN files f ON f.id = s.file_id WHERE s.name = ? LIMIT 20',
  ).pluck();
  for (const identifier of on('identifiers') ? mentionedIdentifiers(question) : []) {
    const paths = definers.all(identifier) as string[];
    for (const path of paths) scores.set(path, (scores.get(path) ?? 0) + topScore * (0.6 / Math.sqrt(paths.length)));
  }
  const pathRows = db.prepare("SELECT path FROM files WHERE path = ? OR path LIKE ? ESCAPE '\\' LIMIT 20").pluck();
  for (const mention of on('paths') ? mentionedPaths(question) : []) {
    const paths = pathRows.all(mention, `%/${mention.replace(/[\\%_]/g, '\\$&')}`) as string[];
    for (const path of paths) scores.set(path, (scores.get(path) ?? 0) + topScore / paths.length);
  }

  const ranked = [...scores.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, limit);
  const weights = inverseDocumentFrequencies(db, terms);
  return ranked.map(([path, score]) => {
    const text = readText(path);
    const window = text === null ? { startLine: 1, endLine: 1, preview: '' } : bestWindow(text, weights);
    return { path, score: Math.round(score * 1000) / 1000, ...window };
  });
}
