import type { RegexNode } from './ripgrep-regex.js';
import { gramToken, queryGramIds } from './trigram-tokens.js';

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

function literalTokens(text: string): string[] {
  const ids = queryGramIds(text);
  // Spread the kept grams over the whole literal.
  const step = Math.max(1, ids.length / MAX_GRAMS_PER_LITERAL);
  const kept = ids.length <= MAX_GRAMS_PER_LITERAL ? ids
    : Array.from({ length: MAX_GRAMS_PER_LITERAL }, (_, i) => ids[Math.floor(i * step)]);
  return kept.map(gramToken);
}

/** The FTS5 MATCH expression for a query, or null when every file is a candidate. */
export function toMatchExpression(query: TrigramQuery): string | null {
  switch (query.type) {
    case 'any':
      return null;
    case 'literal': {
      // A literal made only of non-ASCII characters has no indexed trigrams: it constrains nothing.
      const tokens = literalTokens(query.text);
      return tokens.length ? tokens.join(' AND ') : null;
    }
    case 'and': {
      const parts = query.items.map(toMatchExpression).filter((part): part is string => part !== null);
      return parts.length ? parts.map((part) => `(${part})`).join(' AND ') : null;
    }
    case 'or': {
      const parts = query.items.map(toMatchExpression);
      return parts.includes(null) ? null : parts.map((part) => `(${part})`).join(' OR ');
    }
  }
}
