import type { SqliteDatabase } from './index-database.js';
import { ConcatCursor, NO_IDS } from './id-cursors.js';
import { BlockReader, BlockWriter, listInBlock, type IdCursor } from './posting-blocks.js';

/**
 * Files of one run at most: a run's sort key is `gram × RUN_FILES + the file's place in the run`, exact in a
 * double because grams are below 2^35 (trigram-tokens.ts) and 2^35 × 2^17 = 2^52.
 */
const RUN_FILES = 1 << 17;
/**
 * Postings (gram, file) buffered before they are sorted and written as a segment: 2^21 keys are 16 MB. Larger
 * runs mean fewer segments to merge; this keeps the writer's memory small (the kernel has ≈ 140 M postings).
 */
const RUN_POSTINGS = 1 << 21;
/** Segments of one size class merged together once this many of them are the newest. */
const FAN_IN = 8;
/** Postings of the smallest size class: segments below it are all level 0. */
const LEVEL_BASE = 4096;

function levelOf(postings: number): number {
  return postings <= LEVEL_BASE ? 0 : Math.floor(Math.log(postings / LEVEL_BASE) / Math.log(FAN_IN));
}

interface Segment {
  id: number;
  postings: number;
}

/**
 * The candidate filter's posting lists: for each sparse n-gram (trigram-tokens.ts), the ids of the files that
 * contain it. Replaces an FTS5 table whose pending-term hash cost more than half of the indexer's main thread
 * (bench/RESULTS.md, issue 16).
 *
 * A write adds a file's grams to an in-memory *run*; the run is sorted (one typed-array sort) and written as a
 * *segment* — blocks of delta-varint lists (posting-blocks.ts) in `gram_blocks` — when it fills and at the end of
 * every write transaction (FileStore.transaction), so a committed file always has its postings. Segments are
 * merged size class by size class ({@link FAN_IN} at a time, as an LSM tree does). File ids only grow (`files` is
 * AUTOINCREMENT, a rewritten file gets a new id, and writers of all processes take turns under SQLite's write
 * lock), so every segment's ids are above the older segments' — a gram's list across segments is their
 * concatenation — and `last_file` of the newest segment is a watermark: files above it have no postings (a
 * session view wrote them inside its savepoint) and are always candidates, which keeps the filter a superset of
 * the true answer. Postings of removed and rewritten files (dead ids) stay until a merge drops them; until then
 * they only admit ids that no longer name a file.
 */
export class GramPostings {
  /** The run's sort keys, allocated on first use (a reader never needs them) and grown up to a run's size. */
  private keys = new Float64Array(0);
  private used = 0;
  private runFiles: number[] = [];
  private readonly statements;

  constructor(db: SqliteDatabase) {
    this.statements = {
      segments: db.prepare('SELECT id, postings FROM gram_segments ORDER BY id'),
      watermark: db.prepare('SELECT coalesce(max(last_file), 0) FROM gram_segments').pluck(),
      insertSegment: db.prepare('INSERT INTO gram_segments (postings, last_file) VALUES (?, ?)'),
      updateSegment: db.prepare('UPDATE gram_segments SET postings = ? WHERE id = ?'),
      deleteSegment: db.prepare('DELETE FROM gram_segments WHERE id = ?'),
      lastFileOf: db.prepare('SELECT max(last_file) FROM gram_segments WHERE id >= ?').pluck(),
      insertBlock: db.prepare('INSERT INTO gram_blocks (segment, first_gram, data) VALUES (?, ?, ?)'),
      deleteBlocks: db.prepare('DELETE FROM gram_blocks WHERE segment = ?'),
      blockOf: db.prepare('SELECT first_gram, data FROM gram_blocks WHERE segment = ? AND first_gram <= ? ORDER BY first_gram DESC LIMIT 1').raw(),
      blocksAfter: db.prepare('SELECT first_gram, data FROM gram_blocks WHERE segment = ? AND first_gram > ? ORDER BY first_gram LIMIT 32').raw(),
      liveIds: db.prepare('SELECT id FROM files').pluck(),
      maxFileId: db.prepare('SELECT coalesce(max(id), 0) FROM files').pluck(),
    };
  }

  /**
   * Adds file `fileId`'s distinct grams to the run, writing the run first when it is full (call inside a write
   * transaction). Ids must grow from call to call (see the class comment).
   */
  add(fileId: number, grams: ArrayLike<number>): void {
    if (this.runFiles.length === RUN_FILES || (this.used > 0 && this.used + grams.length > RUN_POSTINGS)) this.flush();
    if (this.used + grams.length > this.keys.length) {
      const grown = new Float64Array(Math.max(Math.min(2 * this.keys.length, RUN_POSTINGS), this.used + grams.length, 1 << 12));
      grown.set(this.keys.subarray(0, this.used));
      this.keys = grown;
    }
    const place = this.runFiles.length;
    this.runFiles.push(fileId);
    for (let k = 0; k < grams.length; k++) this.keys[this.used++] = grams[k] * RUN_FILES + place;
  }

  /** Forgets the run (its transaction rolled back: the files it held are not in the index). */
  discard(): void {
    this.used = 0;
    this.runFiles = [];
  }

  /** Writes the run as a segment and merges size classes that filled up. Call inside a write transaction. */
  flush(): void {
    if (!this.runFiles.length) return;
    const keys = this.keys.subarray(0, this.used);
    keys.sort();
    const segment = Number(this.statements.insertSegment.run(this.used, this.runFiles.at(-1)!).lastInsertRowid);
    const writer = new BlockWriter((firstGram, data) => this.statements.insertBlock.run(segment, firstGram, data));
    const ids: number[] = [];
    let gram = -1;
    for (let k = 0; k < keys.length; k++) {
      if (k > 0 && keys[k] === keys[k - 1]) continue;
      const keyGram = Math.floor(keys[k] / RUN_FILES);
      if (keyGram !== gram) {
        if (ids.length) writer.add(gram, ids);
        ids.length = 0;
        gram = keyGram;
      }
      ids.push(this.runFiles[keys[k] - keyGram * RUN_FILES]);
    }
    if (ids.length) writer.add(gram, ids);
    writer.finish();
    this.discard();
    this.mergeFullClasses();
  }

  /** Files with an id above this have no postings yet: every query takes them as candidates. */
  postedThrough(): number {
    return this.statements.watermark.get() as number;
  }

  /**
   * A lookup over the segments as they are now: for a gram, the ids of the files holding it as a cursor that
   * decodes only what it is asked for (dead ids included: callers join with `files`). Use it within one
   * synchronous query; a write may merge segments.
   */
  reader(): (gram: number) => IdCursor {
    const segments = (this.statements.segments.all() as Segment[]).map((segment) => segment.id);
    return (gram) => {
      const parts: IdCursor[] = [];
      for (const segment of segments) {
        const block = this.statements.blockOf.get(segment, gram) as [number, Uint8Array] | undefined;
        const list = block && listInBlock(block[1], block[0], gram);
        if (list) parts.push(list);
      }
      return parts.length === 0 ? NO_IDS : parts.length === 1 ? parts[0] : new ConcatCursor(parts);
    };
  }

  /** While the newest {@link FAN_IN} or more segments share a size class, merges them into one. */
  private mergeFullClasses(): void {
    for (;;) {
      const segments = this.statements.segments.all() as Segment[];
      if (segments.length < 2) return;
      const level = levelOf(segments.at(-1)!.postings);
      let first = segments.length - 1;
      while (first > 0 && levelOf(segments[first - 1].postings) <= level) first--;
      if (segments.length - first < FAN_IN) return;
      this.merge(segments.slice(first));
    }
  }

  /**
   * Merges consecutive segments (oldest first) into a new one, dropping the postings of ids that no longer name
   * a file. Lists are concatenated in segment order, which keeps them ascending (see the class comment).
   */
  private merge(segments: Segment[]): void {
    // One byte per id up to the largest: a Set's lookups were a third of a kernel build's merge time.
    const live = new Uint8Array((this.statements.maxFileId.get() as number) + 1);
    for (const id of this.statements.liveIds.iterate() as Iterable<number>) live[id] = 1;
    const keep = (id: number) => live[id] === 1;
    const lastFile = this.statements.lastFileOf.get(segments[0].id) as number;
    const merged = Number(this.statements.insertSegment.run(0, lastFile).lastInsertRowid);
    const writer = new BlockWriter((firstGram, data) => this.statements.insertBlock.run(merged, firstGram, data));
    const cursors = segments.map((segment) => new SegmentCursor(segment.id, this.statements.blocksAfter));
    const ids: number[] = [];
    let postings = 0;
    for (;;) {
      let gram = Infinity;
      for (const cursor of cursors) if (cursor.reader && cursor.reader.gram < gram) gram = cursor.reader.gram;
      if (gram === Infinity) break;
      ids.length = 0;
      for (const cursor of cursors) {
        if (cursor.reader?.gram !== gram) continue;
        cursor.reader.ids(ids, keep);
        cursor.advance();
      }
      if (ids.length) writer.add(gram, ids);
      postings += ids.length;
    }
    writer.finish();
    this.statements.updateSegment.run(postings, merged);
    for (const segment of segments) {
      this.statements.deleteBlocks.run(segment.id);
      this.statements.deleteSegment.run(segment.id);
    }
  }
}

/** Reads one segment's entries in gram order, a page of blocks at a time (no statement stays open). */
class SegmentCursor {
  reader: BlockReader | null = null;
  private page: [number, Uint8Array][] = [];
  private next = 0;
  private lastFirstGram = -1;

  constructor(private readonly segment: number, private readonly blocksAfter: { all: (...args: unknown[]) => unknown[] }) {
    this.advance();
  }

  /** Moves to the next entry; `reader` becomes null after the last one. */
  advance(): void {
    if (this.reader?.next()) return;
    for (;;) {
      if (this.next === this.page.length) {
        this.page = this.blocksAfter.all(this.segment, this.lastFirstGram) as [number, Uint8Array][];
        this.next = 0;
        if (!this.page.length) {
          this.reader = null;
          return;
        }
      }
      const [firstGram, data] = this.page[this.next++];
      this.lastFirstGram = firstGram;
      this.reader = new BlockReader(data, firstGram);
      if (this.reader.next()) return;
    }
  }
}
