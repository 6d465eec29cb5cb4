import type { SymbolInfo, SymbolKind } from '../../protocol/search.js';
import type { SqliteDatabase } from './index-database.js';

interface SymbolRow {
  name: string;
  kind: SymbolKind;
  container: string | null;
  path: string;
  startLine: number;
  startCharacter: number;
  endLine: number;
  endCharacter: number;
}

const SELECT_SYMBOLS = `SELECT s.name, s.kind, s.container, f.path, s.start_line AS startLine,
  s.start_character AS startCharacter, s.end_line AS endLine, s.end_character AS endCharacter
  FROM symbols s JOIN files f ON f.id = s.file_id`;

/** Rows a fuzzy scan looks at before ranking; bounds the cost on huge trees. */
const FUZZY_SCAN_LIMIT = 5000;
/**
 * Longest query matched as a subsequence (`%q%u%e%r%y%`): each character adds a wildcard SQLite tries at every
 * position of every name, and SQLite refuses long patterns outright ("LIKE or GLOB pattern too complex").
 * No name worth finding by its scattered letters is longer; longer queries still match by prefix and substring.
 */
const SUBSEQUENCE_QUERY_LIMIT = 64;

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, '\\$&');
}

/** Initials of camelCase / snake_case humps: `getFileOps` → `gfo`. */
function humps(name: string): string {
  return (name.match(/^[A-Za-z]|(?<=_)[A-Za-z]|[A-Z]/g) ?? []).join('').toLowerCase();
}

function isSubsequence(query: string, name: string): number | null {
  let gaps = 0;
  let at = -1;
  for (const char of query) {
    const next = name.indexOf(char, at + 1);
    if (next === -1) return null;
    gaps += next - at - 1;
    at = next;
  }
  return gaps;
}

const KIND_WEIGHT: Record<SymbolKind, number> = {
  constructor: 4, enumMember: 1, class: 6, interface: 6, struct: 6, trait: 6, function: 5, method: 4, enum: 4, type: 4, module: 3, namespace: 3,
  macro: 2, constant: 1, property: 0, field: 0, variable: 0,
};

/** The highest kind weight: a name's score is its score by name alone plus 0 to this. */
const MAX_KIND_WEIGHT = Math.max(...Object.values(KIND_WEIGHT));

/** {@link KIND_WEIGHT} in SQL, of the kind of the symbol `s`. */
const KIND_WEIGHT_SQL = `CASE s.kind ${Object.entries(KIND_WEIGHT).map(([kind, weight]) => `WHEN '${kind}' THEN ${weight}`).join(' ')} ELSE 0 END`;

/**
 * The names of one length that start with the query in any ASCII case (as LIKE matches) and can still make the
 * page: their score plus half a point a character (`points`: the tier of {@link scoreSymbolName} and the kind's
 * weight) at least `:atLeast`. Answered from the index on (length, name, kind) without reading a row. The name
 * range is given by bounds, not LIKE: a LIKE pattern the planner turns into a range makes SQLite prepare the
 * statement again whenever the pattern is bound, which is at every length (≈ 0.1 ms each).
 */
const prefixOfLengthSql = (bounded: boolean) => `SELECT id, name, kind FROM (SELECT s.rowid AS id, s.name, s.kind,
    (CASE WHEN s.name = :query COLLATE BINARY THEN 1000 WHEN length(s.name) = :queryLength THEN 900
      WHEN substr(s.name, 1, :queryLength) = :query COLLATE BINARY THEN 800 ELSE 700 END) + ${KIND_WEIGHT_SQL} AS points
  FROM symbols s WHERE length(s.name) = :length AND s.name >= :low ${bounded ? 'AND s.name < :high' : ''}
    AND substr(s.name, 1, :queryLength) = :query COLLATE NOCASE)
  WHERE points >= :atLeast`;

/** The statements of one index database, prepared at its first symbol search (preparing them cost ≈ 0.2 ms a query). */
function prepareStatements(db: SqliteDatabase) {
  return {
    prefixOfLength: db.prepare(prefixOfLengthSql(true)),
    prefixOfLengthUnbounded: db.prepare(prefixOfLengthSql(false)),
    /** The next name length in the table above the given one (null past the longest), one index seek. */
    nextLength: db.prepare('SELECT min(length(name)) FROM symbols WHERE length(name) > ?').pluck(),
    byIds: db.prepare(`${SELECT_SYMBOLS} WHERE s.rowid IN (SELECT value FROM json_each(?))`),
    fuzzy: db.prepare(`${SELECT_SYMBOLS} WHERE s.name LIKE ? ESCAPE '\\' LIMIT ${FUZZY_SCAN_LIMIT}`),
  };
}
const preparedStatements = new WeakMap<SqliteDatabase, ReturnType<typeof prepareStatements>>();
function statementsOf(db: SqliteDatabase): ReturnType<typeof prepareStatements> {
  let statements = preparedStatements.get(db);
  if (!statements) preparedStatements.set(db, (statements = prepareStatements(db)));
  return statements;
}

/**
 * A string above every name that starts with `text` in SQLite's NOCASE order (ASCII letters compared in lower
 * case), and not far above: the lower-cased text with its last character incremented (a character that has none
 * is dropped and the one before it incremented); null when every character is the last one Unicode has.
 */
function nocaseUpperBound(text: string): string | null {
  const characters = [...text.replace(/[A-Z]/g, (letter) => letter.toLowerCase())];
  while (characters.length) {
    let next = characters.pop()!.codePointAt(0)! + 1;
    if (next >= 0xd800 && next <= 0xdfff) next = 0xe000; // surrogates are not characters
    if (next <= 0x10ffff) return characters.join('') + String.fromCodePoint(next);
  }
  return null;
}

interface PrefixMatch {
  id: number;
  name: string;
  kind: SymbolKind;
}

/**
 * The names starting with the query that can be among the best `limit` (with those tied at the cut), found
 * without touching the others: a short prefix has thousands (`get`: 8,863 of the kernel's 2.9 M symbols, `g`
 * 68,341), and ranking them all cost 10–50 ms. A prefix match scores its tier (exact 1000, exact but for case
 * 900, prefix 800, prefix but for case 700) less half a point a character, plus its kind's weight; so the
 * database hands the matches over one name length at a time, shortest first, from the index on (length, name,
 * kind), and the walk stops at the first length whose best possible score falls below the `limit`-th best found.
 * Once the page is full, the database hands over only the names that can still reach that cut, so a length with
 * hundreds of matches (or a query typed in another case than most names) costs a scan of the index, not rows in JS.
 */
function bestPrefixMatches(db: SqliteDatabase, query: string, limit: number): SymbolRow[] {
  const statements = statementsOf(db);
  const high = nocaseUpperBound(query);
  const ofLength = high === null ? statements.prefixOfLengthUnbounded : statements.prefixOfLength;
  const { nextLength } = statements;
  // SQLite's length() counts characters; JS's counts UTF-16 units, at least as many (so a score is at most the bound).
  const queryLength = [...query].length;
  const params = { query, queryLength, low: query, ...(high === null ? {} : { high }) };
  const found: { id: number; score: number }[] = [];
  let cut = -Infinity;
  for (let length = nextLength.get(queryLength - 1) as number | null; length !== null; length = nextLength.get(length) as number | null) {
    // Exact matches (1000, 900) have the query's length; longer names score at most a prefix's 800.
    if (found.length >= limit && length > queryLength && 800 - length / 2 + MAX_KIND_WEIGHT < cut) break;
    const atLeast = Number.isFinite(cut) ? cut + length / 2 : -1e9;
    for (const match of ofLength.all({ ...params, length, atLeast }) as PrefixMatch[]) {
      const score = scoreSymbolName(query, match.name);
      if (score !== null) found.push({ id: match.id, score: score + KIND_WEIGHT[match.kind] });
    }
    if (found.length >= limit) cut = found.map((match) => match.score).sort((a, b) => b - a)[limit - 1];
  }
  const best = found.filter((match) => match.score >= cut).map((match) => match.id);
  return best.length ? statements.byIds.all(JSON.stringify(best)) as SymbolRow[] : [];
}

/** Higher is better; null when the name does not match at all. */
export function scoreSymbolName(query: string, name: string): number | null {
  const lowerQuery = query.toLowerCase();
  const lowerName = name.toLowerCase();
  let score: number;
  if (name === query) score = 1000;
  else if (lowerName === lowerQuery) score = 900;
  else if (name.startsWith(query)) score = 800;
  else if (lowerName.startsWith(lowerQuery)) score = 700;
  else if (humps(name).startsWith(lowerQuery)) score = 600;
  else if (lowerName.includes(lowerQuery)) score = 500 - lowerName.indexOf(lowerQuery);
  else {
    const gaps = isSubsequence(lowerQuery, lowerName);
    if (gaps === null) return null;
    score = 300 - gaps * 5;
  }
  return score - name.length * 0.5;
}

/** Symbol search by name: exact, prefix, camel-hump, substring and subsequence matches, best first. */
export function searchSymbols(db: SqliteDatabase, query: string, limit: number): SymbolInfo[] {
  const trimmed = query.trim();
  if (!trimmed) return [];
  const byKey = new Map<string, SymbolRow>();
  const collect = (rows: SymbolRow[]) => {
    for (const row of rows) byKey.set(`${row.path}:${row.startLine}:${row.startCharacter}:${row.name}`, row);
  };
  // Prefix matches come from the index on (length, name, kind); the fuzzy scan runs only when they do not fill the page.
  collect(bestPrefixMatches(db, trimmed, limit));
  if (byKey.size < limit) {
    const pattern = trimmed.length <= SUBSEQUENCE_QUERY_LIMIT ? `%${[...trimmed].map(escapeLike).join('%')}%` : `%${escapeLike(trimmed)}%`;
    collect(statementsOf(db).fuzzy.all(pattern) as SymbolRow[]);
  }
  const ranked: SymbolInfo[] = [];
  for (const row of byKey.values()) {
    const score = scoreSymbolName(trimmed, row.name);
    if (score !== null) ranked.push({ ...row, score: score + KIND_WEIGHT[row.kind] });
  }
  ranked.sort((a, b) => b.score! - a.score! || a.path.localeCompare(b.path) || a.startLine - b.startLine);
  return ranked.slice(0, limit);
}
