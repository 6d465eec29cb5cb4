import type { z } from 'zod';
import type { FileEncodingSchema } from '../../protocol/session-lifecycle.js';
import { CodeloopError } from '../errors.js';

/**
 * How a file's bytes become text and back — the one rule shared by the index, the shadow, the diff and Apply,
 * so that what the user approves is what gets written, byte for byte.
 *
 * Decoding, in this order (the first that fits wins):
 * 1. A byte-order mark: `EF BB BF` → UTF-8 with BOM; `FF FE` → UTF-16LE; `FE FF` → UTF-16BE (the BOM is not
 *    part of the text and is written back). `FF FE 00 00` (UTF-32LE) is not supported (refused as binary).
 * 2. A NUL byte anywhere else → binary (ripgrep's rule; UTF-16 without a BOM is binary too, as in rg).
 * 3. Valid UTF-8 → UTF-8 without BOM.
 * 4. Anything else → Latin-1 (ISO-8859-1): each byte 0x00–0xFF is the character U+0000–U+00FF. This mapping is
 *    lossless both ways, so editing the ASCII parts of a Latin-1 (or any 8-bit) file keeps every other byte as it
 *    was; a character above U+00FF cannot be stored and is refused by {@link encodeFileText}. It is deliberately
 *    not Windows-1252: bytes 0x80–0x9F keep their own code points, so they round-trip too.
 *
 * Every decoding is checked to re-encode to the same bytes; one that would not (say, UTF-16 with an unpaired
 * surrogate) is binary rather than silently repaired.
 */

/** A file's encoding: the character encoding and whether a byte-order mark precedes the text (protocol/). */
export type FileEncoding = z.infer<typeof FileEncodingSchema>;
export type TextEncodingName = FileEncoding['name'];

/** What new files get, and what an unsaved editor buffer is taken to be when no file says otherwise. */
export const DEFAULT_ENCODING: FileEncoding = { name: 'utf8', bom: false };

/** A decoded file: text (without BOM) and how to write it back, or why it is not text. */
export type DecodedFile =
  | { kind: 'text'; text: string; encoding: FileEncoding }
  | { kind: 'binary'; reason: string };

const BOMS: { bytes: number[]; encoding: FileEncoding }[] = [
  { bytes: [0xef, 0xbb, 0xbf], encoding: { name: 'utf8', bom: true } },
  { bytes: [0xff, 0xfe], encoding: { name: 'utf16le', bom: true } },
  { bytes: [0xfe, 0xff], encoding: { name: 'utf16be', bom: true } },
];

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const strictUtf16le = new TextDecoder('utf-16le', { fatal: true, ignoreBOM: true });
const strictUtf16be = new TextDecoder('utf-16be', { fatal: true, ignoreBOM: true });

function startsWith(bytes: Uint8Array, prefix: number[]): boolean {
  return prefix.every((byte, i) => bytes[i] === byte);
}

function bomOf(encoding: FileEncoding): Uint8Array {
  return Uint8Array.from(encoding.bom ? BOMS.find((entry) => entry.encoding.name === encoding.name)!.bytes : []);
}

function decodeBody(body: Uint8Array, name: TextEncodingName): string | null {
  try {
    switch (name) {
      case 'utf8':
        return strictUtf8.decode(body);
      case 'utf16le':
        return body.length % 2 ? null : strictUtf16le.decode(body);
      case 'utf16be':
        return body.length % 2 ? null : strictUtf16be.decode(body);
      case 'latin1':
        return Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('latin1');
    }
  } catch {
    return null;
  }
}

/**
 * Decodes a file's bytes by the rules above. Never throws; a file that is not text comes back as
 * `{ kind: 'binary', reason }` with a reason a user can read ("contains NUL bytes", …).
 */
export function decodeFileBytes(bytes: Uint8Array): DecodedFile {
  if (startsWith(bytes, [0xff, 0xfe, 0x00, 0x00])) return { kind: 'binary', reason: 'is UTF-32, which codeloop does not edit' };
  for (const { bytes: bom, encoding } of BOMS) {
    if (!startsWith(bytes, bom)) continue;
    const text = decodeBody(bytes.subarray(bom.length), encoding.name);
    if (text !== null && encodesBack(text, encoding, bytes)) return { kind: 'text', text, encoding };
    if (encoding.name !== 'utf8') return { kind: 'binary', reason: `starts with a ${encoding.name === 'utf16le' ? 'UTF-16LE' : 'UTF-16BE'} byte-order mark but is not valid UTF-16` };
  }
  if (bytes.indexOf(0) !== -1) return { kind: 'binary', reason: 'contains NUL bytes (a binary file)' };
  const utf8 = decodeBody(bytes, 'utf8');
  if (utf8 !== null) return { kind: 'text', text: utf8, encoding: DEFAULT_ENCODING };
  return { kind: 'text', text: decodeBody(bytes, 'latin1')!, encoding: { name: 'latin1', bom: false } };
}

function encodesBack(text: string, encoding: FileEncoding, bytes: Uint8Array): boolean {
  return Buffer.compare(encodeFileText(text, encoding), bytes) === 0;
}

/** Where a text cannot be stored in an encoding: the first such character, its 1-based line and column. */
function firstUnencodable(text: string, encoding: FileEncoding): { character: string; line: number; column: number } | null {
  if (encoding.name !== 'latin1') return null;
  // eslint-disable-next-line no-control-regex
  const at = text.search(/[^\u0000-\u00ff]/u);
  if (at === -1) return null;
  const before = text.slice(0, at);
  const line = before.split('\n').length;
  return { character: String.fromCodePoint(text.codePointAt(at)!), line, column: at - before.lastIndexOf('\n') };
}

/**
 * Encodes text for writing in a file's encoding, BOM first when the file had one.
 * Throws `CodeloopError('unencodableText')` when a character cannot be stored in the encoding (only Latin-1
 * has such characters); the message names the character and its line:column, and says what to do.
 */
export function encodeFileText(text: string, encoding: FileEncoding): Buffer {
  const bad = firstUnencodable(text, encoding);
  if (bad) {
    const code = `U+${bad.character.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
    throw new CodeloopError('unencodableText',
      `the file is Latin-1 (not UTF-8), and ${JSON.stringify(bad.character)} (${code}) at line ${bad.line}, column ${bad.column} cannot be stored in it; use only characters of Latin-1 (U+0000–U+00FF) in this file`);
  }
  const bom = bomOf(encoding);
  switch (encoding.name) {
    case 'utf8':
      return Buffer.concat([bom, Buffer.from(text, 'utf8')]);
    case 'utf16le':
      return Buffer.concat([bom, Buffer.from(text, 'utf16le')]);
    case 'utf16be':
      return Buffer.concat([bom, Buffer.from(text, 'utf16le').swap16()]);
    case 'latin1':
      return Buffer.concat([bom, Buffer.from(text, 'latin1')]);
  }
}

/**
 * The byte offset in the stored file of a position in its decoded text, given the text before that position
 * (BOM included): for reporting columns as bytes of the file as stored, the way ripgrep does.
 */
export function byteOffsetOf(textBefore: string, encoding: FileEncoding): number {
  const bom = bomOf(encoding).length;
  switch (encoding.name) {
    case 'utf8':
      return bom + Buffer.byteLength(textBefore, 'utf8');
    case 'utf16le':
    case 'utf16be':
      return bom + textBefore.length * 2;
    case 'latin1':
      return bom + textBefore.length;
  }
}

/** A human name for an encoding, as shown in messages and diff headers ("UTF-8 with BOM", "Latin-1"). */
export function describeEncoding(encoding: FileEncoding): string {
  const names: Record<TextEncodingName, string> = { utf8: 'UTF-8', utf16le: 'UTF-16LE', utf16be: 'UTF-16BE', latin1: 'Latin-1' };
  return `${names[encoding.name]}${encoding.bom ? ' with BOM' : ''}`;
}

/**
 * A file's line-ending style: `lf` or `crlf` when every line break is that one, `mixed` when both occur
 * (`dominant` is then the more frequent, LF on a tie), `none` for text without line breaks (`dominant` LF).
 * A lone CR is not counted as a line break.
 */
export interface LineEndings {
  style: 'lf' | 'crlf' | 'mixed' | 'none';
  dominant: '\n' | '\r\n';
}

export function detectLineEndings(text: string): LineEndings {
  let crlf = 0;
  let lf = 0;
  for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) {
    if (at > 0 && text[at - 1] === '\r') crlf++;
    else lf++;
  }
  const dominant = crlf > lf ? '\r\n' : '\n';
  const style = crlf && lf ? 'mixed' : crlf ? 'crlf' : lf ? 'lf' : 'none';
  return { style, dominant };
}
