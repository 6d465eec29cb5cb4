import fs from 'node:fs/promises';
import path from 'node:path';
import type { AnalysisPool } from './analysis-pool.js';
import { crawl, type CrawledFile } from './crawler.js';
import type { AnalysisOutcome } from './file-analysis.js';
import type { FileRecord, FileStore } from './file-store.js';
import type { IgnoreRules } from './ignore-rules.js';
import { REBUILT_FROM_META } from './index-database.js';

export interface SyncSummary {
  files: number;
  bytes: number;
  added: number;
  updated: number;
  removed: number;
  unchanged: number;
  skippedTooLarge: number;
  /** The first few of them, by path (what a message to the user names). */
  tooLargeExamples: string[];
  skippedBinary: number;
  unreadable: string[];
  /** Kernel pseudo-filesystems mounted inside the tree, left out: "mnt/proc (proc)". */
  pseudoFilesystems: string[];
  /** Files and folders left out for names that are not valid UTF-8, root-relative with U+FFFD for the bad bytes. */
  undecodableNames: string[];
  /** Folders a watcher of this tree would watch (one watch each). */
  watchTargets: number;
  durationMs: number;
}

export type SyncProgress = (done: number, total: number) => void;

/**
 * Files analysed per write transaction: large enough to amortise commits, small enough to keep memory flat (two
 * batches of analyses are in memory at once; on the kernel's fs/, 64 instead of 256 lowered peak RSS by about
 * 40 MB at the same CPU time, bench/RESULTS.md).
 */
const BATCH_SIZE = 64;
/**
 * A batch also ends once its files hold this many bytes: the kernel's generated register headers (hundreds of
 * ~1 MB files with tens of thousands of `#define`s each) otherwise make a 64-file batch of analyses hold
 * hundreds of MB at once (their analyses are several times the files' size; two batches are held at once).
 * 4 MB instead of 8 lowered the peak on `drivers/gpu/drm/amd/include` from 319–380 to 292 MB at the same CPU.
 */
const BATCH_BYTES = 4 * 1024 * 1024;

/** Where the batch of `files` that starts at `start` ends (exclusive): BATCH_SIZE files or BATCH_BYTES, at least one file. */
function batchEnd(files: readonly CrawledFile[], start: number): number {
  let end = start;
  let bytes = 0;
  while (end < files.length && end - start < BATCH_SIZE && (end === start || bytes + files[end].size <= BATCH_BYTES)) {
    bytes += files[end].size;
    end++;
  }
  return end;
}

/** mtime recorded for rows whose content came from an unsaved buffer, so the next validation rereads the disk. */
const OVERLAY_MTIME = -1;

/**
 * Keeps the index equal to the tree: a full validation (crawl, compare size/mtime, then hash) and
 * per-path updates for watcher events and editor buffers. The only writer of the index.
 */
export class IndexWriter {
  private stopping = false;

  constructor(
    private readonly root: string,
    private readonly store: FileStore,
    private readonly rules: IgnoreRules,
    private readonly pool: AnalysisPool,
    private readonly maxFileSize: number,
    private readonly overlayText: (relativePath: string) => string | undefined,
  ) {}

  /** Reads and analyses a file; `knownHash` (the indexed content's) skips the analysis when the content still has it. */
  private analyze(file: CrawledFile, knownHash: string | undefined): Promise<AnalysisOutcome> {
    const overlay = this.overlayText(file.path);
    if (overlay !== undefined && Buffer.byteLength(overlay) > this.maxFileSize) return Promise.resolve({ kind: 'tooLarge' });
    return this.pool.analyze({ root: this.root, path: file.path, overlay, knownHash });
  }

  /** Writes one file's outcome; returns what happened to it. Call inside a transaction. */
  private apply(file: CrawledFile, record: FileRecord | undefined, outcome: AnalysisOutcome): 'written' | 'unchanged' | 'removed' | 'skipped' {
    const mtimeMs = this.overlayText(file.path) === undefined ? file.mtimeMs : OVERLAY_MTIME;
    switch (outcome.kind) {
      case 'analysed':
        this.store.write(file.path, file.size, mtimeMs, outcome.analysis);
        return 'written';
      case 'unchanged':
        if (record && (record.mtimeMs !== mtimeMs || record.size !== file.size)) this.store.touch(record.id, file.size, mtimeMs);
        return 'unchanged';
      case 'binary':
      case 'tooLarge':
      case 'missing':
        if (record) this.store.remove(record.id);
        if (outcome.kind === 'binary') this.store.markBinary(file.path, { size: file.size, mtimeMs });
        else this.store.forgetBinary(file.path);
        return record ? 'removed' : 'skipped';
    }
  }

  /**
   * Crawls and compares with the index by size and mtime. Only what is needed afterwards is kept (the stale
   * files, the ids that left the tree, the binary files no longer there): on a million-file tree the full
   * listings are hundreds of megabytes. A file known to be binary at the same stamp is passed over unread.
   */
  private async compareWithTree(summary: SyncSummary): Promise<{ stale: CrawledFile[]; removedIds: number[]; goneBinaries: string[]; total: number } | null> {
    // The stamps are read before the walk so that each file is compared as it is stat'ed, and only the changed
    // ones are kept.
    const indexed = this.store.stamps();
    const binaries = this.store.binaryStamps();
    // Rows of `indexed` seen in the tree; those left unseen at the end have gone from it (or are too large or ignored now).
    const seen = new Uint8Array(indexed.paths.length);
    const stale: CrawledFile[] = [];
    // Counted aside and added to the summary only once the walk is whole (a stopped sync reports nothing done).
    let unchanged = 0;
    let unchangedBytes = 0;
    let knownBinary = 0;
    const compare = (path: string, size: number, mtimeMs: number) => {
      const row = indexed.rowOf.get(path);
      const binary = binaries.get(path);
      if (row !== undefined) seen[row] = 1;
      if (binary !== undefined) binaries.delete(path);
      if (this.overlayText(path) !== undefined) {
        stale.push({ path, size, mtimeMs });
      } else if (row !== undefined && indexed.sizes[row] === size && indexed.mtimesMs[row] === mtimeMs) {
        unchanged++;
        unchangedBytes += size;
      } else if (row === undefined && binary !== undefined && binary.size === size && binary.mtimeMs === mtimeMs) {
        knownBinary++;
      } else {
        stale.push({ path, size, mtimeMs });
      }
    };
    const crawled = await crawl(this.root, this.rules, this.maxFileSize, compare, () => this.stopping);
    if (!crawled) return null; // a partial walk must not read as files removed
    summary.unchanged += unchanged;
    summary.files += unchanged;
    summary.bytes += unchangedBytes;
    summary.skippedBinary += knownBinary;
    summary.skippedTooLarge = crawled.tooLarge.length;
    summary.tooLargeExamples = crawled.tooLarge.sort().slice(0, 5);
    summary.unreadable = crawled.unreadable;
    summary.pseudoFilesystems = crawled.pseudoFilesystems;
    summary.undecodableNames = crawled.undecodableNames;
    summary.watchTargets = crawled.directories;
    const removedIds: number[] = [];
    for (let row = 0; row < seen.length; row++) {
      if (!seen[row]) removedIds.push(indexed.ids[row]);
    }
    // By path, so a folder's files are written side by side (the walk's order is folder by folder, but not sorted).
    stale.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return { stale, removedIds, goneBinaries: [...binaries.keys()], total: crawled.files };
  }

  async syncAll(onProgress?: SyncProgress): Promise<SyncSummary> {
    const started = performance.now();
    this.rules.reset();
    const summary: SyncSummary = {
      files: 0, bytes: 0, added: 0, updated: 0, removed: 0, unchanged: 0,
      skippedTooLarge: 0, tooLargeExamples: [], skippedBinary: 0, unreadable: [], pseudoFilesystems: [], undecodableNames: [], durationMs: 0, watchTargets: 0,
    };
    const compared = await this.compareWithTree(summary);
    if (!compared) return summary;
    const { stale, removedIds, goneBinaries, total } = compared;
    this.store.transaction(() => {
      removedIds.forEach((id) => this.store.remove(id));
      goneBinaries.forEach((gone) => this.store.forgetBinary(gone));
    });
    summary.removed = removedIds.length;

    let done = total - stale.length;
    onProgress?.(done, total);
    const analyseBatch = (start: number) => {
      const batch = stale.slice(start, batchEnd(stale, start));
      const records = batch.map((file) => this.store.get(file.path));
      return Promise.all(batch.map((file, i) => this.analyze(file, records[i]?.hash)))
        .then((outcomes) => ({ batch, records, outcomes }));
    };
    // Analyse the next batch while this one is written: workers and the writer overlap.
    let next = stale.length ? analyseBatch(0) : null;
    for (let start = 0; next;) {
      const { batch, records, outcomes } = await next;
      start += batch.length;
      next = start < stale.length && !this.stopping ? analyseBatch(start) : null;
      this.store.transaction(() => {
        batch.forEach((file, i) => {
          const record = records[i];
          const result = this.apply(file, record, outcomes[i]);
          if (outcomes[i].kind === 'binary') summary.skippedBinary++;
          if (outcomes[i].kind === 'tooLarge') summary.skippedTooLarge++;
          if (result === 'removed') summary.removed++;
          if (result !== 'written' && result !== 'unchanged') return;
          summary.files++;
          summary.bytes += file.size;
          if (result === 'unchanged') summary.unchanged++;
          else if (record) summary.updated++;
          else summary.added++;
        });
      });
      done += batch.length;
      onProgress?.(done, total);
    }
    summary.durationMs = performance.now() - started;
    // A sync cut short leaves every batch it wrote in place; the next one re-validates and finishes the rest.
    if (!this.stopping) {
      this.store.transaction(() => {
        this.store.setMeta('lastIndexedAt', new Date().toISOString());
        this.store.deleteMeta(REBUILT_FROM_META);
      });
    }
    return summary;
  }

  /** Ends a full sync in progress at its next batch (the process is shutting down). */
  stop(): void {
    this.stopping = true;
  }

  /**
   * Re-reads the given root-relative paths (watcher events, saves, buffer changes) in one transaction.
   * A path that vanished, became ignored, too large or binary leaves the index. Returns the paths whose rows changed.
   */
  async updatePaths(relativePaths: Iterable<string>): Promise<string[]> {
    const work: { file: CrawledFile; record: FileRecord | undefined; outcome: AnalysisOutcome }[] = [];
    for (const relativePath of new Set(relativePaths)) {
      if (this.rules.isIgnoreFile(relativePath)) this.rules.reset();
      const record = this.store.get(relativePath);
      const file = await this.statIndexable(relativePath);
      if (!file) {
        // Without a record it may still be a binary file the index remembers: 'missing' forgets it.
        work.push({ file: { path: relativePath, size: 0, mtimeMs: 0 }, record, outcome: { kind: 'missing' } });
        continue;
      }
      work.push({ file, record, outcome: await this.analyze(file, record?.hash) });
    }
    const changed: string[] = [];
    this.store.transaction(() => {
      for (const { file, record, outcome } of work) {
        const result = this.apply(file, record, outcome);
        if (result === 'written' || result === 'removed') changed.push(file.path);
      }
    });
    return changed;
  }

  private async statIndexable(relativePath: string): Promise<CrawledFile | null> {
    if (this.rules.isIgnored(relativePath, false) || this.rules.isInsideIgnoredDirectory(relativePath)) return null;
    const overlay = this.overlayText(relativePath);
    try {
      const stat = await fs.lstat(path.join(this.root, relativePath));
      if (!stat.isFile()) return null;
      if (overlay === undefined && stat.size > this.maxFileSize) return null;
      return { path: relativePath, size: stat.size, mtimeMs: stat.mtimeMs };
    } catch {
      // An unsaved buffer for a file not yet on disk is still searchable.
      return overlay === undefined ? null : { path: relativePath, size: 0, mtimeMs: OVERLAY_MTIME };
    }
  }
}
