/**
 * Follows an LSP byte stream (`Content-Length: N` headers, then N bytes of JSON) as it is relayed, without
 * holding it back: reports each message body of at most `maxBody` bytes (larger ones are only counted past),
 * and whether the stream sits between messages, where a message of our own may be inserted.
 */
export class FrameSplitter {
  private header = '';
  /** Bytes of the current body still to come (-1: reading a header). */
  private remaining = -1;
  private body: Buffer[] | null = null;

  constructor(private readonly onBody: (body: string) => void, private readonly maxBody = 1024 * 1024) {}

  /** True when every relayed byte belongs to a complete message. */
  get atBoundary(): boolean {
    return this.remaining < 0 && this.header === '';
  }

  push(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.remaining < 0) {
        // Headers are short: a stream that does not end one within 4 KiB is not LSP, and is only relayed.
        const previous = this.header.length;
        const text = this.header + chunk.toString('latin1', offset, Math.min(chunk.length, offset + 4096));
        const end = text.indexOf('\r\n\r\n');
        if (end < 0) {
          this.header = text.slice(-4096);
          return;
        }
        offset += end + 4 - previous;
        const length = /Content-Length:\s*(\d+)/i.exec(text.slice(0, end));
        this.header = '';
        this.remaining = length ? Number(length[1]) : 0;
        this.body = this.remaining <= this.maxBody ? [] : null;
        if (this.remaining === 0) this.finish();
        continue;
      }
      const take = Math.min(this.remaining, chunk.length - offset);
      this.body?.push(chunk.subarray(offset, offset + take));
      this.remaining -= take;
      offset += take;
      if (this.remaining === 0) this.finish();
    }
  }

  private finish(): void {
    const body = this.body;
    this.remaining = -1;
    this.body = null;
    if (body) this.onBody(Buffer.concat(body).toString('utf8'));
  }
}
