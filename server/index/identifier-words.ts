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

/** The full identifier (underscores dropped, as the FTS tokenizer would split on them) plus its parts. */
export function wordsOfIdentifier(identifier: string): string[] {
  const parts = splitIdentifier(identifier);
  const whole = identifier.replaceAll('_', '').toLowerCase();
  const words = parts.length > 1 && whole.length > 1 ? [whole, ...parts] : parts;
  return words.filter((word) => word.length > 1 && word.length <= 64);
}

/** Every distinct word of a text, in first-seen order. */
export function distinctWords(text: string): string[] {
  const seen = new Set<string>();
  for (const match of text.matchAll(IDENTIFIER)) {
    for (const word of wordsOfIdentifier(match[0])) seen.add(word);
  }
  return [...seen];
}

/** All words of a text with repeats, for term frequencies in line-range scoring. */
export function wordsInOrder(text: string): string[] {
  const words: string[] = [];
  for (const match of text.matchAll(IDENTIFIER)) words.push(...wordsOfIdentifier(match[0]));
  return words;
}
