import { describe, expect, it } from 'vitest';
import { CodeloopError } from '../../server/errors.js';
import { byteOffsetOf, decodeFileBytes, describeEncoding, detectLineEndings, encodeFileText } from '../../server/workspace/file-encoding.js';

const utf16le = (text: string) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
const utf16be = (text: string) => Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(text, 'utf16le').swap16()]);

describe('file encoding', () => {
  it.each([
    ['UTF-8', Buffer.from('const s = "héllo ✓";\n'), 'UTF-8', 'const s = "héllo ✓";\n'],
    ['UTF-8 with BOM', Buffer.from('\ufeffname,city\r\nZoë,Kraków\r\n'), 'UTF-8 with BOM', 'name,city\r\nZoë,Kraków\r\n'],
    ['UTF-16LE with BOM (PowerShell)', utf16le('Write-Host "é"\r\n'), 'UTF-16LE with BOM', 'Write-Host "é"\r\n'],
    ['UTF-16BE with BOM', utf16be('x = "𝄞"\n'), 'UTF-16BE with BOM', 'x = "𝄞"\n'],
    ['Latin-1', Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a, 0x80, 0x9f, 0xff]), 'Latin-1', 'caf\u00e9\n\u0080\u009f\u00ff'],
    ['UTF-8 BOM then invalid UTF-8 (kept as Latin-1 bytes)', Buffer.from([0xef, 0xbb, 0xbf, 0xe9]), 'Latin-1', '\u00ef\u00bb\u00bf\u00e9'],
    ['empty', Buffer.alloc(0), 'UTF-8', ''],
  ])('decodes %s and encodes it back byte for byte', (_name, bytes, encodingName, text) => {
    const decoded = decodeFileBytes(bytes);
    expect(decoded.kind).toBe('text');
    if (decoded.kind !== 'text') return;
    expect(describeEncoding(decoded.encoding)).toBe(encodingName);
    expect(decoded.text).toBe(text);
    expect(Buffer.compare(encodeFileText(decoded.text, decoded.encoding), bytes)).toBe(0);
  });

  it('keeps every non-ASCII byte of a Latin-1 file when an ASCII word is edited', () => {
    const bytes = Buffer.from([...Buffer.from('price = 10 '), 0xa3, 0x0a, ...Buffer.from('# r'), 0xe9, ...Buffer.from('sum'), 0xe9, 0x0a]);
    const decoded = decodeFileBytes(bytes);
    if (decoded.kind !== 'text') throw new Error('expected text');
    const written = encodeFileText(decoded.text.replace('10', '12'), decoded.encoding);
    expect([...written]).toEqual([...bytes].map((byte, i) => (i === 9 ? '2'.charCodeAt(0) : byte)));
  });

  it.each([
    ['a NUL byte', Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x00, 0x01]), /NUL bytes/],
    ['UTF-16 without a BOM', Buffer.from('abc', 'utf16le'), /NUL bytes/],
    ['UTF-32LE', Buffer.from([0xff, 0xfe, 0, 0, 0x41, 0, 0, 0]), /UTF-32/],
    ['UTF-16LE with an odd length', Buffer.from([0xff, 0xfe, 0x41, 0x00, 0x42]), /not valid UTF-16/],
    ['UTF-16LE with an unpaired surrogate', Buffer.from([0xff, 0xfe, 0x00, 0xd8, 0x41, 0x00]), /not valid UTF-16/],
  ])('refuses %s as not text, saying why', (_name, bytes, reason) => {
    const decoded = decodeFileBytes(bytes);
    expect(decoded.kind).toBe('binary');
    if (decoded.kind === 'binary') expect(decoded.reason).toMatch(reason);
  });

  it('refuses to store a character Latin-1 cannot hold, naming it and where', () => {
    let error: unknown;
    try {
      encodeFileText('ok\nprice: 5 €\n', { name: 'latin1', bom: false });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(CodeloopError);
    expect((error as CodeloopError).code).toBe('unencodableText');
    expect((error as Error).message).toContain('"€" (U+20AC) at line 2, column 10');
  });

  it('gives byte offsets in the file as stored', () => {
    expect(byteOffsetOf('é', { name: 'utf8', bom: false })).toBe(2);
    expect(byteOffsetOf('é', { name: 'utf8', bom: true })).toBe(5);
    expect(byteOffsetOf('é', { name: 'latin1', bom: false })).toBe(1);
    expect(byteOffsetOf('ab', { name: 'utf16le', bom: true })).toBe(6);
  });

  it.each([
    ['a\nb\n', 'lf', '\n'],
    ['a\r\nb\r\n', 'crlf', '\r\n'],
    ['a\r\nb\r\nc\n', 'mixed', '\r\n'],
    ['a\r\nb\nc\n', 'mixed', '\n'],
    ['no break', 'none', '\n'],
    ['lone\rcr\n', 'lf', '\n'],
  ])('detects the line endings of %j', (text, style, dominant) => {
    expect(detectLineEndings(text)).toEqual({ style, dominant });
  });
});
