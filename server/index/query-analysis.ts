import { wordsOfIdentifier } from './identifier-words.js';

/**
 * What a bug report says about where the code is: its words with how often it repeats them, the identifiers it
 * quotes as code, the files and modules it names, and its traceback frames.
 *
 * Every step is a single pass over the text (a hand-rolled tokenizer; the only regexes run on single tokens of
 * bounded length), and at most MAX_ANALYSED_CHARS of a question are read, half from its head and half from its
 * tail: a pasted 10 MB log costs the same as 32 KB of it, and the question (first) and the failing frame (last)
 * are kept.
 */
export interface QuestionAnalysis {
  /** Lower-case words (split identifiers, stop words dropped) → how many times the question uses them. */
  termCounts: Map<string, number>;
  /** Identifiers as written (case kept) that the question shows as code: in backticks, code blocks, tracebacks,
   * `>>>` examples, calls, or shaped like code (camelCase, snake_case, dotted.names). */
  identifiers: Map<string, number>;
  /** Path-like mentions (`src/a/b.py`, `b.py`), and dotted modules turned into paths (`pkg.mod` → `pkg/mod`). */
  paths: string[];
  /** Files of traceback frames (`File "…/pkg/mod.py", line 3`, `at fn (src/x.ts:3:4)`, `x.go:12`), in order. */
  frames: string[];
  /** Words of the title (the first non-empty line). */
  titleTerms: Set<string>;
  /** Whether the report is about tests themselves (then test files are not demoted): its title says so. */
  aboutTests: boolean;
  /**
   * Quoted text that is more than one identifier (`"Expected key to be a string"`, `` `type_ is NoneType` ``,
   * `'date-time'`), as written: a message or expression a file may hold literally. At most MAX_PHRASES.
   */
  phrases: string[];
}

export const MAX_ANALYSED_CHARS = 32 * 1024;
/** Distinct words of a question whose rarity is looked up (one index lookup each). */
const MAX_DISTINCT_TERMS = 2000;
/** Quoted phrases kept, and their length in characters (shorter ones match anything, longer ones are pasted output). */
const MAX_PHRASES = 20;
const MIN_PHRASE_CHARS = 6;
const MAX_PHRASE_CHARS = 120;

/** Tokens longer than this are not code a person quotes (base64, minified lines): skipped. */
const MAX_TOKEN_CHARS = 200;

/** Words too common in questions to say anything about where code lives. */
const STOP_WORDS = new Set(
  ('a an and are as at be been but by can could do does doesn did didn for from had has have how if in into is it its '
    + 'not of on or should so some than that the their then there these this those to too up was we were what when '
    + 'where which while who why will with would you your i me my our us get gets got use used using also just only '
    + 'after before instead because way like any all no yes very more most other same such out over one two new '
    + 'now fix fixes fixed issue bug error pr https http www com github see here thanks')
    .split(' '),
);

/**
 * Words about the report or the change rather than the code: how a bug report or pull request talks ("steps to
 * reproduce", "expected behaviour", "added a regression test", "address review comments"). Rare in code, so
 * their rarity would make them the heaviest words of a report while naming no file; the ranking drops them
 * (text-ranking.ts, signal `processWords`).
 */
export const PROCESS_WORDS: ReadonlySet<string> = new Set(
  ('added adding addressed addresses comments reviewed reviewer regression lint linting typo typos changelog '
    + 'reverts reverted squash rebase rebased prepared assistance nit nits reproduce reproduced reproduction '
    + 'reproducible expected actual behaviour behavior steps minimal workaround facepalm fixing')
    .split(' '),
);

/** Keywords and builtins that look like identifiers in a code span but name nothing in the repository. */
const CODE_NOISE = new Set(
  ('self this cls None True False null undefined true false return import from def class function const let var '
    + 'print len str int float bool dict list set tuple type object Error Exception Traceback File line in if else')
    .split(' '),
);

const SOURCE_EXTENSION = /\.(?:py|pyi|pyx|ts|tsx|mts|cts|js|jsx|mjs|cjs|go|rs|c|h|cc|cpp|hpp|java|kt|rb|php|cs|swift|scala|lua|sh|toml|cfg|ini|ya?ml|json)$/;
const CODE_SHAPED = /^(?:[a-z]+[A-Z_]\w*|[A-Z][a-z0-9]+[A-Z]\w*|_\w+|\w+_\w*|[A-Z][A-Z0-9]*_[A-Z0-9_]+)$/;
const TRACEBACK_FILE = /^"?([^"]+)"?,?$/;

/** Splits text into whitespace-separated tokens, one pass; calls `visit` with each token and its line's kind. */
function scanTokens(text: string, visit: (token: string, code: boolean) => void): void {
  let inFence = false;
  let lineStart = 0;
  while (lineStart <= text.length) {
    let lineEnd = text.indexOf('\n', lineStart);
    if (lineEnd < 0) lineEnd = text.length;
    const line = text.slice(lineStart, lineEnd);
    const trimmed = line.trimStart();
    if (trimmed.startsWith('```')) inFence = !inFence;
    const codeLine = inFence || trimmed.startsWith('>>>') || trimmed.startsWith('...') || line.startsWith('    ')
      || line.startsWith('\t') || trimmed.startsWith('File "') || trimmed.startsWith('at ');
    let inBackticks = false;
    let start = -1;
    for (let i = 0; i <= line.length; i++) {
      const code = i < line.length ? line.charCodeAt(i) : 32;
      const isSpace = code === 32 || code === 9 || code === 13;
      if (code === 96 /* ` */) {
        if (start >= 0) visit(line.slice(start, i), codeLine || inBackticks);
        start = -1;
        inBackticks = !inBackticks;
        continue;
      }
      if (isSpace) {
        if (start >= 0) visit(line.slice(start, i), codeLine || inBackticks);
        start = -1;
      } else if (start < 0) start = i;
    }
    lineStart = lineEnd + 1;
  }
}

/** The identifier-ish pieces of a token (`foo.bar(baz)` → foo, bar, baz), with the dotted whole if any. */
function identifierRuns(token: string): string[] {
  const runs: string[] = [];
  let start = -1;
  for (let i = 0; i <= token.length; i++) {
    const code = i < token.length ? token.charCodeAt(i) : 0;
    const word = (code >= 97 && code <= 122) || (code >= 65 && code <= 90) || (code >= 48 && code <= 57) || code === 95 || code === 36;
    if (word) {
      if (start < 0) start = i;
    } else if (start >= 0) {
      runs.push(token.slice(start, i));
      start = -1;
    }
  }
  return runs;
}

function add(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

/** A token shaped like a file path or a dotted module, as a repository-relative path suffix (no extension for modules). */
function pathOf(token: string): string | null {
  const cleaned = token.replace(/^[("'<[]+/, '').replace(/[)"'>\],;:]+$/, '').replace(/:\d+(?::\d+)?$/, '');
  if (cleaned.length < 3) return null;
  if (SOURCE_EXTENSION.test(cleaned)) return cleaned.replace(/^(?:\.\/|\/)/, '');
  // pkg.module.name → pkg/module/name: only with two or more dots' worth of lower-case module parts.
  if (/^[a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*){1,6}$/.test(cleaned) && !cleaned.startsWith('e.g')) return cleaned.replaceAll('.', '/');
  return null;
}

const QUOTES = new Set(['"', "'", '`']);

/**
 * The question's quoted phrases (see QuestionAnalysis.phrases): a quote opened after a non-word character and
 * closed on the same line; one pass over each line, each quote looking ahead at most MAX_PHRASE_CHARS.
 */
function quotedPhrases(text: string): string[] {
  const phrases = new Set<string>();
  for (const line of text.split('\n')) {
    let i = 0;
    while (i < line.length && phrases.size < MAX_PHRASES) {
      const quote = line[i];
      if (!QUOTES.has(quote) || (i > 0 && /\w/.test(line[i - 1]))) {
        i++;
        continue;
      }
      const close = line.indexOf(quote, i + 1);
      if (close < 0 || close - i - 1 > MAX_PHRASE_CHARS) {
        i++;
        continue;
      }
      const phrase = line.slice(i + 1, close);
      // A lone identifier is matched against definitions already (`identifiers`).
      if (phrase.trim().length >= MIN_PHRASE_CHARS && /[^\w$]/.test(phrase)) phrases.add(phrase);
      i = close + 1;
    }
  }
  return [...phrases];
}

export function analyseQuestion(question: string): QuestionAnalysis {
  const half = MAX_ANALYSED_CHARS / 2;
  const text = question.length > MAX_ANALYSED_CHARS ? `${question.slice(0, half)}\n${question.slice(-half)}` : question;
  const termCounts = new Map<string, number>();
  const identifiers = new Map<string, number>();
  const paths = new Set<string>();
  const frames: string[] = [];
  let previous = '';
  scanTokens(text, (raw, code) => {
    const token = raw.length > MAX_TOKEN_CHARS ? '' : raw;
    const before = previous;
    previous = token;
    // A link's words (host, owner, "pull") say nothing about the code.
    if (!token || token.includes('://')) return;
    // `File "/usr/lib/python3/site-packages/pkg/mod.py", line 12, in fn` — the token after `File`.
    if (before === 'File') {
      const file = TRACEBACK_FILE.exec(token)?.[1];
      if (file && SOURCE_EXTENSION.test(file)) frames.push(file.replace(/^\/+/, ''));
    }
    const mentioned = pathOf(token);
    if (mentioned) {
      paths.add(mentioned);
      if (/:\d+/.test(token) && SOURCE_EXTENSION.test(mentioned)) frames.push(mentioned);
    }
    const runs = identifierRuns(token);
    const called = token.includes('(');
    // A dot between words (`obj.attr`, `pkg.mod`) marks code; a sentence's final period does not.
    const dotted = /\w\.\w/.test(token);
    for (const run of runs) {
      for (const word of wordsOfIdentifier(run)) {
        if (!STOP_WORDS.has(word) && (termCounts.size < MAX_DISTINCT_TERMS || termCounts.has(word))) add(termCounts, word);
      }
      if (run.length < 3 || CODE_NOISE.has(run) || /^\d/.test(run)) continue;
      if (code || called || dotted || CODE_SHAPED.test(run)) add(identifiers, run);
    }
  });
  // Only the title (first line) decides: a report's body mentions tests in passing ("my tests fail", "added a unit
  // test"), which on bench/bug-reports.json turned test demotion off for six reports whose answer was library code.
  const title = text.trimStart().slice(0, 300).split('\n', 1)[0];
  const titleTerms = new Set<string>();
  scanTokens(title, (token) => {
    for (const run of identifierRuns(token)) for (const word of wordsOfIdentifier(run)) titleTerms.add(word);
  });
  const aboutTests = /\b(?:tests? (?:fails?|failing|suite)|flaky|unit tests?|test_\w+|conftest|pytest|the tests?\b)/i.test(title);
  return { termCounts, identifiers, paths: [...paths], frames, aboutTests, titleTerms, phrases: quotedPhrases(text) };
}
