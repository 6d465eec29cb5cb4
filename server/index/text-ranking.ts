import type { RankedFile } from '../../protocol/search.js';
import { yieldToLoop } from '../threads/yield-to-loop.js';
import type { SqliteDatabase } from './index-database.js';
import { bestWindow } from './best-window.js';
import { OFF_THREAD_CHARACTERS, scanLineTermsOffThread, type LineTerms, type ScannedText, type TokenCache } from './line-terms.js';
import { searchTextOf, type SearchSource } from './search-text.js';
import { splitIdentifier } from './identifier-words.js';
import { BINDING_KINDS } from './symbols/symbol-extractor.js';
import { analyseQuestion, PROCESS_WORDS, type QuestionAnalysis } from './query-analysis.js';
import { supersededPaths } from './superseded-paths.js';
import { raiseLinked, structureLinks } from './structure-ranking.js';
import { isAuxiliaryPath, isTestPath } from './test-paths.js';

/**
 * Signals of the ranker, each of which can be switched off alone to measure what it contributes
 * (`npm run bench:retrieval -- --ablate`; the numbers are in bench/RESULTS.md).
 */
export const RANKING_SIGNALS = [
  'termRepetition', 'titleWords', 'processWords', 'wordForms', 'identifiers', 'paths', 'frames', 'fileNames',
  'definitions', 'termCoverage', 'testDemotion', 'codeFirst', 'auxiliaryDemotion', 'lengthPrior', 'windowCoverage',
  'structure', 'supersededDemotion', 'quotedPhrases',
] as const;
export type RankingSignal = (typeof RANKING_SIGNALS)[number];

export interface RankingOptions {
  /** Signals left out (for ablation); all are on by default. */
  disabled?: readonly RankingSignal[];
}

/** Column weights for bm25(): a word in the path or a defined name says more than one in the body. */
const PATH_WEIGHT = 4;
const SYMBOL_WEIGHT = 3;
const BODY_WEIGHT = 1;
const BM25_CANDIDATES = 300;
/** Query words kept (the rarest): FTS cost grows with them, and common words only add noise. */
const MAX_TERMS = 48;
/** A word said this often counts this many times (more says little more). */
const MAX_REPEAT = 3;
/** Files whose definitions and term coverage are scored from their text (read from disk: the dominant cost of a query). */
const DEFINITION_CANDIDATES = 30;
const MAX_IDENTIFIERS = 60;
const MAX_PATH_MENTIONS = 20;
/** An identifier defined in more files than this names nothing in particular. */
const MAX_DEFINERS = 30;
/**
 * After scoring a file of at least this many lines (a 900 KB file has 12,000; scoring it takes 10–30 ms) the
 * ranking lets the event loop serve other editors before the next file.
 */
const YIELD_AFTER_LINES = 2000;
/** The best files whose structural links (imports either way, a Go package) are followed. */
const STRUCTURE_SOURCES = 1;
/** A quoted phrase held by more leading files than this names none of them. */
const MAX_PHRASE_HOLDERS = 3;

/** Weights of the signals, on a scale where the best file's word score is 1 (tuned on bench/bug-reports.json). */
const WEIGHTS = {
  identifier: 0.8,
  path: 1.2,
  frame: 0.8,
  definition: 0.8,
  testFactor: 0.3,
  nonCodeFactor: 0.4,
  auxiliaryFactor: 0.5,
  /** A file far longer than the candidates' median gains up to this fraction, a far shorter one loses it. */
  length: 0.1,
  /** A word of the report's title counts this many times a word of its body. */
  title: 1.5,
  /** Added for a leading file holding every query word (the share of the query's weight it holds). */
  coverage: 1,
  /** Added for the file whose name's words are all among the heaviest query words (scaled to the best name). */
  fileName: 0.5,
  /** Added for a leading file holding a phrase the report quotes (scaled to the best such file). */
  phrase: 1,
  /** A file linked to one of the best files gains this fraction of its own score (never passing that file). */
  structure: 0.1,
};

/** BM25 parameters for definitions (the usual defaults). */
const K1 = 1.2;
const B = 0.75;

function quote(term: string): string {
  return `"${term.replaceAll('"', '""')}"`;
}

/** Inverse document frequency of each term, from the FTS vocabulary (terms no file has are dropped). */
function inverseDocumentFrequencies(db: SqliteDatabase, terms: Iterable<string>): Map<string, number> {
  const fileCount = (db.prepare('SELECT count(*) FROM files').pluck().get() as number) || 1;
  const lookup = db.prepare('SELECT doc FROM file_words_vocabulary WHERE term = ?').pluck();
  const weights = new Map<string, number>();
  for (const term of terms) {
    const documents = (lookup.get(term) as number | undefined) ?? 0;
    if (documents) weights.set(term, Math.log(1 + (fileCount - documents + 0.5) / (documents + 0.5)));
  }
  return weights;
}

/**
 * Other forms of a word that code is likely to use: a report says "evicts", "validators", "parsing" where the code
 * has `evict`, `validator`, `parse`. Suffix stripping only; a form counts only if some file has it.
 */
function wordForms(word: string): string[] {
  if (word.length < 5 || /\d/.test(word)) return [];
  const forms: string[] = [];
  if (word.endsWith('ies')) forms.push(`${word.slice(0, -3)}y`);
  else if (word.endsWith('es')) forms.push(word.slice(0, -2), word.slice(0, -1));
  else if (word.endsWith('s') && !word.endsWith('ss')) forms.push(word.slice(0, -1));
  else if (word.endsWith('ed')) forms.push(word.slice(0, -2), word.slice(0, -1));
  else if (word.endsWith('ing')) forms.push(word.slice(0, -3), `${word.slice(0, -3)}e`);
  else forms.push(`${word}s`);
  return forms.filter((form) => form.length >= 3);
}

/**
 * The question's words with the other forms of them, each form with the count of its source word, and for each form
 * its source word (the first one that yields it).
 */
function termCountsWithForms(analysis: QuestionAnalysis): { counts: Map<string, number>; sources: Map<string, string> } {
  const counts = new Map(analysis.termCounts);
  const sources = new Map<string, string>();
  for (const [word, count] of analysis.termCounts) {
    for (const form of wordForms(word)) {
      if (counts.has(form)) continue;
      counts.set(form, count);
      sources.set(form, word);
    }
  }
  return { counts, sources };
}

/**
 * Query weight of each kept term: its rarity, times how often the question repeats it (capped), times WEIGHTS.title
 * for a word of the title (a pull request's or issue's title names the problem; its body adds "add a test",
 * "remove comma to placate black"). A form the question did not use weighs no more than the word it came from:
 * "reshape" in a report must not turn into a heavier "reshapes" because few files happen to say that (it
 * outweighed every word of the report on bench/bug-reports.json); a form stands on its own rarity only when the
 * index lacks the source word. (The file BM25 keeps its own rarity for such a form: leaving rarer forms out of it
 * was measured and cost 3 points of Acc@3 and 1.5 of Acc@5.)
 */
function termWeights(db: SqliteDatabase, analysis: QuestionAnalysis, sources: Map<string, string>, repetition: boolean, title: boolean): Map<string, number> {
  const idf = inverseDocumentFrequencies(db, analysis.termCounts.keys());
  const weighted = [...idf].map(([term, rarity]) => {
    const count = Math.min(MAX_REPEAT, analysis.termCounts.get(term) ?? 1);
    const source = sources.get(term);
    const sourceRarity = source === undefined ? undefined : idf.get(source);
    const inTitle = title && analysis.titleTerms.has(source ?? term);
    return [term, Math.min(rarity, sourceRarity ?? rarity) * (repetition ? 1 + Math.log(count) : 1) * (inTitle ? WEIGHTS.title : 1)] as const;
  });
  return new Map(weighted.sort((a, b) => b[1] - a[1]).slice(0, MAX_TERMS));
}

/** A file row as the ranking reads it from the index. */
interface FileRow {
  id: number;
  path: string;
  language: string | null;
  /** Bytes. */
  size: number;
}

interface Candidate extends FileRow {
  words: number;
  identifiers: number;
  paths: number;
  definitions: number;
  /** Share of the query's weight whose words the file's text holds (leading files only). */
  coverage: number;
  /** How much of the file's name the query's words make up, scaled to the best candidate's. */
  name: number;
  /** The quoted phrases the file's text holds literally, each weighed by how few leaders hold it (leaders only). */
  phrases: number;
  /** The score after structure raised the file (it is linked to a better one); unset when not raised. */
  final?: number;
  /** The file's text (null: gone or not text); unset while only its bytes are held. */
  text?: string | null;
  /** A large file's bytes as read from disk, decoded where it is scanned (off the event loop). */
  bytes?: Buffer;
}

function candidateOf(scores: Map<string, Candidate>, file: FileRow): Candidate {
  let candidate = scores.get(file.path);
  if (!candidate) {
    candidate = { id: file.id, path: file.path, language: file.language, size: file.size, words: 0, identifiers: 0, paths: 0, definitions: 0, coverage: 0, name: 0, phrases: 0 };
    scores.set(file.path, candidate);
  }
  return candidate;
}

/** Files for the question's words: FTS5 BM25 over path, defined names and body; a repeated word is repeated in the query. */
function wordCandidates(db: SqliteDatabase, weights: Map<string, number>, counts: Map<string, number>, repetition: boolean, scores: Map<string, Candidate>): void {
  if (!weights.size) return;
  const phrases = [...weights.keys()].flatMap((term) =>
    Array<string>(repetition ? Math.min(MAX_REPEAT, counts.get(term) ?? 1) : 1).fill(quote(term)));
  const rows = db.prepare(
    `SELECT f.id, f.path, f.language, f.size, -bm25(file_words, ${PATH_WEIGHT}, ${SYMBOL_WEIGHT}, ${BODY_WEIGHT}) AS score
     FROM file_words JOIN files f ON f.id = file_words.rowid
     WHERE file_words MATCH ? ORDER BY rank LIMIT ${BM25_CANDIDATES}`,
  ).all(phrases.join(' OR ')) as (FileRow & { score: number })[];
  const top = Math.max(1e-9, ...rows.map((row) => row.score));
  for (const row of rows) candidateOf(scores, row).words = row.score / top;
}

/** Files defining the identifiers the question quotes as code, exactly as written; rarer names weigh more. */
function identifierCandidates(db: SqliteDatabase, analysis: QuestionAnalysis, scores: Map<string, Candidate>): void {
  // The length first: the symbols' name index leads with it (index-database.ts).
  const definers = db.prepare(
    `SELECT DISTINCT f.id, f.path, f.language, f.size, s.name FROM symbols s JOIN files f ON f.id = s.file_id
     WHERE length(s.name) = length(:name) AND s.name = :name
       AND NOT (s.container IS NOT NULL AND s.kind IN (${[...BINDING_KINDS].map((kind) => `'${kind}'`).join(', ')}))
     LIMIT ${MAX_DEFINERS * 4}`,
  );
  const identifiers = [...analysis.identifiers].sort((a, b) => b[1] - a[1]).slice(0, MAX_IDENTIFIERS);
  const gains = new Map<string, { file: FileRow; gain: number }>();
  for (const [identifier, count] of identifiers) {
    // The symbols table compares names without case; a report's `Model` is not `model`.
    const rows = (definers.all({ name: identifier }) as (FileRow & { name: string })[])
      .filter((row) => row.name === identifier);
    const files = new Set(rows.map((row) => row.path));
    if (!files.size || files.size > MAX_DEFINERS) continue;
    const gain = Math.min(2, Math.sqrt(count)) / Math.sqrt(files.size);
    for (const row of rows) {
      if (!files.delete(row.path)) continue;
      const entry = gains.get(row.path) ?? { file: row, gain: 0 };
      entry.gain += gain;
      gains.set(row.path, entry);
    }
  }
  const top = Math.max(1, ...[...gains.values()].map((entry) => entry.gain));
  for (const { file, gain } of gains.values()) candidateOf(scores, file).identifiers = gain / top;
}

/**
 * Files the question names: a path or file name (`pkg/mod.py`, `mod.py`), a dotted module (`pkg.mod`), or a
 * traceback frame; a frame path from another machine matches by its longest in-repository suffix, and the deepest
 * in-repository frame counts most (that is where the failure surfaced).
 */
function pathCandidates(db: SqliteDatabase, analysis: QuestionAnalysis, frames: boolean, scores: Map<string, Candidate>): void {
  const byName = db.prepare(
    "SELECT id, path, language, size FROM files WHERE path = ? OR path LIKE ? ESCAPE '\\' LIMIT 200",
  );
  const resolve = (mention: string): FileRow[] => {
    const parts = mention.split('/').filter(Boolean);
    const hasExtension = /\.\w+$/.test(parts.at(-1) ?? '');
    const name = hasExtension ? parts.at(-1)! : `${parts.at(-1)}.`;
    const escaped = name.replace(/[\\%_]/g, '\\$&');
    const rows = [
      ...byName.all(name, `%/${escaped}${hasExtension ? '' : '%'}`) as FileRow[],
      ...(hasExtension ? [] : byName.all(`${parts.join('/')}/__init__.py`, `%/${parts.join('/').replace(/[\\%_]/g, '\\$&')}/__init__.py`) as FileRow[]),
    ];
    // Keep the files sharing the longest run of trailing components with the mention.
    let best = 0;
    let kept: typeof rows = [];
    for (const row of rows) {
      const fileParts = row.path.replace(/\/__init__\.py$/, '').replace(hasExtension ? /$^/ : /\.\w+$/, '').split('/');
      let shared = 0;
      while (shared < parts.length && shared < fileParts.length && fileParts[fileParts.length - 1 - shared] === parts[parts.length - 1 - shared]) shared++;
      if (shared === 0 || (!hasExtension && shared < Math.min(2, parts.length))) continue;
      if (shared > best) {
        best = shared;
        kept = [row];
      } else if (shared === best) kept.push(row);
    }
    return kept;
  };
  for (const mention of analysis.paths.slice(0, MAX_PATH_MENTIONS)) {
    // `ma.where`, `cmake.install`: a dotted name is often a module's attribute; with no file for the whole name,
    // the module before the last dot is the one meant.
    const module = /\.\w+$/.test(mention) || !mention.includes('/') ? null : mention.slice(0, mention.lastIndexOf('/'));
    let files = resolve(mention);
    if (!files.length && module && module.length >= 2) files = resolve(module);
    for (const file of files) candidateOf(scores, file).paths += 1 / files.length;
  }
  if (!frames) return;
  const resolvedFrames = analysis.frames.slice(-MAX_PATH_MENTIONS).map(resolve).filter((files) => files.length === 1);
  const deepest = resolvedFrames.at(-1)?.[0];
  if (deepest) candidateOf(scores, deepest).paths += WEIGHTS.frame / WEIGHTS.path;
}

/**
 * A file named for what the report talks about: "Fix reshape bug" and `dask/array/reshape.py`, "fish completion"
 * and `fish_completions.go`. Each candidate scores the summed weight of its name's words (split like identifiers;
 * a package's `__init__.py` is named by its folder) over the number of those words, so a name made only of heavy
 * query words wins; scaled so the best name scores 1. The path column of the file BM25 also holds these words, but
 * there they are diluted by the file's length.
 */
function nameScores(candidates: Iterable<Candidate>, weights: Map<string, number>): void {
  let top = 1e-9;
  const all = [...candidates];
  for (const candidate of all) {
    const name = candidate.path.replace(/\/__init__\.py$/, '').split('/').at(-1)!.replace(/\..*$/, '');
    const parts = new Set(splitIdentifier(name.replaceAll('-', '_')));
    let matched = 0;
    for (const part of parts) matched += weights.get(part) ?? 0;
    candidate.name = parts.size ? matched / parts.size : 0;
    top = Math.max(top, candidate.name);
  }
  for (const candidate of all) candidate.name /= top;
}

/**
 * Leading files holding a phrase the report quotes, as written: an error message, an option, an expression
 * (`scans[i].phrasesHeld` for leader i). A phrase held by one leader points at it; one held by more than
 * MAX_PHRASE_HOLDERS (`"utf-8"`, `', '`) by none. Scores are scaled so the best file scores 1.
 */
function phraseScores(leaders: Candidate[], phrases: string[], scans: (ScannedText | null)[]): void {
  const gains = new Map<Candidate, number>();
  for (let k = 0; k < phrases.length; k++) {
    const holders = leaders.filter((_, i) => scans[i]?.phrasesHeld?.[k]);
    if (!holders.length || holders.length > MAX_PHRASE_HOLDERS) continue;
    for (const holder of holders) gains.set(holder, (gains.get(holder) ?? 0) + 1 / holders.length);
  }
  const top = Math.max(1e-9, ...gains.values());
  for (const [candidate, gain] of gains) candidate.phrases = gain / top;
}

interface Definition {
  start: number;
  end: number;
}

/** The query's weighted terms with ids, and per candidate file the scan of where they occur. */
class QueryTerms {
  readonly ids = new Map<string, number>();
  readonly weightById: number[] = [];
  readonly identifiers: Set<string>;
  private readonly scans = new Map<string, Promise<ScannedText | null>>();
  private readonly tokens: TokenCache = new Map();

  /**
   * `coverage`: how windows are scored (see bestWindow); each scan also tells which of `phrases` its file holds
   * and, with `linkCandidates`, which of them it imports (structure-ranking.ts).
   */
  constructor(
    weights: Map<string, number>,
    identifiers: Map<string, number>,
    readonly coverage: boolean,
    private readonly phrases: readonly string[],
    private readonly linkCandidates: readonly string[] | null,
  ) {
    for (const [term, weight] of weights) {
      this.ids.set(term, this.weightById.length);
      this.weightById.push(weight);
    }
    this.identifiers = new Set([...identifiers.keys()].slice(0, MAX_IDENTIFIERS));
  }

  /**
   * The candidate's scan, once per query, from the text or bytes read before any await (`startRanking`); a large
   * file is decoded, scanned, and its best window found, off the event loop (line-terms.ts). Null when the file
   * could not be read as text.
   */
  scan(candidate: Candidate): Promise<ScannedText | null> {
    let scan = this.scans.get(candidate.path);
    if (!scan) {
      const request = {
        termIds: this.ids, identifiers: this.identifiers, window: { weights: this.weightById, coverage: this.coverage }, phrases: this.phrases,
        ...(this.linkCandidates ? { links: { path: candidate.path, candidates: this.linkCandidates } } : {}),
      };
      if (candidate.bytes) scan = scanLineTermsOffThread({ ...request, bytes: candidate.bytes }, this.tokens);
      else scan = candidate.text == null ? Promise.resolve(null) : scanLineTermsOffThread({ ...request, text: candidate.text }, this.tokens);
      // The bytes went to the scanning thread: nothing here reads them again.
      candidate.bytes = undefined;
      this.scans.set(candidate.path, scan);
    }
    return scan;
  }
}

/**
 * A file is as good as its best definition: BM25 of each definition's lines (functions, classes, methods — from
 * the symbols table) against the weighted query words; the file's score is the best one.
 */
function bestDefinitionScore(lines: LineTerms, definitions: Definition[], query: QueryTerms, averageLength: number): number {
  let best = 0;
  const counts = new Float64Array(query.weightById.length);
  for (const { start, end } of definitions) {
    counts.fill(0);
    let length = 0;
    const last = Math.min(end, lines.lineCount - 1);
    for (let line = start; line <= last; line++) {
      length += lines.lineWords[line];
      for (let k = lines.lineStarts[line]; k < lines.lineStarts[line + 1]; k++) counts[lines.termIds[k]]++;
    }
    let score = 0;
    const norm = K1 * (1 - B + B * length / averageLength);
    for (let id = 0; id < counts.length; id++) {
      if (counts[id]) score += query.weightById[id] * (counts[id] * (K1 + 1)) / (counts[id] + norm);
    }
    if (score > best) best = score;
  }
  return best;
}

/** The definitions of each leading candidate, read from the index (before any await: see `startRanking`). */
function definitionsOfLeaders(db: SqliteDatabase, leaders: Candidate[]): Definition[][] {
  const definitionsOf = db.prepare(
    "SELECT start_line AS start, end_line AS end FROM symbols WHERE file_id = ? AND kind IN ('function', 'method', 'class', 'constructor', 'struct', 'interface', 'enum', 'trait', 'module', 'type')",
  );
  return leaders.map((candidate) => {
    const definitions = definitionsOf.all(candidate.id) as Definition[];
    // A file without definitions (a script, module-level code) counts as one.
    return definitions.length ? definitions : [{ start: 0, end: Number.MAX_SAFE_INTEGER }];
  });
}

/**
 * The share of the query's weight whose words occur anywhere in the file. The file BM25 divides by the file's
 * length, so a 10,000-line module that holds every word of a report (esbuild's `js_parser.go`, mypy's
 * `checker.py`) ranks below short files holding two of them; this gives such a file back what it covers, without
 * rewarding repeats.
 */
function termCoverage(scan: LineTerms, query: QueryTerms): number {
  const present = new Uint8Array(query.weightById.length);
  for (const id of scan.termIds) present[id] = 1;
  let covered = 0;
  let total = 0;
  for (let id = 0; id < present.length; id++) {
    total += query.weightById[id];
    if (present[id]) covered += query.weightById[id];
  }
  return total ? covered / total : 0;
}

/** Scores the leading candidates from their scans: the best definition and the term coverage, each if asked. */
async function leaderScores(leaders: Candidate[], scans: (ScannedText | null)[], perFile: Definition[][], query: QueryTerms, signals: { definitions: boolean; coverage: boolean }): Promise<void> {
  if (signals.coverage) {
    scans.forEach((scan, i) => {
      if (scan) leaders[i].coverage = termCoverage(scan, query);
    });
  }
  if (signals.definitions) await definitionScores(leaders, perFile, scans, query);
}

/** Scores the best definition of the leading candidates, letting the event loop run between long files. */
async function definitionScores(leaders: Candidate[], perFile: Definition[][], scans: (LineTerms | null)[], query: QueryTerms): Promise<void> {
  let words = 0;
  let spans = 0;
  scans.forEach((scan, i) => {
    if (!scan) return;
    for (const { start, end } of perFile[i]) {
      spans++;
      for (let line = start; line <= Math.min(end, scan.lineCount - 1); line++) words += scan.lineWords[line];
    }
  });
  const averageLength = Math.max(20, words / Math.max(1, spans));
  const raw: number[] = [];
  for (const [i, scan] of scans.entries()) {
    raw.push(scan ? bestDefinitionScore(scan, perFile[i], query, averageLength) : 0);
    if (scan && scan.lineCount >= YIELD_AFTER_LINES) await yieldToLoop();
  }
  const top = Math.max(1e-9, ...raw);
  leaders.forEach((candidate, i) => {
    candidate.definitions = raw[i] / top;
  });
}

/**
 * Ranks files for a bug report or question. Signals (each measured in bench/RESULTS.md): BM25 over split words
 * of path, defined names and body, with repeated words and title words weighted up and words about the report
 * itself dropped; identifiers quoted as code matched exactly against definitions, weighted by rarity; files named
 * by path, module or traceback frame; files whose name is made of the query's words; BM25 of each file's best
 * definition; the share of the query's words a leading file holds; tests (unless the title is about tests), documentation/examples/scripts/vendored code and
 * non-code files demoted, and superseded copies (`v1/` beside the current module, `v3/` beside `v4/`); a bounded
 * prior for longer files; then structure: the files linked to the best one (imports either way, its Go package)
 * gain a little, never passing it (structure-ranking.ts). Two earlier kinds of structure were measured and
 * dropped (bench/RESULTS.md): raising the files the top hits import without that ceiling (cost 5 points of
 * Acc@1) and crediting the file a leading test file is named after (cost 1.5 points of Acc@5).
 * Cost: a handful of SQLite queries plus reading and scanning the ~30 leading files (most of a query's latency).
 */
export function rankFiles(
  db: SqliteDatabase,
  readSource: (relativePath: string) => SearchSource | null,
  question: string,
  limit: number,
  options: RankingOptions = {},
): Promise<RankedFile[]> {
  return startRanking(db, readSource, question, limit, options).finish();
}

/** A ranking whose index and file reads are done: `finish` scans and scores without touching either again. */
export interface StartedRanking {
  /** Every file the result can hold (the result is these, reordered and cut to the limit). */
  candidates: string[];
  finish(): Promise<RankedFile[]>;
}

/**
 * `rankFiles` in two steps. The first reads the index and the files, synchronously: a session's view of the
 * index (`queryWithChanges`) exists only until its caller returns, and another editor's query must never see
 * it. The second scans the leading files — large ones on the scanning thread, so a question over 1 MB files
 * holds no other editor — and scores them.
 */
export function startRanking(
  db: SqliteDatabase,
  readSource: (relativePath: string) => SearchSource | null,
  question: string,
  limit: number,
  options: RankingOptions = {},
): StartedRanking {
  const on = (signal: RankingSignal) => !options.disabled?.includes(signal);
  const analysis = analyseQuestion(question);
  if (!on('identifiers')) analysis.identifiers.clear();
  if (on('processWords')) for (const word of PROCESS_WORDS) analysis.termCounts.delete(word);
  let sources = new Map<string, string>();
  if (on('wordForms')) ({ counts: analysis.termCounts, sources } = termCountsWithForms(analysis));
  const weights = termWeights(db, analysis, sources, on('termRepetition'), on('titleWords'));
  const scores = new Map<string, Candidate>();
  wordCandidates(db, weights, analysis.termCounts, on('termRepetition'), scores);
  if (on('identifiers')) identifierCandidates(db, analysis, scores);
  if (on('paths')) pathCandidates(db, analysis, on('frames'), scores);

  if (on('fileNames')) nameScores(scores.values(), weights);
  // Read from the index now: `direct` is also called after the index view is gone (see startRanking).
  const isSuperseded = supersededPaths(db);
  const superseded = new Set(on('supersededDemotion') ? [...scores.keys()].filter(isSuperseded) : []);
  const medianSize = median([...scores.values()].map((candidate) => candidate.size));
  const demote = (candidate: Candidate) =>
    (on('testDemotion') && !analysis.aboutTests && isTestPath(candidate.path) ? WEIGHTS.testFactor : 1)
    * (on('codeFirst') && !isCode(candidate.language) ? WEIGHTS.nonCodeFactor : 1)
    * (on('auxiliaryDemotion') && isAuxiliaryPath(candidate.path) ? WEIGHTS.auxiliaryFactor : 1)
    * (superseded.has(candidate.path) ? WEIGHTS.auxiliaryFactor : 1)
    * (on('lengthPrior') ? lengthFactor(candidate.size, medianSize) : 1);
  const direct = (candidate: Candidate) => demote(candidate) * (candidate.words + WEIGHTS.identifier * candidate.identifiers
    + WEIGHTS.path * candidate.paths + WEIGHTS.definition * candidate.definitions + WEIGHTS.coverage * candidate.coverage
    + WEIGHTS.fileName * candidate.name + WEIGHTS.phrase * candidate.phrases);
  const final = (candidate: Candidate) => candidate.final ?? direct(candidate);
  const byScore = (score: (candidate: Candidate) => number) => (a: Candidate, b: Candidate) => score(b) - score(a) || a.path.localeCompare(b.path);

  const ranked = [...scores.values()].sort(byScore(direct));
  const signals = { definitions: on('definitions'), coverage: on('termCoverage') };
  const leaders = signals.definitions || signals.coverage ? ranked.slice(0, DEFINITION_CANDIDATES) : [];
  const leaderPaths = leaders.map((candidate) => candidate.path);
  const phrases = on('quotedPhrases') ? analysis.phrases : [];
  // Links only among the leaders: each has its text read, and the order cannot depend on the limit asked for.
  const query = new QueryTerms(weights, analysis.identifiers, on('windowCoverage'), phrases, on('structure') ? leaderPaths : null);
  const perFile = signals.definitions ? definitionsOfLeaders(db, leaders) : [];
  // Only leaders gain a definition or coverage score, so the result comes from the leaders and the first `limit`.
  const reachable = ranked.slice(0, Math.max(leaders.length, limit));
  for (const candidate of reachable) {
    const source = readSource(candidate.path);
    // A large file's bytes are decoded where it is scanned; the rest are decoded now.
    if (Buffer.isBuffer(source) && source.length >= OFF_THREAD_CHARACTERS) candidate.bytes = source;
    else candidate.text = source === null ? null : searchTextOf(source);
  }
  return {
    candidates: reachable.map((candidate) => candidate.path),
    async finish() {
      let links = new Map<string, Set<string>>();
      if (leaders.length) {
        const scans = await Promise.all(leaders.map((candidate) => query.scan(candidate)));
        phraseScores(leaders, phrases, scans);
        await leaderScores(leaders, scans, perFile, query, signals);
        ranked.sort(byScore(direct));
        if (on('structure')) links = structureLinks(leaders.map((candidate, i) => ({ path: candidate.path, imports: scans[i]?.imports ?? null })), leaderPaths);
      }
      if (links.size) {
        const raised = raiseLinked(ranked.map((candidate) => candidate.path), (file) => direct(scores.get(file)!), links, STRUCTURE_SOURCES, WEIGHTS.structure);
        for (const candidate of ranked) candidate.final = raised.get(candidate.path);
        ranked.sort(byScore(final));
      }
      const results = ranked.slice(0, limit);
      const scans = results.map((candidate) => query.scan(candidate));
      const files: RankedFile[] = [];
      for (const [i, candidate] of results.entries()) {
        const scan = await scans[i];
        const window = scan?.window ?? (scan && candidate.text ? bestWindow(candidate.text, scan, query.weightById, query.coverage) : { startLine: 1, endLine: 1, preview: '' });
        files.push({ path: candidate.path, score: Math.round(final(candidate) * 1000) / 1000, ...window });
        if (scan && scan.lineCount >= YIELD_AFTER_LINES) await yieldToLoop();
      }
      return files;
    },
  };
}

/**
 * Longer files hold more of a project's bugs (BugLocator's rVSM length prior, Zhou et al., ICSE 2012): a smooth,
 * bounded factor of the file's size against the candidates' median, so a word hit in a 5,000-line module is not
 * outweighed by the same hit in a 20-line shim just because BM25 normalises length.
 */
function lengthFactor(size: number, medianSize: number): number {
  return 1 + WEIGHTS.length * Math.tanh(Math.log(Math.max(1, size) / Math.max(1, medianSize)));
}

function median(values: number[]): number {
  const sorted = values.sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 1;
}

/** Languages whose files are programs (not prose, data or configuration). */
const PROSE_OR_DATA = new Set(['markdown', 'json', 'yaml', 'toml', 'html', 'css', 'scss', 'restructuredtext', 'plaintext', 'sql']);
function isCode(language: string | null): boolean {
  return language !== null && !PROSE_OR_DATA.has(language);
}
