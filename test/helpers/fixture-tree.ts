import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Writes a tree of files into a fresh temporary folder (optionally a git repository) and returns its path. */
export function makeTree(files: Record<string, string | Buffer>, options: { git?: boolean } = {}): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'codeloop-tree-'));
  if (options.git) execFileSync('git', ['init', '-q', root]);
  for (const [relative, content] of Object.entries(files)) {
    const file = path.join(root, relative);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
  }
  return root;
}

/** A private state folder so tests never touch the user's real index. */
export function makeStateHome(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'codeloop-state-'));
}

export function removeTree(...roots: string[]): void {
  for (const root of roots) fs.rmSync(root, { recursive: true, force: true });
}
