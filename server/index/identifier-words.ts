/**
 * Splits code and prose into the lower-case words the ranked text index uses, so that a question saying
 * "retry after header" finds `retryAfterHeader`, `RETRY_AFTER` and `retry-after`.
 */
const IDENTIFIER = /[\p{L}\p{N}_]+/gu;
const CAMEL_PARTS = /\p{Lu}+(?=\p{Lu}\p{Ll})|\p{Lu}?\p{Ll}+|\p{Lu}+|\p{N}+/gu;

export function splitIdentifier(identifier: string): string[] {
  if (ASCII_IDENTIFIER.test(identifier)) return splitAsciiIdentifier(identifier);
  const parts: string[] = [];
  for (const chunk of identifier.split('_')) {
    if (!chunk) continue;
    for (const match of chunk.matchAll(CAMEL_PARTS)) parts.push(match[0].toLowerCase());
  }
  return parts;
}

const ASCII_IDENTIFIER = /^[A-Za-z0-9_]*$/;

/** 1 upper-case ASCII letter, 2 lower-case, 3 digit, 0 anything else (`_`). */
function asciiClass(code: number): number {
  if (code >= 65 && code <= 90) return 1;
  if (code >= 97 && code <= 122) return 2;
  if (code >= 48 && code <= 57) return 3;
  return 0;
}

/**
 * {@link CAMEL_PARTS} by hand for ASCII identifiers (nearly all of them): the Unicode-class regex was the
 * indexer's hottest call on generated headers full of distinct register names. Same parts, same order:
 * `_` separates; an upper-case run followed by a lower-case letter gives up its last letter to the next part
 * (`HTTPServer` → http, server); a lower-case run takes one upper-case letter before it; digits stand alone.
 */
function splitAsciiIdentifier(identifier: string): string[] {
  const parts: string[] = [];
  const lower = identifier.toLowerCase();
  let i = 0;
  while (i < identifier.length) {
    const kind = asciiClass(identifier.charCodeAt(i));
    let end = i + 1;
    while (end < identifier.length && asciiClass(identifier.charCodeAt(end)) === kind) end++;
    if (kind === 0) {
      i = end;
      continue;
    }
    if (kind === 1 && end < identifier.length && asciiClass(identifier.charCodeAt(end)) === 2) {
      // Upper-case run then lower-case: the run's last letter starts the next word.
      if (end - 1 > i) parts.push(lower.slice(i, end - 1));
      let wordEnd = end + 1;
      while (wordEnd < identifier.length && asciiClass(identifier.charCodeAt(wordEnd)) === 2) wordEnd++;
      parts.push(lower.slice(end - 1, wordEnd));
      i = wordEnd;
      continue;
    }
    parts.push(lower.slice(i, end));
    i = end;
  }
  return parts;
}

/**
 * Identifiers repeat endlessly across a tree; splitting each once is most of the indexing time saved. 50,000
 * entries (≈ 15 MB per analysis worker) keep the common identifiers; generated headers full of distinct names
 * only churn it (200,000 held ≈ 60 MB per worker for no hits).
 */
const wordCache = new Map<string, string[]>();
const WORD_CACHE_LIMIT = 50_000;

/**
 * Longer "identifiers" are data (base64, hashes, minified blobs, a hostile prompt): they yield no words, are never
 * split and never cached, so neither time nor the cache grows with them.
 */
const IDENTIFIER_LENGTH_LIMIT = 256;

/** Strings this short are always copied by `slice`; longer slices point into the string they came from. */
const SLICE_COPY_LENGTH = 13;

/**
 * A copy of `text` that holds no reference to a larger string. An identifier sliced from a file's text keeps the
 * whole text alive (V8 makes slices of 13+ characters views of their parent): cached as they were, the cache's
 * keys and words held hundreds of files' texts per analysis worker — the bulk of the indexer's peak memory on
 * the kernel's generated register headers (bench/RESULTS.md, issue 16).
 */
function detached(text: string): string {
  if (text.length < SLICE_COPY_LENGTH) return text;
  // Latin-1 keeps an ASCII copy one byte per character; UTF-16 copies anything else exactly.
  const encoding = /^[\x00-\x7f]*$/.test(text) ? 'latin1' : 'utf16le';
  return Buffer.from(text, encoding).toString(encoding);
}

/** The full identifier (underscores dropped, as the FTS tokenizer would split on them) plus its parts. */
export function wordsOfIdentifier(identifier: string): string[] {
  if (identifier.length > IDENTIFIER_LENGTH_LIMIT) return [];
  let words = wordCache.get(identifier);
  if (!words) {
    const parts = splitIdentifier(identifier);
    const whole = identifier.replaceAll('_', '').toLowerCase();
    words = (parts.length > 1 && whole.length > 1 ? [whole, ...parts] : parts)
      .filter((word) => word.length > 1 && word.length <= 64)
      .map(detached);
    if (wordCache.size >= WORD_CACHE_LIMIT) wordCache.clear();
    wordCache.set(detached(identifier), words);
  }
  return words;
}

/** ASCII letters, digits and `_`; any non-ASCII character also counts as part of a word (letters mostly). */
export function isWordCode(code: number): boolean {
  return (code >= 97 && code <= 122) || (code >= 65 && code <= 90) || (code >= 48 && code <= 57) || code === 95 || code >= 128;
}

/** Every distinct word of a text, in first-seen order. A hand-rolled scan: this is the indexer's hot loop. */
export function distinctWords(text: string): string[] {
  const seenIdentifiers = new Set<string>();
  const words = new Set<string>();
  let start = -1;
  let ascii = true;
  for (let i = 0; i <= text.length; i++) {
    const code = i < text.length ? text.charCodeAt(i) : 32;
    if (isWordCode(code)) {
      if (start < 0) start = i;
      if (code >= 128) ascii = false;
      continue;
    }
    if (start < 0) continue;
    const token = text.slice(start, i);
    const tokenIsAscii = ascii;
    start = -1;
    ascii = true;
    if (seenIdentifiers.has(token)) continue;
    seenIdentifiers.add(token);
    // Non-ASCII runs may hold punctuation or spaces of other scripts: split them properly once.
    const identifiers = tokenIsAscii ? [token] : token.match(IDENTIFIER) ?? [];
    for (const identifier of identifiers) for (const word of wordsOfIdentifier(identifier)) words.add(word);
  }
  return [...words];
}

/** All words of a text with repeats, for term frequencies in line-range scoring. */
export function wordsInOrder(text: string): string[] {
  const words: string[] = [];
  for (const match of text.matchAll(IDENTIFIER)) words.push(...wordsOfIdentifier(match[0]));
  return words;
}
