/**
 * The candidate filter's tokens: **sparse n-grams** (GitHub code search's scheme, after Russ Cox's trigram index).
 *
 * Every pair of adjacent characters (a bigram) gets a weight — low for pairs that are common in source code,
 * high for rare ones (BIGRAM_RANKS). A substring of 3 to MAX_GRAM characters is a *sparse n-gram* when the
 * bigrams at its two ends both weigh more than every bigram inside it. Every trigram qualifies (it has no inside
 * bigram); longer grams form where common pairs sit between two rarer ones (`ratio`, `from_`, `utex(`).
 *
 * The index stores, per file, each distinct sparse n-gram once (an ordinary trigram index plus the longer grams).
 * A query keeps only the sparse n-grams of its literal that no longer one contains: because whether a substring
 * is a sparse n-gram depends only on its own characters, each of them occurs — and was indexed — in every file
 * that contains the literal, so the AND of them never drops a match, and the long ones say "these characters
 * are adjacent", which a trigram AND cannot (kernel, `struct file_operations`: 4,779 candidate files with
 * trigrams, 1,446 with sparse n-grams, 1,165 true; bench/RESULTS.md). Verification stays exact (content-search.ts).
 *
 * Grams never span a line break (matches never do) nor include a non-ASCII character (queries skip them, so
 * Unicode case folding can never make the filter drop a true match); ASCII case is folded for index and query
 * alike, so `-i` never loses a file. A gram of L ≤ MAX_GRAM folded 7-bit codes (none is 0: a NUL makes a file
 * binary) packs into one exact number below 2^35, so tokens are exact, with no hashing.
 */

/**
 * Longest indexed gram. On the kernel's fs/ (2,078 files), `struct file_operations` (217 true files) gave 286
 * candidate files at 5 and 284 at 7, with 7.3 M and 9.3 M postings: 5 keeps the precision for less index.
 */
export const MAX_GRAM = 5;

/**
 * The 256 most frequent bigrams (ASCII case folded, line breaks excluded) of C and JavaScript source — the
 * kernel's fs/ and drivers/net/ and a node_modules tree, equally weighted; 70% of all bigram occurrences there —
 * most frequent first. Regenerate with `npx tsx bench/bigram-ranks.ts DIR…`; changing it changes every token,
 * so it goes with an index schema migration (index-database.ts).
 */
const BIGRAM_RANKS = '  \t\tin, ree stdeert  *at0xteentron tnt= etse00 0leesthor i =aacotitact sac->e_s * );n net_arhe aals_it",eaca ced_sanmatod fiifloiof  ris_criodrofsru (nox0r _imerans fngchaslindsiur" _rex_trt o n bpeocucecgeunad0,evpa eprid p_pceou\t icag_d dtur_/**/ef\ti mve) ck: ll "d_elamilpo {halaptdio fonc_f_mrnusrr_le,_b_aof_enatsutotx_daom\trc_** wopblap | l\t"ssul,"ffmoue\tsnfspeeem(sp_tyain_nihimirsigclnu ubeimoll_ieke| mpy buba,0xtl vag_irc,egze_nupiz viaumscg _o &ype(\t}lum_drc rye)k_ab h\\no_bia s.==rcfafrsut(sovitt / 1';

/** Bigram weight by `(a << 7) | b`: rank for the listed pairs (common → low), 256 + a fixed hash above them. */
const WEIGHTS = (() => {
  const weights = new Uint32Array(1 << 14);
  for (let bigram = 0; bigram < weights.length; bigram++) {
    let x = Math.imul(bigram ^ 0x9E3779B9, 0x85EBCA6B);
    x ^= x >>> 13;
    weights[bigram] = 256 + ((Math.imul(x, 0xC2B2AE35) >>> 8) & 0xFFFFFF);
  }
  for (let rank = 0; rank < BIGRAM_RANKS.length / 2; rank++) {
    weights[(BIGRAM_RANKS.charCodeAt(2 * rank) << 7) | BIGRAM_RANKS.charCodeAt(2 * rank + 1)] = rank;
  }
  return weights;
})();

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

/** Scratch space for one run (a line): bigram weights, the stack, and the grams found, grown as needed. */
let weights = new Uint32Array(4096);
let stack = new Int32Array(4096);
/** The grams `codes[gramStarts[k]..gramEnds[k])` that {@link findSparseGrams} found. */
let gramStarts = new Int32Array(8192);
let gramEnds = new Int32Array(8192);

/**
 * Finds every sparse n-gram of a run of folded codes, 3 ≤ length ≤ MAX_GRAM, into gramStarts/gramEnds, and
 * returns how many. A monotonic stack over the bigram weights finds every pair of bigrams with only lighter ones
 * between them in O(n) (at most 2n pairs): the same code runs on files and on queries, so both see the same grams.
 */
function findSparseGrams(codes: Uint8Array, length: number): number {
  if (length < 3) return 0;
  const bigrams = length - 1;
  if (weights.length < bigrams) {
    weights = new Uint32Array(bigrams);
    stack = new Int32Array(bigrams);
    gramStarts = new Int32Array(2 * bigrams);
    gramEnds = new Int32Array(2 * bigrams);
  }
  for (let k = 0; k < bigrams; k++) weights[k] = WEIGHTS[(codes[k] << 7) | codes[k + 1]];
  let found = 0;
  let top = 0;
  for (let j = 0; j < bigrams; j++) {
    const weight = weights[j];
    while (top > 0 && weights[stack[top - 1]] < weight) {
      const i = stack[--top];
      if (j - i + 2 <= MAX_GRAM) {
        gramStarts[found] = i;
        gramEnds[found++] = j + 2;
      }
    }
    if (top > 0) {
      const i = stack[top - 1];
      if (j - i + 2 <= MAX_GRAM) {
        gramStarts[found] = i;
        gramEnds[found++] = j + 2;
      }
      // An equal weight inside ends every later gram that would start at i.
      if (weights[i] === weight) top--;
    }
    stack[top++] = j;
  }
  return found;
}

/** The gram `codes[start..end)` as one number: its 7-bit codes in base 128 (distinct for distinct grams). */
function gramId(codes: Uint8Array, start: number, end: number): number {
  let id = 0;
  for (let k = start; k < end; k++) id = id * 128 + codes[k];
  return id;
}

/** Splits a text into runs of folded ASCII codes (no line break, no other character) and calls `onRun` for each. */
let runCodes = new Uint8Array(1 << 16);

function forEachRun(text: string, onRun: (codes: Uint8Array, length: number) => void): void {
  if (runCodes.length < text.length) runCodes = new Uint8Array(text.length);
  const codes = runCodes;
  let length = 0;
  for (let i = 0; i <= text.length; i++) {
    const code = i < text.length ? foldedCode(text, i) : -1;
    if (code < 0 || code === 10) {
      onRun(codes, length);
      length = 0;
    } else {
      codes[length++] = code;
    }
  }
}

/** Trigrams seen in the current text, one bit per id (< 2^21): 256 KB, small enough to stay in the CPU's cache. */
const SEEN_TRIGRAMS = new Int32Array(1 << 16);
const TRIGRAM_IDS = 1 << 21;

/**
 * Longer grams (ids up to 2^35) seen in the current text: an open-addressing set of doubles (0 = empty; no gram
 * id is 0), cleared slot by slot after each text. A `Set<number>` boxes every id above 2^31 and made this the
 * worker's hottest allocation.
 */
let seenLonger = new Float64Array(1 << 16);
let usedSlots = new Int32Array(1 << 15);
let usedCount = 0;

/** Adds `id` to the set of longer grams; true when it was not there yet. */
function addLonger(id: number): boolean {
  if (usedCount * 2 >= seenLonger.length) growLonger();
  const mask = seenLonger.length - 1;
  let slot = (Math.imul((id % 0x40000000) | 0, 0x9E3779B1) ^ Math.floor(id / 0x40000000)) & mask;
  for (;;) {
    const held = seenLonger[slot];
    if (held === id) return false;
    if (held === 0) break;
    slot = (slot + 1) & mask;
  }
  seenLonger[slot] = id;
  usedSlots[usedCount++] = slot;
  return true;
}

function growLonger(): void {
  const held = Array.from(usedSlots.subarray(0, usedCount), (slot) => seenLonger[slot]);
  seenLonger = new Float64Array(seenLonger.length * 2);
  usedSlots = new Int32Array(seenLonger.length / 2);
  usedCount = 0;
  for (const id of held) addLonger(id);
}

function clearLonger(): void {
  for (let k = 0; k < usedCount; k++) seenLonger[usedSlots[k]] = 0;
  usedCount = 0;
}

/**
 * Calls `onGram` with each distinct sparse n-gram id of a text, in first-seen order. One pass over the
 * characters with no per-run callback: this is the indexer's hottest loop (bench/RESULTS.md, issue 16).
 */
function forEachIndexGram(text: string, onGram: (id: number) => void): void {
  if (runCodes.length < text.length) runCodes = new Uint8Array(text.length);
  const codes = runCodes;
  let length = 0;
  for (let i = 0; i <= text.length; i++) {
    const code = i < text.length ? foldedCode(text, i) : -1;
    if (code >= 0 && code !== 10) {
      codes[length++] = code;
      continue;
    }
    const found = findSparseGrams(codes, length);
    length = 0;
    for (let k = 0; k < found; k++) {
      const start = gramStarts[k];
      const end = gramEnds[k];
      const id = gramId(codes, start, end);
      if (end - start === 3) {
        const bit = 1 << (id & 31);
        if ((SEEN_TRIGRAMS[id >>> 5] & bit) !== 0) continue;
        SEEN_TRIGRAMS[id >>> 5] |= bit;
      } else if (!addLonger(id)) {
        continue;
      }
      onGram(id);
    }
  }
}

/** Forgets the grams one text marked as seen (`ids` are that text's grams). */
function clearSeen(ids: ArrayLike<number>, count: number): void {
  for (let k = 0; k < count; k++) if (ids[k] < TRIGRAM_IDS) SEEN_TRIGRAMS[ids[k] >>> 5] = 0;
  clearLonger();
}

/** Scratch space for one text's gram ids, grown as needed. */
let textGrams = new Float64Array(1 << 16);

/**
 * Distinct sparse n-gram ids of a text, in first-seen order: what the index stores for a file (its postings,
 * gram-postings.ts). A typed array, so it crosses from the analysis worker as one copy of its bytes.
 */
export function indexGramIds(text: string): Float64Array {
  let count = 0;
  forEachIndexGram(text, (id) => {
    if (count === textGrams.length) {
      const grown = new Float64Array(textGrams.length * 2);
      grown.set(textGrams);
      textGrams = grown;
    }
    textGrams[count++] = id;
  });
  clearSeen(textGrams, count);
  return textGrams.slice(0, count);
}

/**
 * The grams a file containing `text` must have, in order of position: the sparse n-grams of each run of the
 * text that no other one contains (a file with the longer gram has the shorter one too, so it adds nothing).
 */
export function queryGramIds(text: string): number[] {
  const kept = new Set<number>();
  forEachRun(text, (codes, length) => {
    const found = findSparseGrams(codes, length);
    const grams = Array.from({ length: found }, (_, k): [number, number] => [gramStarts[k], gramEnds[k]]);
    // By start, longest first: a gram is contained in another iff an earlier one in this order reaches as far.
    grams.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
    let reach = -1;
    for (const [start, end] of grams) {
      if (end <= reach) continue;
      reach = end;
      kept.add(gramId(codes, start, end));
    }
  });
  return [...kept];
}
