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
  // Prefix matches use the NOCASE index; the fuzzy scan runs only when they do not fill the page.
  collect(db.prepare(`${SELECT_SYMBOLS} WHERE s.name LIKE ? ESCAPE '\\' LIMIT ?`)
    .all(`${escapeLike(trimmed)}%`, FUZZY_SCAN_LIMIT) as SymbolRow[]);
  if (byKey.size < limit) {
    const pattern = trimmed.length <= SUBSEQUENCE_QUERY_LIMIT ? `%${[...trimmed].map(escapeLike).join('%')}%` : `%${escapeLike(trimmed)}%`;
    collect(db.prepare(`${SELECT_SYMBOLS} WHERE s.name LIKE ? ESCAPE '\\' LIMIT ?`)
      .all(pattern, FUZZY_SCAN_LIMIT) as SymbolRow[]);
  }
  const ranked: SymbolInfo[] = [];
  for (const row of byKey.values()) {
    const score = scoreSymbolName(trimmed, row.name);
    if (score !== null) ranked.push({ ...row, score: score + KIND_WEIGHT[row.kind] });
  }
  ranked.sort((a, b) => b.score! - a.score! || a.path.localeCompare(b.path) || a.startLine - b.startLine);
  return ranked.slice(0, limit);
}
