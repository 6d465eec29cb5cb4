/**
 * The trigram index stores, per file, each distinct case-folded ASCII trigram once, as a short base-36 token.
 * Doing this here instead of in SQLite's trigram tokenizer hands FTS5 a few thousand tokens per file instead
 * of one per character (≈4× less indexing work on C code), and drops what a search never needs: repeats,
 * trigrams spanning a line break (matches never span lines), and non-ASCII trigrams (queries skip them, so
 * Unicode case folding can never make the filter drop a true match).
 */
const SEEN = new Uint8Array(1 << 21);

/** The only non-ASCII characters equal to an ASCII one under Unicode simple case folding: ſ (U+017F) and K (U+212A). */
const LONG_S = 0x17F;
const KELVIN = 0x212A;

/** A character's folded 7-bit code, -1 when not ASCII: one fold for index and query, so -i never loses a file. */
function foldedCode(text: string, index: number): number {
  const code = text.charCodeAt(index);
  if (code >= 65 && code <= 90) return code | 0x20;
  if (code < 128) return code;
  if (code === LONG_S) return 0x73;
  if (code === KELVIN) return 0x6B;
  return -1;
}

/** Distinct trigram ids of a text: three folded 7-bit codes packed into 21 bits. */
export function trigramIds(text: string): number[] {
  const ids: number[] = [];
  let a = -1;
  let b = -1;
  for (let i = 0; i < text.length; i++) {
    const c = foldedCode(text, i);
    if (a >= 0 && b >= 0 && c >= 0 && a !== 10 && b !== 10 && c !== 10) {
      const id = (a << 14) | (b << 7) | c;
      if (SEEN[id] === 0) {
        SEEN[id] = 1;
        ids.push(id);
      }
    }
    a = b;
    b = c;
  }
  for (const id of ids) SEEN[id] = 0;
  return ids;
}

export function trigramToken(id: number): string {
  return `t${id.toString(36)}`;
}

/** The document the FTS table indexes for a file: its distinct trigram tokens. */
export function trigramDocument(text: string): string {
  return trigramIds(text).map(trigramToken).join(' ');
}
