import fs from 'node:fs/promises';
import path from 'node:path';
import { crawl, type CrawledFile } from './crawler.js';
import { analyzeText, decodeText, hashContent, isBinary, type FileAnalysis } from './file-analysis.js';
import type { FileRecord, FileStore } from './file-store.js';
import type { IgnoreRules } from './ignore-rules.js';
import type { SymbolExtractor } from './symbols/symbol-extractor.js';

export interface SyncSummary {
  files: number;
  bytes: number;
  added: number;
  updated: number;
  removed: number;
  unchanged: number;
  skippedTooLarge: number;
  skippedBinary: number;
  unreadable: string[];
  durationMs: number;
}

export type SyncProgress = (done: number, total: number) => void;

/** Files analysed per write transaction: large enough to amortise commits, small enough to keep memory flat. */
const BATCH_SIZE = 200;

/** mtime recorded for rows whose content came from an unsaved buffer, so the next validation rereads the disk. */
const OVERLAY_MTIME = -1;

interface PendingWrite {
  path: string;
  size: number;
  mtimeMs: number;
  analysis: FileAnalysis;
}

/**
 * Keeps the index equal to the tree: a full validation (crawl, compare size/mtime, then hash) and
 * per-path updates for watcher events and editor buffers. The only writer of the index.
 */
export class IndexWriter {
  constructor(
    private readonly root: string,
    private readonly store: FileStore,
    private readonly rules: IgnoreRules,
    private readonly extractor: SymbolExtractor,
    private readonly maxFileSize: number,
    private readonly overlayText: (relativePath: string) => string | undefined,
  ) {}

  async syncAll(onProgress?: SyncProgress): Promise<SyncSummary> {
    const started = performance.now();
    this.rules.reset();
    const crawled = await crawl(this.root, this.rules, this.maxFileSize);
    const existing = new Map(this.store.all().map((record) => [record.path, record]));
    const summary: SyncSummary = {
      files: 0, bytes: 0, added: 0, updated: 0, removed: 0, unchanged: 0,
      skippedTooLarge: crawled.tooLarge, skippedBinary: 0, unreadable: crawled.unreadable, durationMs: 0,
    };
    const stale = crawled.files.filter((file) => {
      const record = existing.get(file.path);
      const unchanged = record && record.size === file.size && record.mtimeMs === file.mtimeMs
        && this.overlayText(file.path) === undefined;
      if (unchanged) {
        summary.unchanged++;
        summary.files++;
        summary.bytes += file.size;
      }
      return !unchanged;
    });
    const seen = new Set(crawled.files.map((file) => file.path));
    const removed = [...existing.values()].filter((record) => !seen.has(record.path));
    this.store.transaction(() => removed.forEach((record) => this.store.remove(record.id)));
    summary.removed = removed.length;

    let done = summary.unchanged;
    const total = crawled.files.length;
    onProgress?.(done, total);
    for (let start = 0; start < stale.length; start += BATCH_SIZE) {
      const batch = stale.slice(start, start + BATCH_SIZE);
      const contents = await Promise.all(batch.map((file) => this.readContent(file)));
      const writes: PendingWrite[] = [];
      const touches: { record: FileRecord; size: number; mtimeMs: number }[] = [];
      const vanished: FileRecord[] = [];
      for (let i = 0; i < batch.length; i++) {
        const file = batch[i];
        const record = existing.get(file.path);
        const content = contents[i];
        if (content === 'binary' || content === null) {
          if (content === 'binary') summary.skippedBinary++;
          if (record) vanished.push(record);
          continue;
        }
        summary.files++;
        summary.bytes += file.size;
        if (record && record.hash === content.hash) {
          touches.push({ record, size: file.size, mtimeMs: content.mtimeMs });
          summary.unchanged++;
          continue;
        }
        writes.push({ path: file.path, size: file.size, mtimeMs: content.mtimeMs, analysis: await this.analyze(file.path, content) });
        if (record) summary.updated++;
        else summary.added++;
      }
      this.store.transaction(() => {
        vanished.forEach((record) => this.store.remove(record.id));
        touches.forEach(({ record, size, mtimeMs }) => this.store.touch(record.id, size, mtimeMs));
        writes.forEach((write) => this.store.write(write.path, write.size, write.mtimeMs, write.analysis));
      });
      done += batch.length;
      onProgress?.(done, total);
    }
    summary.durationMs = performance.now() - started;
    this.store.transaction(() => this.store.setMeta('lastIndexedAt', new Date().toISOString()));
    return summary;
  }

  /**
   * Re-reads the given root-relative paths (watcher events, saves, buffer changes) in one transaction.
   * A path that vanished, became ignored, too large or binary leaves the index.
   */
  async updatePaths(relativePaths: Iterable<string>): Promise<number> {
    const writes: PendingWrite[] = [];
    const removals: FileRecord[] = [];
    for (const relativePath of new Set(relativePaths)) {
      if (this.rules.isIgnoreFile(relativePath)) this.rules.reset();
      const record = this.store.get(relativePath);
      const file = await this.statIndexable(relativePath);
      const content = file ? await this.readContent(file) : null;
      if (!file || content === null || content === 'binary') {
        if (record) removals.push(record);
        continue;
      }
      if (record && record.hash === content.hash) {
        if (record.mtimeMs !== content.mtimeMs || record.size !== file.size) this.store.touch(record.id, file.size, content.mtimeMs);
        continue;
      }
      writes.push({ path: relativePath, size: file.size, mtimeMs: content.mtimeMs, analysis: await this.analyze(relativePath, content) });
    }
    if (writes.length || removals.length) {
      this.store.transaction(() => {
        removals.forEach((record) => this.store.remove(record.id));
        writes.forEach((write) => this.store.write(write.path, write.size, write.mtimeMs, write.analysis));
      });
    }
    return writes.length + removals.length;
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

  /** The text to index: the editor's unsaved buffer if there is one, else the file on disk. */
  private async readContent(file: CrawledFile): Promise<{ text: string; hash: string; mtimeMs: number } | 'binary' | null> {
    const overlay = this.overlayText(file.path);
    if (overlay !== undefined) return { text: overlay, hash: hashContent(overlay), mtimeMs: OVERLAY_MTIME };
    let bytes: Buffer;
    try {
      bytes = await fs.readFile(path.join(this.root, file.path));
    } catch {
      return null;
    }
    if (isBinary(bytes)) return 'binary';
    return { text: decodeText(bytes), hash: hashContent(bytes), mtimeMs: file.mtimeMs };
  }

  private analyze(relativePath: string, content: { text: string; hash: string }): Promise<FileAnalysis> {
    return analyzeText(relativePath, content.text, content.hash, this.extractor);
  }
}
