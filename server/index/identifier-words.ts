/**
 * Splits code and prose into the lower-case words the ranked text index uses, so that a question saying
 * "retry after header" finds `retryAfterHeader`, `RETRY_AFTER` and `retry-after`.
 */
const IDENTIFIER = /[\p{L}\p{N}_]+/gu;
const CAMEL_PARTS = /\p{Lu}+(?=\p{Lu}\p{Ll})|\p{Lu}?\p{Ll}+|\p{Lu}+|\p{N}+/gu;

export function splitIdentifier(identifier: string): string[] {
  const parts: string[] = [];
  for (const chunk of identifier.split('_')) {
    if (!chunk) continue;
    for (const match of chunk.matchAll(CAMEL_PARTS)) parts.push(match[0].toLowerCase());
  }
  return parts;
}

/** Identifiers repeat endlessly across a tree; splitting each once is most of the indexing time saved. */
const wordCache = new Map<string, string[]>();
const WORD_CACHE_LIMIT = 200_000;

/**
 * Longer "identifiers" are data (base64, hashes, minified blobs, a hostile prompt): they yield no words, are never
 * split and never cached, so neither time nor the cache grows with them.
 */
const IDENTIFIER_LENGTH_LIMIT = 256;

/** The full identifier (underscores dropped, as the FTS tokenizer would split on them) plus its parts. */
export function wordsOfIdentifier(identifier: string): string[] {
  if (identifier.length > IDENTIFIER_LENGTH_LIMIT) return [];
  let words = wordCache.get(identifier);
  if (!words) {
    const parts = splitIdentifier(identifier);
    const whole = identifier.replaceAll('_', '').toLowerCase();
    words = (parts.length > 1 && whole.length > 1 ? [whole, ...parts] : parts)
      .filter((word) => word.length > 1 && word.length <= 64);
    if (wordCache.size >= WORD_CACHE_LIMIT) wordCache.clear();
    wordCache.set(identifier, words);
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
  for (let i = 0; i <= text.length; i++) {
    const inWord = i < text.length && isWordCode(text.charCodeAt(i));
    if (inWord) {
      if (start < 0) start = i;
      continue;
    }
    if (start < 0) continue;
    const token = text.slice(start, i);
    start = -1;
    if (seenIdentifiers.has(token)) continue;
    seenIdentifiers.add(token);
    // Non-ASCII runs may hold punctuation or spaces of other scripts: split them properly once.
    const identifiers = /[^\x00-\x7f]/.test(token) ? token.match(IDENTIFIER) ?? [] : [token];
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
