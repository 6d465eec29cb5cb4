import fs from 'node:fs/promises';
import path from 'node:path';
import { IgnoreRules } from './ignore-rules.js';

export interface CrawledFile {
  /** Root-relative, posix separators. */
  path: string;
  size: number;
  mtimeMs: number;
}

export interface CrawlResult {
  files: CrawledFile[];
  /** Files skipped because they exceed the size limit (reported, not silently lost), root-relative. */
  tooLarge: string[];
  /** Directories that could not be read (permissions), root-relative. */
  unreadable: string[];
  /** Directories walked (what watching the tree costs: one watch each). */
  directories: number;
}

/**
 * Walks the root without following symlinks (like ripgrep, and so nothing outside the workspace is read),
 * skipping ignored paths and files over the size limit. Null when `shouldStop` ended the walk early.
 */
export async function crawl(root: string, rules: IgnoreRules, maxFileSize: number, shouldStop: () => boolean = () => false): Promise<CrawlResult | null> {
  const result: CrawlResult = { files: [], tooLarge: [], unreadable: [], directories: 0 };
  const pending: string[] = [''];
  while (pending.length) {
    if (shouldStop()) return null;
    const directory = pending.pop()!;
    result.directories++;
    let entries;
    try {
      entries = await fs.readdir(path.join(root, directory), { withFileTypes: true });
    } catch {
      result.unreadable.push(directory || '.');
      continue;
    }
    const files: string[] = [];
    for (const entry of entries) {
      const relative = directory ? `${directory}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (!rules.isIgnored(relative, true)) pending.push(relative);
      } else if (entry.isFile() && !rules.isIgnored(relative, false)) {
        files.push(relative);
      }
    }
    const stats = await Promise.all(files.map((file) => fs.stat(path.join(root, file)).catch(() => null)));
    files.forEach((file, i) => {
      const stat = stats[i];
      if (!stat) return;
      if (stat.size > maxFileSize) result.tooLarge.push(file);
      else result.files.push({ path: file, size: stat.size, mtimeMs: stat.mtimeMs });
    });
  }
  result.files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return result;
}
