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
        store.flushPostings();
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

  it('takes files whose run is not written yet as candidates, and a reopened store finds them', () => {
    store.transaction(() => {
      for (let k = 0; k < 20; k++) {
        const grams = randomGrams();
        store.write(`a${k}.c`, 1, 1, analysis(grams));
        truth.set(`a${k}.c`, grams);
      }
      store.flushPostings();
    });
    // A build killed before its last run was written: rows without postings.
    store.transaction(() => {
      for (let k = 0; k < 5; k++) {
        const grams = randomGrams();
        store.write(`b${k}.c`, 1, 1, analysis(grams));
        truth.set(`b${k}.c`, grams);
      }
    });
    for (const file of ['b0.c', 'b4.c']) expect(candidates(123_456).has(file)).toBe(true);
    const reopened = new FileStore(db);
    const lost = db.prepare('SELECT path FROM files WHERE id > ?').pluck().all(reopened.lostPostingsAbove());
    expect(lost.sort()).toEqual(['b0.c', 'b1.c', 'b2.c', 'b3.c', 'b4.c']);
    expect(store.lostPostingsAbove()).toBe(Number.POSITIVE_INFINITY);
  });

  it('drops the files of a run lost with a failed transaction, so no later segment can hide them', () => {
    store.transaction(() => {
      store.write('kept.c', 1, 1, analysis([5, 6, 7]));
      store.flushPostings();
    });
    store.transaction(() => store.write('unwritten.c', 1, 1, analysis([5, 9])));
    expect(() => store.transaction(() => {
      store.write('failed.c', 1, 1, analysis([5]));
      throw new Error('disk full');
    })).toThrow('disk full');
    expect(db.prepare('SELECT path FROM files ORDER BY path').pluck().all()).toEqual(['kept.c']);
    store.transaction(() => {
      store.write('later.c', 1, 1, analysis([5]));
      store.flushPostings();
    });
    expect([...candidates(5)].sort()).toEqual(['kept.c', 'later.c']);
  });
});
