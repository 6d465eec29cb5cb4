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

/** Mentions (paths, identifiers) looked up per question: each costs a query, and a pasted log holds thousands. */
const MENTIONS_LIMIT = 100;
/** Longest run of path characters taken as a path mention; longer runs are data, not paths. */
const MENTION_LENGTH_LIMIT = 1024;
/** Distinct words of a question whose rarity is looked up, and how many of the rarest are searched. */
const CANDIDATE_TERMS = 2000;
const SEARCHED_TERMS = 48;
/**
 * Characters of a question that retrieval reads: the head and tail halves of a longer one. A pasted log's question
 * and its telling lines sit at its ends, and reading 10 MB of it held every editor's daemon for seconds.
 */
const QUESTION_CHARACTERS_READ = 64 * 1024;

/** The part of a question retrieval reads: all of it, or its head and tail. */
function retrievalText(question: string): string {
  if (question.length <= QUESTION_CHARACTERS_READ) return question;
  const half = QUESTION_CHARACTERS_READ / 2;
  return `${question.slice(0, half)}\n${question.slice(-half)}`;
}

/**
 * Runs of `[A-Za-z0-9_./-]` in first-seen order, each with the characters around it, in one linear pass: the
 * mention finders below test each bounded run instead of running a backtracking pattern over the whole question.
 */
function* wordRuns(question: string, isRunCharacter: (code: number) => boolean): Generator<{ run: string; before: string; after: string }> {
  let start = -1;
  for (let i = 0; i <= question.length; i++) {
    if (i < question.length && isRunCharacter(question.charCodeAt(i))) {
      if (start < 0) start = i;
      continue;
    }
    if (start < 0) continue;
    if (i - start <= MENTION_LENGTH_LIMIT) yield { run: question.slice(start, i), before: question[start - 1] ?? '', after: question[i] ?? '' };
    start = -1;
  }
}

const isWordCharacter = (code: number) => (code >= 97 && code <= 122) || (code >= 65 && code <= 90) || (code >= 48 && code <= 57) || code === 95;
const isPathCharacter = (code: number) => isWordCharacter(code) || code === 46 || code === 47 || code === 45; // . / -
const isIdentifierCharacter = (code: number) => isWordCharacter(code) || code === 36; // $

/** Paths or file names the question names (`src/client.ts`, `client.ts`): a run ending in `name.ext`. */
function mentionedPaths(question: string): string[] {
  const found = new Set<string>();
  for (const { run } of wordRuns(question, isPathCharacter)) {
    let end = run.length;
    while (end > 0 && !isWordCharacter(run.charCodeAt(end - 1))) end--; // a sentence's full stop is not part of it
    const path = run.slice(run.startsWith('./') ? 2 : 0, end);
    const dot = path.lastIndexOf('.');
    if (dot < 1 || !/^[A-Za-z]{1,5}$/.test(path.slice(dot + 1)) || !isWordCharacter(path.charCodeAt(dot - 1))) continue;
    found.add(path);
    if (found.size >= MENTIONS_LIMIT) break;
  }
  return [...found];
}

/** camelCase, PascalCase with a second hump, or snake_case: shapes of code, not prose. */
function looksLikeCode(word: string): boolean {
  const underscore = word.indexOf('_', 1);
  return /^[a-z]+[A-Z_]/.test(word) || /^[A-Z][a-z]+[A-Z]/.test(word) || (underscore > 0 && underscore < word.length - 1);
}

/** Tokens that look like code, not prose: camelCase, snake_case, call syntax (`name(`), backticks. */
function mentionedIdentifiers(question: string): string[] {
  const found = new Set<string>();
  for (const { run, before, after } of wordRuns(question, isIdentifierCharacter)) {
    if (run.length <= 2 || run.length > 128 || /^[0-9]/.test(run)) continue;
    const quoted = before === '`' || after === '`' || (before === '.' && after === '`');
    if (quoted || after === '(' || looksLikeCode(run)) found.add(run);
    if (found.size >= MENTIONS_LIMIT) break;
  }
  return [...found];
}

/** The question's words minus stop words, first seen first. */
export function questionTerms(question: string): string[] {
  return distinctWords(question).filter((word) => !STOP_WORDS.has(word));
}

/**
 * The terms a question is searched by: all of a short question's, or the SEARCHED_TERMS rarest in the index of a
 * long one's (a pasted log): its identifiers carry the meaning, and a MATCH of thousands of terms would not finish.
 */
function searchTerms(db: SqliteDatabase, question: string): string[] {
  const terms = questionTerms(question);
  if (terms.length <= SEARCHED_TERMS) return terms;
  const documents = db.prepare('SELECT doc FROM file_words_vocabulary WHERE term = ?').pluck();
  return terms.slice(0, CANDIDATE_TERMS)
    .map((term, order) => ({ term, order, documents: (documents.get(term) as number | undefined) ?? 0 }))
    .filter((candidate) => candidate.documents > 0)
    .sort((a, b) => a.documents - b.documents || a.order - b.order)
    .slice(0, SEARCHED_TERMS)
    .sort((a, b) => a.order - b.order)
    .map((candidate) => candidate.term);
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
): RankedFile[] {
  question = retrievalText(question);
  const terms = searchTerms(db, question);
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
  for (const identifier of mentionedIdentifiers(question)) {
    const paths = definers.all(identifier) as string[];
    for (const path of paths) scores.set(path, (scores.get(path) ?? 0) + topScore * (0.6 / Math.sqrt(paths.length)));
  }
  const pathRows = db.prepare("SELECT path FROM files WHERE path = ? OR path LIKE ? ESCAPE '\\' LIMIT 20").pluck();
  for (const mention of mentionedPaths(question)) {
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
