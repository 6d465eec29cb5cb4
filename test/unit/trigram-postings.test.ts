import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FileAnalysis } from '../../server/index/file-analysis.js';
import { FileStore } from '../../server/index/file-store.js';
import { GramPostings } from '../../server/index/gram-postings.js';
import { allIds } from '../../server/index/id-cursors.js';
import { BLOCK_BYTES, BlockReader, BlockWriter, CHUNK_IDS, listInBlock } from '../../server/index/posting-blocks.js';
import { openIndexDatabase, type SqliteDatabase } from '../../server/index/index-database.js';

/** A file's analysis holding only what the postings read: its grams. */
function analysis(grams: number[]): FileAnalysis {
  return { hash: 'h', language: null, grams: Float64Array.from(grams), symbols: [], pathWords: '', symbolWords: '', bodyWords: '' };
}

let seed = 11;
const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
/** Grams from a small alphabet (so lists are long) and a few near 2^35 (the largest 5-character gram ids). */
const randomGrams = () => {
  const grams = new Set<number>();
  const count = Math.floor(random() * 60);
  for (let k = 0; k < count; k++) grams.add(random() < 0.9 ? Math.floor(random() * 400) : 2 ** 35 - 1 - Math.floor(random() * 50));
  // A gram in nearly every file: its list outgrows a chunk (posting-blocks.ts), through merges too.
  if (random() < 0.95) grams.add(7);
  return [...grams];
};

describe('posting blocks', () => {
  it('read back every list, from one id to thousands, with grams up to 2^35 and ids up to 2^31', () => {
    const lists = new Map<number, number[]>();
    for (let gram = 1; gram < 2 ** 35; gram = Math.floor(gram * 1.7) + 3) {
      const length = [1, 2, 40, 5000, CHUNK_IDS + 1, 300][lists.size % 6];
      const start = lists.size % 5 === 0 ? 2 ** 31 - 10_000 : 1;
      lists.set(gram, Array.from({ length }, (_, k) => start + 3 * k + (k % 3)));
    }
    const blocks: [number, Buffer][] = [];
    const writer = new BlockWriter((firstGram, data) => blocks.push([firstGram, data]));
    for (const [gram, ids] of lists) writer.add(gram, ids);
    writer.finish();
    // Blocks stay within SQLite's in-page record size, except a list longer than that alone in its block.
    for (const [firstGram, data] of blocks) if (data.length > BLOCK_BYTES) expect(lists.get(firstGram)!.length).toBe(5000);
    const blockOf = (gram: number) => blocks.filter(([first]) => first <= gram).at(-1)!;
    for (const [gram, ids] of lists) {
      expect(allIds(listInBlock(blockOf(gram)[1], blockOf(gram)[0], gram)!)).toEqual(ids);
      expect(listInBlock(blockOf(gram + 1)[1], blockOf(gram + 1)[0], gram + 1)).toBeNull();
    }
    // A merge reads lists whole, in block order, keeping some ids: every entry of every block, every third id.
    const merged = new Map<number, number[]>();
    for (const [firstGram, data] of blocks) {
      const reader = new BlockReader(data, firstGram);
      while (reader.next()) {
        const kept: number[] = [];
        reader.ids(kept, (id) => id % 3 === 0);
        merged.set(reader.gram, kept);
      }
    }
    expect([...merged.keys()]).toEqual([...lists.keys()]);
    for (const [gram, ids] of lists) expect(merged.get(gram), `gram ${gram}`).toEqual(ids.filter((id) => id % 3 === 0));
  });

  it('seeks any id in lists of every length around the chunk size, hopping chunks, as a search of the array would', () => {
    for (const length of [1, 2, CHUNK_IDS - 1, CHUNK_IDS, CHUNK_IDS + 1, 2 * CHUNK_IDS, 5 * CHUNK_IDS + 7, 20_000]) {
      const ids = Array.from({ length }, (_, k) => 1 + 5 * k + Math.floor(random() * 4));
      const blocks: [number, Buffer][] = [];
      const writer = new BlockWriter((firstGram, data) => blocks.push([firstGram, data]));
      writer.add(77, ids);
      writer.finish();
      expect(allIds(listInBlock(blocks[0][1], 77, 77)!)).toEqual(ids);
      // Random increasing targets, some inside a chunk just read, some many chunks ahead, some past the end.
      for (let round = 0; round < 20; round++) {
        const cursor = listInBlock(blocks[0][1], 77, 77)!;
        expect(cursor.size).toBe(length);
        let target = 0;
        let next = 0; // the array search: the first index whose id is ≥ target
        while (target <= ids.at(-1)! + 10) {
          while (next < ids.length && ids[next] < target) next++;
          const expected = ids[next] ?? Infinity;
          expect(cursor.seek(target), `length ${length}, target ${target}`).toBe(expected);
          expect(cursor.seek(target), 'a repeated seek stays').toBe(expected);
          target += Math.floor(random() * (random() < 0.1 ? 3000 : 12));
        }
        expect(cursor.seek(target)).toBe(Infinity);
      }
    }
  });
});

describe('gram postings (segments of delta-varint blocks in SQLite)', () => {
  let dir: string;
  let db: SqliteDatabase;
  let store: FileStore;
  let postings: GramPostings;
  /** What each path holds now: the truth the postings must reproduce. */
  const truth = new Map<string, number[]>();

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codeloop-postings-'));
    db = openIndexDatabase(path.join(dir, 'index.db'));
    store = new FileStore(db);
    postings = new GramPostings(db);
    truth.clear();
  });

  afterEach(() => {
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** The files a search for `gram` would verify: its live postings and every file above the watermark. */
  function candidates(gram: number): Set<string> {
    const paths = new Map((db.prepare('SELECT id, path FROM files').raw().all() as [number, string][]));
    const found = new Set<string>();
    for (const id of allIds(postings.reader()(gram))) if (paths.has(id)) found.add(paths.get(id)!);
    for (const [id, file] of paths) if (id > postings.postedThrough()) found.add(file);
    return found;
  }

  function expectExact(): void {
    for (let gram = 0; gram < 400; gram += 7) {
      const expected = new Set([...truth].filter(([, grams]) => grams.includes(gram)).map(([file]) => file));
      expect([...candidates(gram)].sort(), `gram ${gram}`).toEqual([...expected].sort());
    }
    const big = 2 ** 35 - 1 - 3;
    expect([...candidates(big)].sort()).toEqual([...truth].filter(([, grams]) => grams.includes(big)).map(([file]) => file).sort());
  }

  it('answers exactly through adds, rewrites and removals, one small segment per write and merges of them', () => {
    for (let step = 0; step < 300; step++) {
      store.transaction(() => {
        for (let k = 0; k < 1 + Math.floor(random() * 4); k++) {
          const file = `f${Math.floor(random() * 300)}.c`;
          const existing = store.get(file);
          if (existing && random() < 0.25) {
            store.remove(existing.id);
            truth.delete(file);
          } else {
            const grams = randomGrams();
            store.write(file, 1, 1, analysis(grams));
            truth.set(file, grams);
          }
        }
      });
      if (step % 50 === 49) expectExact();
    }
    // 300 writes became far fewer segments (merged 8 at a time), and the merges dropped the rewritten files' postings.
    const segments = db.prepare('SELECT count(*) FROM gram_segments').pluck().get() as number;
    expect(segments).toBeLessThan(30);
    const postingCount = db.prepare('SELECT sum(postings) FROM gram_segments').pluck().get() as number;
    const written = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'files'").pluck().get() as number;
    expect(written).toBeGreaterThan(300);
    expect(postingCount).toBeLessThan(written * 30);
    expectExact();
  });

  it('writes the postings of a transaction with it, so files one connection wrote stay found when another writes after it', () => {
    // Two processes indexing the same tree (two `codeloop search` at once): their write transactions alternate.
    const other = openIndexDatabase(path.join(dir, 'index.db'));
    const otherStore = new FileStore(other);
    try {
      for (let round = 0; round < 12; round++) {
        const [writer, prefix] = round % 2 === 0 ? [store, 'a'] : [otherStore, 'b'];
        writer.transaction(() => {
          for (let k = 0; k < 1 + (round % 5); k++) {
            const grams = randomGrams();
            writer.write(`${prefix}${round}-${k}.c`, 1, 1, analysis(grams));
            truth.set(`${prefix}${round}-${k}.c`, grams);
          }
        });
        // Nothing is above the watermark: every committed file is found through its postings alone.
        const newest = db.prepare('SELECT max(id) FROM files').pluck().get() as number;
        expect(postings.postedThrough()).toBe(newest);
      }
      expectExact();
    } finally {
      other.close();
    }
  });

  it('loses the files and postings of a failed transaction together, and the next write is found as before', () => {
    store.transaction(() => store.write('kept.c', 1, 1, analysis([5, 6, 7])));
    expect(() => store.transaction(() => {
      store.write('failed.c', 1, 1, analysis([5]));
      for (let k = 0; k < 3000; k++) store.write(`big${k}.c`, 1, 1, analysis(Array.from({ length: 800 }, (_, g) => g))); // fills a run: a segment is written mid-transaction
      throw new Error('disk full');
    })).toThrow('disk full');
    expect(db.prepare('SELECT path FROM files ORDER BY path').pluck().all()).toEqual(['kept.c']);
    expect(db.prepare('SELECT count(*) FROM gram_segments').pluck().get()).toBe(1);
    store.transaction(() => store.write('later.c', 1, 1, analysis([5])));
    truth.set('kept.c', [5, 6, 7]);
    truth.set('later.c', [5]);
    expect([...candidates(5)].sort()).toEqual(['kept.c', 'later.c']);
    expectExact();
  });
});
