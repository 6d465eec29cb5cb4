import { CodeloopError } from '../errors.js';

/**
 * The byte format of the gram postings (gram-postings.ts): a segment's posting lists, sorted by gram, cut into
 * blocks of about {@link BLOCK_BYTES}. A block is a sequence of entries, each
 *
 *     varint(gram − previous gram)  varint(file count)  varint(byte length of the list)  list…
 *
 * where the first entry's previous gram is the block's first gram (stored beside the block, so its delta is 0).
 * The list holds ascending file ids as varint deltas, the first from 0 (codesearch's and zoekt's layout: common
 * grams cost about a byte per file). A list of more than {@link CHUNK_IDS} ids is cut into chunks of that many,
 * each headed by its id bounds:
 *
 *     varint(chunk's last id − previous chunk's last id)  varint(byte length of the chunk's deltas)  deltas…
 *
 * (the first chunk's "previous last id" is 0, and each chunk's deltas start from it), so an intersection that
 * seeks an id hops over the chunks that end before it without decoding them (zoekt and Lucene keep skip data
 * for the same reason: a rare gram's few candidates need only a few chunks of a common gram's list). The byte
 * length of a list lets a lookup skip it without decoding. Varints are little-endian base 128; grams reach 2^35
 * (trigram-tokens.ts), so they are written with arithmetic rather than 32-bit bit operations.
 */

/**
 * Ids per chunk of a long list. Chunk headers cost ≈ 2–4 bytes per chunk (≈ 2% of a list at ≈ 1.1 bytes per
 * id); a seek into a chunk decodes half of it on average.
 */
export const CHUNK_IDS = 128;

/**
 * A block ends before an entry would take it past this many bytes (an entry longer than that makes a block of
 * its own). SQLite keeps a row of a WITHOUT ROWID table in its 4 KB page only up to ≈ 1,000 bytes of record and
 * spills the rest to overflow pages: blocks of 900–1,000 bytes left half of those pages empty (node_modules:
 * 24.5 MB of pages for 12.9 MB of blocks), and 16 KB blocks made a lookup scan thousands of entries (a rare
 * literal's candidate query 7.4 ms against 2.2 ms with FTS5).
 */
export const BLOCK_BYTES = 960;

/** A growable byte buffer written with varints. */
export class ByteWriter {
  bytes = new Uint8Array(1 << 16);
  length = 0;

  private reserve(extra: number): void {
    if (this.length + extra <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.length + extra));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }

  varint(value: number): void {
    this.reserve(8);
    while (value >= 128) {
      this.bytes[this.length++] = (value % 128) + 128;
      value = Math.floor(value / 128);
    }
    this.bytes[this.length++] = value;
  }

  append(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.bytes.set(bytes, this.length);
    this.length += bytes.length;
  }

  /** The bytes written so far, copied out; the writer starts over. */
  take(): Buffer {
    const taken = Buffer.from(this.bytes.subarray(0, this.length));
    this.length = 0;
    return taken;
  }
}

const DAMAGED = 'the index\'s gram postings are damaged; run `codeloop index --rebuild`';

/** Reads one varint at `reader.position`, advancing it; a varint cut off at `end` is a damaged index. */
function readVarint(reader: { data: Uint8Array; position: number }, end = reader.data.length): number {
  let value = 0;
  let scale = 1;
  for (;;) {
    if (reader.position >= end) throw new CodeloopError('corruptIndex', DAMAGED);
    const byte = reader.data[reader.position++];
    value += (byte & 127) * scale;
    if (byte < 128) return value;
    scale *= 128;
  }
}

/**
 * An ascending stream of file ids that jumps forward on request: one list (a {@link ListCursor}), or lists
 * combined (id-cursors.ts). `seek` is the only way forward, so a list is decoded only as far as it is asked.
 */
export interface IdCursor {
  /** How many ids the stream holds at most: intersections start from the smallest. */
  readonly size: number;
  /** The first id ≥ `target`, or Infinity when none is left. Targets must not decrease from call to call. */
  seek(target: number): number;
}

/** One posting list, decoded lazily: a seek hops over the chunks whose last id is below the target. */
export class ListCursor implements IdCursor {
  position: number;
  /** The id last decoded (the base of the next delta): 0 before the first, a chunk's last id after a hop. */
  private id = 0;
  /** What the last seek answered: -1 before the first. */
  private current = -1;
  private readonly chunked: boolean;
  private inChunk = false;
  private chunkLast = 0;
  private chunkEnd = 0;

  constructor(readonly data: Uint8Array, start: number, private readonly end: number, readonly size: number) {
    this.position = start;
    this.chunked = size > CHUNK_IDS;
  }

  seek(target: number): number {
    if (this.current >= target) return this.current;
    let limit = this.end;
    if (this.chunked) {
      while (!this.inChunk || this.chunkLast < target) {
        if (this.inChunk) {
          this.id = this.chunkLast;
          this.position = this.chunkEnd;
        }
        if (this.position >= this.end) return (this.current = Infinity);
        this.chunkLast = this.id + readVarint(this, this.end);
        const length = readVarint(this, this.end);
        this.chunkEnd = this.position + length;
        this.inChunk = true;
      }
      limit = this.chunkEnd;
    }
    for (;;) {
      // A chunk whose last id is ≥ target always holds the answer: running out inside one is damage.
      if (this.position >= limit && !this.chunked) return (this.current = Infinity);
      this.id += readVarint(this, limit);
      if (this.id >= target) return (this.current = this.id);
    }
  }
}

/** Walks a block's entries: after each `next()` that returned true, `gram`, `count` and the list's byte range. */
export class BlockReader {
  position = 0;
  gram: number;
  count = 0;
  listStart = 0;
  listEnd = 0;

  constructor(readonly data: Uint8Array, firstGram: number) {
    this.gram = firstGram;
  }

  next(): boolean {
    if (this.position >= this.data.length) return false;
    this.gram += readVarint(this);
    this.count = readVarint(this);
    const length = readVarint(this);
    this.listStart = this.position;
    this.listEnd = this.position + length;
    this.position = this.listEnd;
    return true;
  }

  /** The current entry's list as a cursor. */
  cursor(): ListCursor {
    return new ListCursor(this.data, this.listStart, this.listEnd, this.count);
  }

  /** Appends the current entry's file ids to `into`, keeping those `keep` accepts (all without it). */
  ids(into: number[], keep?: (id: number) => boolean): void {
    const reader = { data: this.data, position: this.listStart };
    const chunked = this.count > CHUNK_IDS;
    let id = 0;
    let chunkEnd = chunked ? this.listStart : this.listEnd; // a chunked list starts with a chunk header
    while (reader.position < this.listEnd) {
      if (chunked && reader.position >= chunkEnd) {
        readVarint(reader, this.listEnd); // the chunk's last id: the deltas continue from the previous one anyway
        const length = readVarint(reader, this.listEnd);
        chunkEnd = reader.position + length;
        continue;
      }
      id += readVarint(reader, this.listEnd);
      if (!keep || keep(id)) into.push(id);
    }
  }
}

/** The list of `gram` in a block starting at `firstGram`, or null when the block lacks it. */
export function listInBlock(data: Uint8Array, firstGram: number, gram: number): ListCursor | null {
  const reader = new BlockReader(data, firstGram);
  while (reader.next()) {
    if (reader.gram === gram) return reader.cursor();
    if (reader.gram > gram) return null;
  }
  return null;
}

/**
 * Writes posting lists in ascending gram order into blocks, handing each finished block to `onBlock` with its
 * first gram. Call {@link finish} after the last list.
 */
export class BlockWriter {
  private readonly block = new ByteWriter();
  private readonly list = new ByteWriter();
  private readonly chunk = new ByteWriter();
  private firstGram = -1;
  private previousGram = 0;

  constructor(private readonly onBlock: (firstGram: number, data: Buffer) => void) {}

  /** Adds the list of `gram` (greater than the last one added); `ids` ascending, at least one. */
  add(gram: number, ids: ArrayLike<number>, count = ids.length): void {
    if (count <= CHUNK_IDS) {
      this.deltas(this.list, ids, 0, count, 0);
    } else {
      for (let first = 0, previousLast = 0; first < count; first += CHUNK_IDS) {
        const end = Math.min(first + CHUNK_IDS, count);
        this.deltas(this.chunk, ids, first, end, previousLast);
        this.list.varint(ids[end - 1] - previousLast);
        this.list.varint(this.chunk.length);
        this.list.append(this.chunk.bytes.subarray(0, this.chunk.length));
        this.chunk.length = 0;
        previousLast = ids[end - 1];
      }
    }
    // The entry's three varints take at most 6 + 3 + 3 bytes (a gram delta below 2^35, lists below 2^21 bytes).
    if (this.firstGram >= 0 && this.block.length + this.list.length + 12 > BLOCK_BYTES) this.finish();
    if (this.firstGram < 0) {
      this.firstGram = gram;
      this.previousGram = gram;
    }
    this.block.varint(gram - this.previousGram);
    this.block.varint(count);
    this.block.varint(this.list.length);
    this.block.append(this.list.bytes.subarray(0, this.list.length));
    this.list.length = 0;
    this.previousGram = gram;
  }

  /** Writes `ids[first..end)` into `into` as deltas, the first from `previous`. */
  private deltas(into: ByteWriter, ids: ArrayLike<number>, first: number, end: number, previous: number): void {
    for (let k = first; k < end; k++) {
      into.varint(ids[k] - previous);
      previous = ids[k];
    }
  }

  /** Hands over the block in progress, if any. */
  finish(): void {
    if (this.firstGram < 0) return;
    this.onBlock(this.firstGram, this.block.take());
    this.firstGram = -1;
  }
}
