import { trigramIds, trigramToken } from './trigram-tokens.js';

/**
 * Turns a literal or a regular expression into a boolean query over trigrams that every matching file must
 * satisfy. The query may admit files that do not match (they are verified afterwards) but must never exclude
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

/** Escapes that stand for one literal character. */
const LITERAL_ESCAPES = new Set([...'\\.^$|?*+()[]{}/-']);

/** A small recursive-descent reader of JavaScript regex syntax, producing trigram constraints. */
class RegexPlanner {
  private position = 0;

  constructor(private readonly source: string) {}

  plan(): TrigramQuery {
    const query = this.alternation();
    return this.position === this.source.length ? query : ANY;
  }

  private alternation(): TrigramQuery {
    const branches = [this.sequence()];
    while (this.source[this.position] === '|') {
      this.position++;
      branches.push(this.sequence());
    }
    return or(branches);
  }

  /** A concatenation: runs of required literal characters, plus the constraints of required groups. */
  private sequence(): TrigramQuery {
    const parts: TrigramQuery[] = [];
    let run = '';
    const endRun = () => {
      parts.push(literal(run));
      run = '';
    };
    while (this.position < this.source.length) {
      const char = this.source[this.position];
      if (char === '|' || char === ')') break;
      const atom = this.atom();
      const quantifier = this.quantifier();
      if (atom.kind === 'char') {
        if (quantifier === 'optional') {
          endRun();
        } else if (quantifier === 'repeated') {
          run += atom.char;
          endRun();
        } else {
          run += atom.char;
        }
      } else {
        endRun();
        if (atom.kind === 'group' && quantifier !== 'optional') parts.push(atom.query);
      }
    }
    endRun();
    return and(parts);
  }

  private atom(): { kind: 'char'; char: string } | { kind: 'group'; query: TrigramQuery } | { kind: 'other' } {
    const char = this.source[this.position++];
    if (char === '\\') {
      const next = this.source[this.position++] ?? '';
      if (LITERAL_ESCAPES.has(next)) return { kind: 'char', char: next };
      // \d \w \s \b, \x41, \u{…}, back-references, \p{…}: not a known single literal.
      if (next === 'x') this.position += 2;
      else if (next === 'u' || next === 'p' || next === 'P') this.skipEscapeBody();
      return { kind: 'other' };
    }
    if (char === '[') {
      this.skipClass();
      return { kind: 'other' };
    }
    if (char === '(') {
      let lookaround = false;
      if (this.source.startsWith('?:', this.position)) this.position += 2;
      else if (/^\?<[A-Za-z_]/.test(this.source.slice(this.position, this.position + 3))) {
        this.position = this.source.indexOf('>', this.position) + 1;
      } else if (/^\?(=|!|<=|<!)/.test(this.source.slice(this.position, this.position + 3))) {
        lookaround = true;
        this.position += this.source[this.position + 1] === '<' ? 3 : 2;
      }
      const query = this.alternation();
      if (this.source[this.position] === ')') this.position++;
      return lookaround ? { kind: 'other' } : { kind: 'group', query };
    }
    if (char === '.' || char === '^' || char === '$') return { kind: 'other' };
    return { kind: 'char', char };
  }

  private skipEscapeBody(): void {
    if (this.source[this.position] === '{') this.position = this.source.indexOf('}', this.position) + 1 || this.source.length;
    else this.position += 4;
  }

  private skipClass(): void {
    if (this.source[this.position] === '^') this.position++;
    if (this.source[this.position] === ']') this.position++;
    while (this.position < this.source.length && this.source[this.position] !== ']') {
      if (this.source[this.position] === '\\') this.position++;
      this.position++;
    }
    this.position++;
  }

  /** 'optional' when the atom may be absent, 'repeated' when it occurs one or more times. */
  private quantifier(): 'once' | 'optional' | 'repeated' {
    const char = this.source[this.position];
    let result: 'once' | 'optional' | 'repeated' = 'once';
    if (char === '*' || char === '?') {
      this.position++;
      result = 'optional';
    } else if (char === '+') {
      this.position++;
      result = 'repeated';
    } else if (char === '{') {
      const match = /^\{(\d*)(,?)(\d*)\}/.exec(this.source.slice(this.position));
      if (!match) return 'once';
      this.position += match[0].length;
      const min = Number(match[1] || '0');
      result = min === 0 ? 'optional' : min === 1 && !match[2] ? 'once' : 'repeated';
    } else {
      return 'once';
    }
    if (this.source[this.position] === '?') this.position++; // lazy
    return result;
  }
}

export function regexQuery(source: string): TrigramQuery {
  try {
    return new RegexPlanner(source).plan();
  } catch {
    return ANY;
  }
}

/** At most this many trigrams per literal: past it, extra terms cost more than they filter. */
const MAX_TRIGRAMS_PER_LITERAL = 16;

function literalTokens(text: string): string[] {
  const ids = trigramIds(text);
  // Spread the kept trigrams over the whole literal.
  const step = Math.max(1, ids.length / MAX_TRIGRAMS_PER_LITERAL);
  const kept = ids.length <= MAX_TRIGRAMS_PER_LITERAL ? ids
    : Array.from({ length: MAX_TRIGRAMS_PER_LITERAL }, (_, i) => ids[Math.floor(i * step)]);
  return kept.map(trigramToken);
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
