import type { RegexNode } from './ripgrep-regex.js';
import { AndCursor, NO_IDS, OrCursor, allIds } from './id-cursors.js';
import type { IdCursor } from './posting-blocks.js';
import { queryGramIds } from './trigram-tokens.js';

/**
 * Turns a literal or a regular expression into a boolean query over literals (each expanded into its sparse
 * n-grams, trigram-tokens.ts) that every matching file must satisfy. The query may admit files that do not match (they are verified afterwards) but must never exclude
 * one that does, so whatever the planner does not understand becomes "any file".
 */
export type TrigramQuery =
  | { type: 'any' }
  | { type: 'literal'; text: string }
  | { type: 'and'; items: TrigramQuery[] }
  | { type: 'or'; items: TrigramQuery[] };

const ANY: TrigramQuery = { type: 'any' };

function and(items: TrigramQuery[]): TrigramQuery {
  const useful = items.filter((item) => item.type !== 'any');
  if (useful.length === 0) return ANY;
  return useful.length === 1 ? useful[0] : { type: 'and', items: useful };
}

function or(items: TrigramQuery[]): TrigramQuery {
  if (items.length === 0 || items.some((item) => item.type === 'any')) return ANY;
  return items.length === 1 ? items[0] : { type: 'or', items };
}

function literal(text: string): TrigramQuery {
  return [...text].length >= 3 ? { type: 'literal', text } : ANY;
}

export function literalQuery(text: string): TrigramQuery {
  return literal(text);
}

/** The trigram query of a pattern's parts in sequence: adjacent required characters form one literal. */
function sequenceQuery(items: RegexNode[]): TrigramQuery {
  const parts: TrigramQuery[] = [];
  let run = '';
  const endRun = () => {
    parts.push(literal(run));
    run = '';
  };
  for (const item of items) {
    if (item.type === 'literal') {
      run += String.fromCodePoint(item.codePoint);
    } else if (item.type === 'assertion') {
      // Zero-width: the characters on either side are still adjacent.
    } else if (item.type === 'repeat' && item.node.type === 'literal' && item.min >= 1) {
      run += String.fromCodePoint(item.node.codePoint);
      if (item.max !== 1) endRun();
    } else {
      endRun();
      parts.push(regexQuery(item));
    }
  }
  endRun();
  return and(parts);
}

/**
 * What every line a parsed rg pattern matches must contain, as a trigram query. Folding is not looked at: the
 * index folds case (trigram-tokens.ts), so a query for case-sensitive text admits its other spellings, which
 * verification then drops.
 */
export function regexQuery(node: RegexNode): TrigramQuery {
  switch (node.type) {
    case 'literal':
      return literal(String.fromCodePoint(node.codePoint));
    case 'concat':
      return sequenceQuery(node.items);
    case 'group':
      return regexQuery(node.node);
    case 'alternation':
      return or(node.items.map(regexQuery));
    case 'repeat':
      return node.min >= 1 ? regexQuery(node.node) : ANY;
    case 'empty':
    case 'class':
    case 'assertion':
      return ANY;
  }
}

/** At most this many grams per literal: past it, extra terms cost more than they filter. */
const MAX_GRAMS_PER_LITERAL = 16;

/** The grams a literal is filtered by: at most {@link MAX_GRAMS_PER_LITERAL}, spread over the whole literal. */
function literalGrams(text: string): number[] {
  const ids = queryGramIds(text);
  if (ids.length <= MAX_GRAMS_PER_LITERAL) return ids;
  const step = ids.length / MAX_GRAMS_PER_LITERAL;
  return Array.from({ length: MAX_GRAMS_PER_LITERAL }, (_, i) => ids[Math.floor(i * step)]);
}

/**
 * The ids (ascending) of the files a query admits, given each gram's posting list as a cursor (`lookup`), or
 * null when it admits every file. Literals and ANDs intersect lazily from their rarest list (id-cursors.ts), so
 * a rare gram bounds the work and a common gram's long list is decoded only around its candidates.
 */
export function candidateFileIds(query: TrigramQuery, lookup: (gram: number) => IdCursor): number[] | null {
  const cursor = queryCursor(query, lookup);
  return cursor && allIds(cursor);
}

/** Whether one file holding `grams` passes the query's filter (a file without postings whose grams are known). */
export function admitsGrams(query: TrigramQuery, grams: ArrayLike<number>): boolean {
  const held = new Set(Array.from(grams));
  const only: IdCursor = { size: 1, seek: (target) => (target <= 1 ? 1 : Infinity) };
  const ids = candidateFileIds(query, (gram) => (held.has(gram) ? only : NO_IDS));
  return ids === null || ids.length > 0;
}

function queryCursor(query: TrigramQuery, lookup: (gram: number) => IdCursor): IdCursor | null {
  switch (query.type) {
    case 'any':
      return null;
    case 'literal': {
      // A literal made only of non-ASCII characters has no indexed grams: it constrains nothing.
      const lists = literalGrams(query.text).map(lookup);
      return lists.length ? new AndCursor(lists) : null;
    }
    case 'and': {
      const parts = query.items.map((item) => queryCursor(item, lookup)).filter((part): part is IdCursor => part !== null);
      return parts.length ? new AndCursor(parts) : null;
    }
    case 'or': {
      const parts = query.items.map((item) => queryCursor(item, lookup));
      return parts.includes(null) ? null : new OrCursor(parts as IdCursor[]);
    }
  }
}
