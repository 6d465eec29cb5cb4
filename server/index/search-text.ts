import { isUtf8 } from 'node:buffer';
import { decodeFileBytes } from '../workspace/file-encoding.js';

/**
 * A file's text as ripgrep searches it, on top of the shared decoding (workspace/file-encoding.ts): a UTF-16 or
 * UTF-8 file with a byte-order mark is searched transcoded, without the mark (rg's BOM sniffing), and a file that
 * is not valid UTF-8 is searched as its bytes are — its valid UTF-8 sequences as characters, and each byte that
 * is not part of one as a lone surrogate U+DC80–U+DCFF (Python's "surrogateescape"). No character of a pattern is
 * a lone surrogate and the regex dialect keeps them out of `.` and every class (ripgrep-regex.ts), so such bytes
 * never match by accident, as in rg; and they turn back into the very bytes when a line is printed.
 *
 * (The shared decoding reads such a file as Latin-1 for editing, which keeps it byte for byte; searching it that
 * way would let `café` match the Latin-1 byte E9, which rg does not.)
 */

const ESCAPE_BASE = 0xDC00;

/** The searchable text of a file's bytes, or null when it is binary (a NUL byte, as rg decides). */
export function decodeSearchText(bytes: Uint8Array): string | null {
  const decoded = decodeFileBytes(bytes);
  if (decoded.kind === 'binary') return null;
  return decoded.encoding.name === 'latin1' ? decodeEscapingInvalid(bytes) : decoded.text;
}

/** Length of the UTF-8 sequence a lead byte starts, and the bounds of its second byte (RFC 3629), or null. */
function sequenceOf(lead: number): { length: number; low: number; high: number } | null {
  if (lead >= 0xC2 && lead <= 0xDF) return { length: 2, low: 0x80, high: 0xBF };
  if (lead === 0xE0) return { length: 3, low: 0xA0, high: 0xBF };
  if (lead === 0xED) return { length: 3, low: 0x80, high: 0x9F };
  if (lead >= 0xE1 && lead <= 0xEF) return { length: 3, low: 0x80, high: 0xBF };
  if (lead === 0xF0) return { length: 4, low: 0x90, high: 0xBF };
  if (lead >= 0xF1 && lead <= 0xF3) return { length: 4, low: 0x80, high: 0xBF };
  if (lead === 0xF4) return { length: 4, low: 0x80, high: 0x8F };
  return null;
}

function decodeEscapingInvalid(bytes: Uint8Array): string {
  const parts: string[] = [];
  let runStart = 0;
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  let i = 0;
  while (i < bytes.length) {
    const lead = bytes[i];
    if (lead < 0x80) {
      i++;
      continue;
    }
    const sequence = sequenceOf(lead);
    let valid = sequence !== null && i + sequence.length <= bytes.length
      && bytes[i + 1] >= sequence.low && bytes[i + 1] <= sequence.high;
    for (let k = 2; valid && k < sequence!.length; k++) valid = bytes[i + k] >= 0x80 && bytes[i + k] <= 0xBF;
    if (valid) {
      i += sequence!.length;
      continue;
    }
    parts.push(decoder.decode(bytes.subarray(runStart, i)), String.fromCharCode(ESCAPE_BASE + lead));
    i++;
    runStart = i;
  }
  parts.push(decoder.decode(bytes.subarray(runStart)));
  return parts.join('');
}

function isEscape(code: number): boolean {
  return code >= ESCAPE_BASE + 0x80 && code <= ESCAPE_BASE + 0xFF;
}

/** The bytes a searchable text stands for (printed as rg prints a line: the file's own bytes, UTF-16 as UTF-8). */
export function encodeSearchText(text: string): Buffer {
  let start = 0;
  const parts: Buffer[] = [];
  for (let i = 0; i < text.length; i++) {
    if (!isEscape(text.charCodeAt(i))) continue;
    parts.push(Buffer.from(text.slice(start, i)), Buffer.of(text.charCodeAt(i) - ESCAPE_BASE));
    start = i + 1;
  }
  if (start === 0) return Buffer.from(text);
  parts.push(Buffer.from(text.slice(start)));
  return Buffer.concat(parts);
}

/** How many bytes a searchable text stands for: rg's column unit (an escaped byte is one byte). */
export function searchTextByteLength(text: string): number {
  let escapes = 0;
  for (let i = 0; i < text.length; i++) if (isEscape(text.charCodeAt(i))) escapes++;
  // Buffer.byteLength counts a lone surrogate as the 3 bytes of U+FFFD.
  return Buffer.byteLength(text) - 2 * escapes;
}

/**
 * Where a file's text comes from for search: the editor's unsaved buffer (a string), or the bytes on disk, decoded
 * only when needed ({@link decodeSearchText}).
 */
export type SearchSource = string | Buffer;

/** The searchable text of a source, or null when it is binary. */
export function searchTextOf(source: SearchSource): string | null {
  return typeof source === 'string' ? source : decodeSearchText(source);
}

/** A line that holds a match: 1-based line, the match's UTF-16 index and length, rg's 1-based byte column, the line. */
export interface ByteLineHit {
  line: number;
  character: number;
  length: number;
  column: number;
  text: string;
}

function startsWithMark(bytes: Uint8Array): boolean {
  return (bytes[0] === 0xEF && bytes[1] === 0xBB && bytes[2] === 0xBF) || (bytes[0] === 0xFF && bytes[1] === 0xFE)
    || (bytes[0] === 0xFE && bytes[1] === 0xFF);
}

/**
 * The first match of a UTF-8 literal on each line of a file's bytes, without decoding the whole file: the bytes
 * are searched as they are (one native search per match) and only matching lines are decoded. For every file
 * without a byte-order mark this finds what matching the decoded text finds: UTF-8 is self-synchronising, each
 * escaped byte stands for itself, and a literal never holds a lone surrogate. Returns null for a file with a
 * byte-order mark (decode it instead), [] for a binary file (a NUL byte, as in {@link decodeSearchText}).
 */
export function literalHitsInBytes(bytes: Buffer, literal: Buffer, limit: number): ByteLineHit[] | null {
  if (startsWithMark(bytes)) return null;
  let at = bytes.indexOf(literal);
  if (at === -1 || bytes.indexOf(0) !== -1) return [];
  const valid = isUtf8(bytes);
  const decode = (start: number, end: number) => (valid ? bytes.toString('utf8', start, end) : decodeEscapingInvalid(bytes.subarray(start, end)));
  const hits: ByteLineHit[] = [];
  let line = 1;
  let countedTo = 0;
  while (at !== -1 && hits.length < limit) {
    const start = at === 0 ? 0 : bytes.lastIndexOf(10, at - 1) + 1;
    const newline = bytes.indexOf(10, at);
    const end = newline === -1 ? bytes.length : newline;
    for (let i = bytes.indexOf(10, countedTo); i !== -1 && i < start; i = bytes.indexOf(10, i + 1)) line++;
    countedTo = start;
    hits.push({
      line, character: decode(start, at).length, length: decode(at, at + literal.length).length, column: at - start + 1, text: decode(start, end),
    });
    at = newline === -1 ? -1 : bytes.indexOf(literal, newline + 1);
  }
  return hits;
}
