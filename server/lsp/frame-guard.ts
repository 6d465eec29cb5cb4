import { Transform, type TransformCallback } from 'node:stream';
import { z } from 'zod';
import { LIMITS, describeLimit } from '../../protocol/limits.js';

/** The method a guard puts in place of a message over the size limit; answered by the session, never sent by clients. */
export const OVERSIZED_MESSAGE_METHOD = '$/codeloop/oversizedMessage';

/** Params of an {@link OVERSIZED_MESSAGE_METHOD} stand-in: what could be learnt of the skipped message. */
export const OversizedMessageSchema = z.object({
  /** The skipped message's `method`, when it had one (a string of at most 256 characters). */
  method: z.string().max(256).nullable(),
  /** Its Content-Length in bytes. */
  bytes: z.number().int().nonnegative(),
});
export type OversizedMessage = z.infer<typeof OversizedMessageSchema>;

const CR = 0x0d;
const LF = 0x0a;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const CAPTURE_LIMIT = 256;

/**
 * Finds the top-level `id` and `method` of a JSON object streamed through it in chunks, in one pass and constant
 * memory, whatever the object's size or the order of its keys (Helix sends `id` last).
 */
class TopLevelFieldScanner {
  private depth = 0;
  private inString = false;
  private escaped = false;
  private expectingKey = false;
  private readingKey = false;
  private key: number[] = [];
  private capturing: 'id' | 'method' | null = null;
  private captured: number[] = [];
  readonly fields: { id?: string; method?: string } = {};

  push(chunk: Buffer): void {
    const find = (byte: number, from: number) => {
      const at = chunk.indexOf(byte, from);
      return at === -1 ? chunk.length : at;
    };
    let nextQuote = -1;
    let nextBackslash = -1;
    for (let i = 0; i < chunk.length; i++) {
      // Inside a string nothing matters but its end: jump to the next quote or backslash (most of a huge message).
      if (this.inString && !this.escaped && !this.readingKey && !(this.capturing && this.captured.length <= CAPTURE_LIMIT)) {
        if (nextQuote < i) nextQuote = find(QUOTE, i);
        if (nextBackslash < i) nextBackslash = find(BACKSLASH, i);
        i = Math.min(nextQuote, nextBackslash);
        if (i >= chunk.length) return;
      }
      this.step(chunk[i]);
    }
  }

  private step(byte: number): void {
    if (this.capturing && this.depth === 1 && this.captured.length <= CAPTURE_LIMIT) this.captured.push(byte);
    if (this.inString) {
      if (this.escaped) this.escaped = false;
      else if (byte === BACKSLASH) this.escaped = true;
      else if (byte === QUOTE) {
        this.inString = false;
        if (this.readingKey) {
          this.readingKey = false;
          this.expectingKey = false;
        }
      }
      else if (this.readingKey && this.key.length <= 16) this.key.push(byte);
      return;
    }
    switch (byte) {
      case QUOTE:
        this.inString = true;
        if (this.depth === 1 && this.expectingKey) {
          this.readingKey = true;
          this.key = [];
        }
        return;
      case 0x7b: // {
      case 0x5b: // [
        this.depth++;
        if (this.depth === 1) this.expectingKey = byte === 0x7b;
        return;
      case 0x7d: // }
      case 0x5d: // ]
        if (this.depth === 1) this.finishCapture(true);
        this.depth--;
        return;
      case 0x3a: // :
        if (this.depth === 1) {
          const key = Buffer.from(this.key).toString('utf8');
          this.capturing = key === 'id' || key === 'method' ? key : null;
          this.captured = [];
        }
        return;
      case 0x2c: // ,
        if (this.depth === 1) {
          this.finishCapture(true);
          this.expectingKey = true;
        }
        return;
      default:
    }
  }

  /** Keeps a captured value only when it is a JSON string or number, as an id or method must be. */
  private finishCapture(endedByDelimiter: boolean): void {
    if (!this.capturing) return;
    const bytes = endedByDelimiter ? this.captured.slice(0, -1) : this.captured;
    try {
      const value: unknown = JSON.parse(Buffer.from(bytes).toString('utf8'));
      if (typeof value === 'string' || (typeof value === 'number' && this.capturing === 'id')) {
        this.fields[this.capturing] = JSON.stringify(value);
      }
    } catch {
      // too long or not JSON: not an id a client could be answered with
    }
    this.capturing = null;
  }
}

/**
 * Sits between a connection's byte stream and its JSON-RPC reader and enforces the message limits before a byte
 * is buffered: a frame up to `LIMITS.messageBytes` passes unchanged; a larger one is skipped as it streams past
 * (never held in memory, never parsed) and replaced by a small {@link OVERSIZED_MESSAGE_METHOD} message carrying
 * the original `id`, so the client gets an InvalidParams answer naming the limit. A header block that is too long
 * or has no numeric Content-Length cannot be resynchronised: `onViolation` is called and nothing more is passed.
 */
export class FrameGuard extends Transform {
  private header: Buffer[] = [];
  private headerBytes = 0;
  private headerEnd = 0;
  /** Body bytes still to pass (positive) or to skip (with `skipping` set) for the current frame. */
  private bodyRemaining = 0;
  private skipping: { scanner: TopLevelFieldScanner; bytes: number } | null = null;
  private broken = false;

  constructor(
    private readonly onViolation: (reason: string) => void,
    private readonly limits: { messageBytes: number; headerBytes: number } = LIMITS,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    let offset = 0;
    while (offset < chunk.length && !this.broken) {
      if (this.bodyRemaining > 0) {
        const take = Math.min(this.bodyRemaining, chunk.length - offset);
        const part = chunk.subarray(offset, offset + take);
        if (this.skipping) this.skipping.scanner.push(part);
        else this.push(part);
        this.bodyRemaining -= take;
        offset += take;
        if (this.bodyRemaining === 0 && this.skipping) this.finishSkipped();
        continue;
      }
      offset = this.readHeader(chunk, offset);
    }
    callback();
  }

  /** Consumes header bytes up to the blank line; returns where the body starts (or the chunk's end). */
  private readHeader(chunk: Buffer, from: number): number {
    for (let i = from; i < chunk.length; i++) {
      if (++this.headerBytes > this.limits.headerBytes) {
        this.fail(`a message header longer than ${this.limits.headerBytes} bytes`);
        return chunk.length;
      }
      // Counts the bytes of "\r\n\r\n" seen in a row: 4 ends the header block.
      const byte = chunk[i];
      this.headerEnd = byte === (this.headerEnd % 2 === 0 ? CR : LF) ? this.headerEnd + 1 : byte === CR ? 1 : 0;
      if (this.headerEnd < 4) continue;
      this.header.push(chunk.subarray(from, i + 1));
      const header = Buffer.concat(this.header);
      this.header = [];
      this.headerBytes = 0;
      this.headerEnd = 0;
      this.startBody(header);
      return i + 1;
    }
    this.header.push(chunk.subarray(from));
    return chunk.length;
  }

  private startBody(header: Buffer): void {
    const match = /^content-length:[ \t]*(\d{1,15})[ \t]*$/im.exec(header.toString('latin1'));
    if (!match) {
      this.fail('a message header without a numeric Content-Length');
      return;
    }
    const length = Number(match[1]);
    this.bodyRemaining = length;
    if (length > this.limits.messageBytes) {
      this.skipping = { scanner: new TopLevelFieldScanner(), bytes: length };
      return;
    }
    this.push(header);
  }

  private finishSkipped(): void {
    const { scanner, bytes } = this.skipping!;
    this.skipping = null;
    const { id, method } = scanner.fields;
    const params: OversizedMessage = { method: method === undefined ? null : JSON.parse(method) as string, bytes };
    const body = `{"jsonrpc":"2.0",${id === undefined ? '' : `"id":${id},`}"method":"${OVERSIZED_MESSAGE_METHOD}","params":${JSON.stringify(params)}}`;
    this.push(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  }

  private fail(reason: string): void {
    this.broken = true;
    this.header = [];
    this.onViolation(reason);
  }
}

/** "a 10.5 MB textDocument/didOpen message is over the limit of 8,388,608 bytes (limits.messageBytes)". */
export function oversizedMessageText(message: OversizedMessage): string {
  return `a ${(message.bytes / 1e6).toFixed(1)} MB ${message.method ?? 'JSON-RPC'} message is over the limit of ${describeLimit('messageBytes')}; it was skipped`;
}
