import { CodeloopError } from '../errors.js';

/**
 * ripgrep's regex dialect (Rust's `regex` crate, as rg 13 parses it), read into a small syntax tree and written
 * out as a JavaScript RegExp with the same meaning on one line of text:
 * - `.` and every class exclude `\n` (rg removes the line terminator from classes; a literal `\n` is an error);
 *   `\r` is an ordinary character, so `.` matches it in CRLF files;
 * - `^`/`$` (and `\A`/`\z`, since rg matches line by line) are line anchors on `\n` only — JavaScript's `m` flag
 *   would also split at `\r`, U+2028 and U+2029;
 * - `\w`, `\d`, `\s` and `\b` are Unicode-aware (UTS#18 definitions, as Rust), unless `(?-u)` asks for ASCII;
 * - case-insensitivity (`-i`, `(?i)`, `(?i:…)`, `(?-i)`) is Unicode simple case folding, as JavaScript's `iu`;
 * - classes may nest and use `&&`, `--`, `~~` and `[[:alpha:]]`, written out with the `v` flag;
 * - text decoded from bytes that are not UTF-8 holds lone surrogates (see file-encoding.ts): no class or `.` matches them.
 * Syntax Rust does not have (look-around, back-references) is refused with `invalidRegex`, as rg refuses it.
 */
export type RegexNode =
  | { type: 'empty' }
  | { type: 'literal'; codePoint: number; fold: Fold }
  | { type: 'class'; source: string }
  | { type: 'assertion'; source: string }
  | { type: 'group'; node: RegexNode }
  | { type: 'concat'; items: RegexNode[] }
  | { type: 'alternation'; items: RegexNode[] }
  | { type: 'repeat'; node: RegexNode; min: number; max: number; greedy: boolean };

/** How a literal compares: exactly, with Unicode simple case folding, or with ASCII-only folding (`(?i-u)`). */
type Fold = 'none' | 'unicode' | 'ascii';

interface Flags {
  caseInsensitive: boolean;
  multiLine: boolean;
  dotAll: boolean;
  swapGreed: boolean;
  unicode: boolean;
  ignoreWhitespace: boolean;
}

/** A parsed pattern and the JavaScript RegExp (flags `gv`, plus `i` when folding is uniform) that matches like rg. */
export interface CompiledPattern {
  tree: RegexNode;
  regex: RegExp;
}

const NEVER_MATCHED = '\\n\\u{D800}-\\u{DFFF}';
const UNICODE_WORD = '\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\p{Join_Control}';
const ASCII_WORD = '0-9A-Za-z_';
/** Rust's `\s` without Unicode: [\t\n\v\f\r ]. */
const ASCII_SPACE = '\\t\\n\\v\\f\\r ';
const POSIX_CLASSES: Record<string, string> = {
  alnum: '0-9A-Za-z', alpha: 'A-Za-z', ascii: '\\u{0}-\\u{7F}', blank: '\\t ', cntrl: '\\u{0}-\\u{1F}\\u{7F}',
  digit: '0-9', graph: '!-~', lower: 'a-z', print: ' -~', punct: '!-/:-@\\[-`{-~', space: ASCII_SPACE,
  upper: 'A-Z', word: ASCII_WORD, xdigit: '0-9A-Fa-f',
};
/** Escapes of meta characters that stand for themselves (regex-syntax 0.6 accepts no others). */
const META = new Set([...'\\.+*?()|[]{}^$#&-~']);

function hex(codePoint: number): string {
  return `\\u{${codePoint.toString(16)}}`;
}

function invalid(source: string, message: string): CodeloopError {
  return new CodeloopError('invalidRegex', `invalid regex ${JSON.stringify(source)}: ${message}`);
}

let propertyNames: Map<string, string> | null = null;

function looseName(name: string): string {
  return name.toLowerCase().replace(/[\s_-]/g, '');
}

/**
 * Rust accepts property names loosely (`\p{greek}`, `\p{Uppercase Letter}`, `\p{sc=Greek}`); JavaScript only the
 * canonical spelling. A bare script name means Script_Extensions in Rust (regex-syntax's `canonical_script`).
 */
function resolveProperty(source: string, raw: string): string {
  const [key, value] = raw.includes('=') ? raw.split('=', 2).map((part) => part.trim()) : [null, raw.trim()];
  const candidates = (name: string) => {
    const words = name.split(/[\s_-]+/).filter(Boolean);
    const title = words.map((word) => word[0].toUpperCase() + word.slice(1).toLowerCase()).join('_');
    return [name, title, name.toUpperCase(), name[0]?.toUpperCase() + name.slice(1).toLowerCase(), words.join('_')];
  };
  const valid = (body: string) => {
    try {
      new RegExp(`\\p{${body}}`, 'v');
      return true;
    } catch {
      return false;
    }
  };
  propertyNames ??= new Map();
  const cacheKey = `${key ?? ''}=${looseName(value)}`;
  const cached = propertyNames.get(cacheKey);
  if (cached) return cached;
  const normalizedKey = key === null ? null : looseName(key);
  const prefixes = normalizedKey === null ? ['', 'General_Category=', 'Script_Extensions=']
    : normalizedKey === 'gc' || normalizedKey === 'generalcategory' ? ['General_Category=']
      : normalizedKey === 'sc' || normalizedKey === 'script' ? ['Script=']
        : normalizedKey === 'scx' || normalizedKey === 'scriptextensions' ? ['Script_Extensions='] : [];
  for (const prefix of prefixes) {
    for (const name of candidates(value)) {
      if (valid(`${prefix}${name}`)) {
        propertyNames.set(cacheKey, `${prefix}${name}`);
        return `${prefix}${name}`;
      }
    }
  }
  throw invalid(source, `unknown Unicode property \\p{${raw}}`);
}

/** Case-related properties, which a class compared case-insensitively in only part of a pattern cannot fold here. */
const CASE_PROPERTIES = /^(General_Category=)?(Lu|Ll|Lt|LC|Uppercase_Letter|Lowercase_Letter|Titlecase_Letter|Cased_Letter|Uppercase|Lowercase|Cased|Changes_When.*)$/;

let caseOrbits: Map<number, number[]> | null = null;

/** The code points equal to `codePoint` under Unicode simple case folding (as JavaScript's `iu` compares). */
function unicodeOrbit(codePoint: number): number[] {
  if (!caseOrbits) {
    caseOrbits = new Map();
    const link = (a: number, b: number) => {
      const group = new Set([...(caseOrbits!.get(a) ?? [a]), ...(caseOrbits!.get(b) ?? [b])]);
      for (const member of group) caseOrbits!.set(member, [...group]);
    };
    for (let cp = 0; cp < 0x1F000; cp++) {
      const char = String.fromCodePoint(cp);
      for (const mapped of [char.toLowerCase(), char.toUpperCase()]) {
        const other = mapped.codePointAt(0)!;
        if (mapped.length === String.fromCodePoint(other).length && other !== cp) link(cp, other);
      }
    }
  }
  const pattern = new RegExp(`^${hex(codePoint)}$`, 'iu');
  return (caseOrbits.get(codePoint) ?? [codePoint]).filter((other) => pattern.test(String.fromCodePoint(other)));
}

function orbit(codePoint: number, fold: Fold): number[] {
  if (fold === 'none') return [codePoint];
  if (fold === 'ascii') {
    const char = String.fromCodePoint(codePoint);
    return /[a-z]/i.test(char) && codePoint < 128 ? [char.toLowerCase().codePointAt(0)!, char.toUpperCase().codePointAt(0)!] : [codePoint];
  }
  return unicodeOrbit(codePoint);
}

function foldOf(flags: Flags): Fold {
  return !flags.caseInsensitive ? 'none' : flags.unicode ? 'unicode' : 'ascii';
}

/** Reads one pattern; `explicitFold` is set once folding is found not to be uniform over the pattern. */
class Parser {
  private position = 0;
  private readonly folds = new Set<Fold>();

  constructor(
    private readonly source: string,
    private explicitFold: boolean,
  ) {}

  parse(flags: Flags): RegexNode {
    const node = this.alternation(flags, 0);
    if (this.position < this.source.length) throw invalid(this.source, `unopened group at ${this.position + 1}`);
    return node;
  }

  /** Whether every case-sensitive atom compared the same way (then the JavaScript `i` flag can do it all). */
  uniformFold(): Fold | 'mixed' {
    return this.folds.size === 0 ? 'none' : this.folds.size === 1 ? [...this.folds][0] : 'mixed';
  }

  private peek(): string | undefined {
    return this.source[this.position];
  }

  private skipSpace(flags: Flags): void {
    if (!flags.ignoreWhitespace) return;
    for (;;) {
      const char = this.peek();
      if (char !== undefined && /\s/.test(char)) this.position++;
      else if (char === '#') {
        const end = this.source.indexOf('\n', this.position);
        this.position = end === -1 ? this.source.length : end + 1;
      } else return;
    }
  }

  private alternation(flags: Flags, depth: number): RegexNode {
    const branches = [this.concat(flags, depth)];
    while (this.peek() === '|') {
      this.position++;
      branches.push(this.concat(flags, depth));
    }
    return branches.length === 1 ? branches[0] : { type: 'alternation', items: branches };
  }

  private concat(outer: Flags, depth: number): RegexNode {
    // Flags set by `(?i)` last until the end of the enclosing group, across alternation branches.
    const flags = outer;
    const items: RegexNode[] = [];
    for (;;) {
      this.skipSpace(flags);
      const char = this.peek();
      if (char === undefined || char === '|') break;
      if (char === ')') {
        if (depth === 0) throw invalid(this.source, `unopened group at ${this.position + 1}`);
        break;
      }
      if ('*+?{'.includes(char)) {
        const last = items.pop();
        if (!last) throw invalid(this.source, `repetition operator missing expression at ${this.position + 1}`);
        items.push(this.repetition(last, flags));
        continue;
      }
      const atom = this.atom(flags, depth);
      if (atom) items.push(atom);
    }
    if (items.length === 0) return { type: 'empty' };
    return items.length === 1 ? items[0] : { type: 'concat', items };
  }

  private repetition(node: RegexNode, flags: Flags): RegexNode {
    const char = this.source[this.position++];
    let min: number;
    let max: number;
    if (char === '*') [min, max] = [0, Infinity];
    else if (char === '+') [min, max] = [1, Infinity];
    else if (char === '?') [min, max] = [0, 1];
    else {
      const match = /^\{\s*(\d+)\s*(?:(,)\s*(\d*)\s*)?\}/.exec(this.source.slice(this.position - 1));
      if (!match) throw invalid(this.source, `invalid counted repetition at ${this.position}`);
      this.position += match[0].length - 1;
      min = Number(match[1]);
      max = match[2] ? (match[3] ? Number(match[3]) : Infinity) : min;
      if (max < min) throw invalid(this.source, 'invalid repetition range (the minimum is larger than the maximum)');
    }
    let greedy = true;
    if (this.peek() === '?') {
      this.position++;
      greedy = false;
    }
    return { type: 'repeat', node, min, max, greedy: flags.swapGreed ? !greedy : greedy };
  }

  /** One atom; null for a flag-setting group like `(?i)`, which changes `flags` in place. */
  private atom(flags: Flags, depth: number): RegexNode | null {
    const char = this.source[this.position++];
    switch (char) {
      case '(':
        return this.group(flags, depth);
      case '[': {
        const source = this.classSet(flags);
        return { type: 'class', source: this.finishClass(source) };
      }
      case '.':
        return { type: 'class', source: flags.unicode ? `[^${NEVER_MATCHED}]` : this.unsupportedBytes('. without Unicode (?-u)') };
      case '^':
        return { type: 'assertion', source: '(?<![^\\n])' };
      case '$':
        return { type: 'assertion', source: '(?![^\\n])' };
      case '\\':
        return this.escape(flags);
      default: {
        const codePoint = this.source.codePointAt(this.position - 1)!;
        if (codePoint > 0xFFFF) this.position++;
        return this.literal(codePoint, flags);
      }
    }
  }

  private unsupportedBytes(what: string): never {
    throw invalid(this.source, `${what} matches raw bytes, which codeloop does not support`);
  }

  private literal(codePoint: number, flags: Flags): RegexNode {
    if (codePoint === 10) throw invalid(this.source, 'the literal "\\n" is not allowed (matches are within one line)');
    const fold = foldOf(flags);
    const char = String.fromCodePoint(codePoint);
    if (char.toLowerCase() !== char.toUpperCase()) this.folds.add(fold);
    return { type: 'literal', codePoint, fold };
  }

  private group(flags: Flags, depth: number): RegexNode | null {
    if (this.peek() !== '?') return this.groupBody(flags, depth);
    this.position++;
    if (this.source.startsWith('P<', this.position)) {
      const end = this.source.indexOf('>', this.position);
      if (end === -1 || !/^[A-Za-z_][A-Za-z0-9_.[\]]*$/.test(this.source.slice(this.position + 2, end))) throw invalid(this.source, 'invalid capture group name');
      this.position = end + 1;
      return this.groupBody(flags, depth);
    }
    const match = /^([imsUux-]*)(:|\))/.exec(this.source.slice(this.position));
    if (!match) throw invalid(this.source, `unsupported group syntax "(?${this.source.slice(this.position, this.position + 2)}" (look-around and back-references are not part of rg's regex syntax)`);
    this.position += match[0].length;
    const scoped = match[2] === ':' ? { ...flags } : flags;
    let on = true;
    for (const letter of match[1]) {
      if (letter === '-') on = false;
      else if (letter === 'i') scoped.caseInsensitive = on;
      else if (letter === 'm') scoped.multiLine = on;
      else if (letter === 's') scoped.dotAll = on;
      else if (letter === 'U') scoped.swapGreed = on;
      else if (letter === 'u') scoped.unicode = on;
      else if (letter === 'x') scoped.ignoreWhitespace = on;
    }
    return match[2] === ':' ? this.groupBody(scoped, depth, true) : null;
  }

  private groupBody(flags: Flags, depth: number, alreadyCopied = false): RegexNode {
    const node = this.alternation(alreadyCopied ? flags : { ...flags }, depth + 1);
    if (this.peek() !== ')') throw invalid(this.source, 'unclosed group');
    this.position++;
    return { type: 'group', node };
  }

  private escape(flags: Flags): RegexNode {
    const char = this.source[this.position++];
    if (char === undefined) throw invalid(this.source, 'incomplete escape sequence at the end');
    const perl = this.perlClass(char, flags);
    if (perl) return { type: 'class', source: this.finishClass(perl) };
    switch (char) {
      case 'A':
        return { type: 'assertion', source: '(?<![^\\n])' };
      case 'z':
        return { type: 'assertion', source: '(?![^\\n])' };
      case 'b':
      case 'B': {
        const word = `[${flags.unicode ? UNICODE_WORD : ASCII_WORD}]`;
        return {
          type: 'assertion',
          source: char === 'b' ? `(?:(?<=${word})(?!${word})|(?<!${word})(?=${word}))` : `(?:(?<=${word})(?=${word})|(?<!${word})(?!${word}))`,
        };
      }
      case 'p':
      case 'P':
        return { type: 'class', source: this.finishClass(this.property(char === 'P', flags)) };
      default:
        return this.literal(this.escapedCodePoint(char, flags), flags);
    }
  }

  /** The code point of an escape standing for one character (after the backslash and `char`). */
  private escapedCodePoint(char: string, flags: Flags): number {
    const simple: Record<string, number> = { a: 7, f: 12, t: 9, n: 10, r: 13, v: 11 };
    if (char in simple) return simple[char];
    if (META.has(char) || (flags.ignoreWhitespace && char === ' ')) return char.codePointAt(0)!;
    const digits = { x: 2, u: 4, U: 8 }[char as 'x' | 'u' | 'U'];
    if (digits) {
      let text: string;
      if (this.peek() === '{') {
        const end = this.source.indexOf('}', this.position);
        if (end === -1) throw invalid(this.source, 'unclosed hexadecimal escape');
        text = this.source.slice(this.position + 1, end);
        this.position = end + 1;
      } else {
        text = this.source.slice(this.position, this.position + digits);
        this.position += digits;
      }
      const codePoint = /^[0-9a-fA-F]+$/.test(text) ? parseInt(text, 16) : NaN;
      if (!(codePoint <= 0x10FFFF) || (codePoint >= 0xD800 && codePoint <= 0xDFFF)) throw invalid(this.source, `invalid hexadecimal escape \\${char}${text}`);
      if (!flags.unicode && codePoint > 0x7F) this.unsupportedBytes(`\\x${text} without Unicode (?-u)`);
      return codePoint;
    }
    if (/[0-9]/.test(char)) throw invalid(this.source, 'back-references are not supported (as in rg)');
    throw invalid(this.source, `unrecognized escape sequence \\${char}`);
  }

  private perlClass(char: string, flags: Flags): string | null {
    const sets: Record<string, [string, boolean]> = {
      d: [flags.unicode ? '\\p{Nd}' : '0-9', false], D: [flags.unicode ? '\\p{Nd}' : '0-9', true],
      s: [flags.unicode ? '\\p{White_Space}' : ASCII_SPACE, false], S: [flags.unicode ? '\\p{White_Space}' : ASCII_SPACE, true],
      w: [flags.unicode ? UNICODE_WORD : ASCII_WORD, false], W: [flags.unicode ? UNICODE_WORD : ASCII_WORD, true],
    };
    const set = sets[char];
    if (!set) return null;
    if (set[1] && !flags.unicode) this.unsupportedBytes(`\\${char} without Unicode (?-u)`);
    return set[1] ? `[^${set[0]}]` : `[${set[0]}]`;
  }

  private property(negated: boolean, flags: Flags): string {
    let raw: string;
    if (this.peek() === '{') {
      const end = this.source.indexOf('}', this.position);
      if (end === -1) throw invalid(this.source, 'unclosed Unicode property');
      raw = this.source.slice(this.position + 1, end);
      this.position = end + 1;
    } else {
      raw = this.source[this.position++] ?? '';
    }
    if (!flags.unicode) this.unsupportedBytes('\\p without Unicode (?-u)');
    const name = resolveProperty(this.source, raw);
    if (flags.caseInsensitive && this.explicitFold && CASE_PROPERTIES.test(name)) {
      throw invalid(this.source, `\\p{${raw}} compared case-insensitively in only part of a pattern is not supported; apply -i to the whole pattern`);
    }
    this.folds.add(foldOf(flags));
    return `[${negated ? '\\P' : '\\p'}{${name}}]`;
  }

  /** A bracketed class after its `[`, as a `v`-flag class; set operators bind looser than unions. */
  private classSet(flags: Flags): string {
    const negated = this.peek() === '^';
    if (negated) this.position++;
    let result = this.classUnion(flags, true);
    for (;;) {
      const operator = this.source.slice(this.position, this.position + 2);
      if (operator !== '&&' && operator !== '--' && operator !== '~~') break;
      this.position += 2;
      const right = this.classUnion(flags, false);
      result = operator === '~~' ? `[[${result}--${right}][${right}--${result}]]` : `[${result}${operator}${right}]`;
    }
    if (this.peek() !== ']') throw invalid(this.source, 'unclosed character class');
    this.position++;
    if (negated && !flags.unicode) this.unsupportedBytes('a negated class without Unicode (?-u)');
    return negated ? `[^${result}]` : result;
  }

  /** Items of a class up to `]` or a set operator, as one `v`-flag class. */
  private classUnion(flags: Flags, first: boolean): string {
    const items: string[] = [];
    const fold = foldOf(flags);
    const addRange = (from: number, to: number) => {
      if (from > to) throw invalid(this.source, 'invalid class range (its start is after its end)');
      this.folds.add(fold);
      if (fold === 'none' || !this.explicitFold) {
        items.push(from === to ? hex(from) : `${hex(from)}-${hex(to)}`);
        return;
      }
      if (to - from > 5000) throw invalid(this.source, 'a large class range compared case-insensitively in only part of a pattern is not supported; apply -i to the whole pattern');
      const members = new Set<number>();
      for (let cp = from; cp <= to; cp++) for (const other of orbit(cp, fold)) members.add(other);
      for (const member of members) items.push(hex(member));
    };
    let leadingBracket = first;
    for (;;) {
      this.skipSpace(flags);
      const char = this.peek();
      if (char === undefined) throw invalid(this.source, 'unclosed character class');
      if (char === ']' && !leadingBracket) break;
      const operator = this.source.slice(this.position, this.position + 2);
      if (operator === '&&' || operator === '--' || operator === '~~') break;
      leadingBracket = false;
      if (this.source.startsWith('[:', this.position)) {
        const posix = /^\[:(\^?)([a-z]+):\]/.exec(this.source.slice(this.position));
        if (posix && POSIX_CLASSES[posix[2]]) {
          this.position += posix[0].length;
          const members = POSIX_CLASSES[posix[2]];
          this.folds.add(fold);
          items.push(posix[1] ? `[^${members}]` : `[${members}]`);
          continue;
        }
      }
      if (char === '[') {
        this.position++;
        items.push(this.classSet(flags));
        continue;
      }
      const from = this.classCodePoint(flags);
      if (typeof from === 'string') {
        items.push(from);
        continue;
      }
      if (this.peek() === '-' && this.source[this.position + 1] !== ']' && this.source[this.position + 1] !== '-') {
        this.position++;
        const to = this.classCodePoint(flags);
        if (typeof to === 'string') throw invalid(this.source, 'invalid class range (a range ends in a class)');
        addRange(from, to);
      } else {
        addRange(from, from);
      }
    }
    return `[${items.join('')}]`;
  }

  /** One member of a class: a code point, or a whole set (`\d`, `\p{…}`) as a `v`-flag class string. */
  private classCodePoint(flags: Flags): number | string {
    const char = this.source[this.position++];
    if (char !== '\\') {
      const codePoint = char.codePointAt(0)!;
      if (codePoint > 0xFFFF) this.position++;
      return codePoint;
    }
    const next = this.source[this.position++];
    if (next === undefined) throw invalid(this.source, 'unclosed character class');
    const perl = this.perlClass(next, flags);
    if (perl) return perl;
    if (next === 'p' || next === 'P') return this.property(next === 'P', flags);
    if (next === '-' || next === ' ') return next.codePointAt(0)!;
    return this.escapedCodePoint(next, flags);
  }

  /** A class as an atom of the pattern: never `\n`, never a byte that is not UTF-8. */
  private finishClass(set: string): string {
    if (/^\[(\\u\{a\})\]$/.test(set)) throw invalid(this.source, 'the literal "\\n" is not allowed (matches are within one line)');
    return set.startsWith('[^') ? `[^${set.slice(2, -1)}${NEVER_MATCHED}]` : `[${set}--[${NEVER_MATCHED}]]`;
  }
}

function emit(node: RegexNode, explicitFold: boolean): string {
  switch (node.type) {
    case 'empty':
      return '';
    case 'literal': {
      if (!explicitFold || node.fold === 'none') return hex(node.codePoint);
      const members = orbit(node.codePoint, node.fold);
      return members.length === 1 ? hex(members[0]) : `[${members.map(hex).join('')}]`;
    }
    case 'class':
    case 'assertion':
      return node.source;
    case 'group':
      return `(?:${emit(node.node, explicitFold)})`;
    case 'concat':
      return node.items.map((item) => emit(item, explicitFold)).join('');
    case 'alternation':
      return `(?:${node.items.map((item) => emit(item, explicitFold)).join('|')})`;
    case 'repeat': {
      const count = node.min === 0 && node.max === Infinity ? '*' : node.min === 1 && node.max === Infinity ? '+'
        : node.min === 0 && node.max === 1 ? '?' : node.max === Infinity ? `{${node.min},}` : `{${node.min},${node.max}}`;
      return `(?:${emit(node.node, explicitFold)})${count}${node.greedy ? '' : '?'}`;
    }
  }
}

const DEFAULT_FLAGS: Flags = { caseInsensitive: false, multiLine: true, dotAll: false, swapGreed: false, unicode: true, ignoreWhitespace: false };

/**
 * Parses an rg pattern (`caseInsensitive` is rg's `-i`) and compiles it. Throws `invalidRegex` with the reason
 * for syntax rg would reject, and for the few byte-oriented forms (`(?-u)` with `.`) codeloop cannot match.
 */
export function compileRipgrepRegex(source: string, caseInsensitive: boolean): CompiledPattern {
  const flags = { ...DEFAULT_FLAGS, caseInsensitive };
  let parser = new Parser(source, false);
  let tree = parser.parse({ ...flags });
  const fold = parser.uniformFold();
  const explicit = fold === 'mixed' || fold === 'ascii';
  if (explicit) {
    // Folding differs between parts of the pattern: spell out each folded character's case variants.
    parser = new Parser(source, true);
    tree = parser.parse({ ...flags });
  }
  const body = emit(tree, explicit);
  try {
    return { tree, regex: new RegExp(body, fold === 'unicode' ? 'giv' : 'gv') };
  } catch (error) {
    throw invalid(source, (error as Error).message);
  }
}

/** A literal as an rg pattern matching exactly that text (`rg -F`). */
export function escapeRipgrepLiteral(text: string): string {
  return text.replace(/[\\.+*?()|[\]{}^$#&~-]/g, '\\$&');
}
