import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { copyTree } from '../../server/sandbox/copy-tree.js';

const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});
const tempDir = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codeloop-copy-'));
  made.push(dir);
  return dir;
};

describe('copyTree', () => {
  it('copies files, folders and modes, keeps symlinks as links (never followed), and skips the named entries', async () => {
    const outside = tempDir();
    fs.writeFileSync(path.join(outside, 'secret'), 'outside');
    const source = tempDir();
    fs.mkdirSync(path.join(source, 'a/b'), { recursive: true });
    fs.writeFileSync(path.join(source, 'a/b/file.txt'), 'hello');
    fs.writeFileSync(path.join(source, 'run.sh'), '#!/bin/sh\n', { mode: 0o755 });
    fs.symlinkSync(path.join(outside, 'secret'), path.join(source, 'link-out'));
    fs.symlinkSync(outside, path.join(source, 'dir-link-out'));
    fs.mkdirSync(path.join(source, '.git'));
    fs.writeFileSync(path.join(source, '.git/HEAD'), 'ref');
    fs.writeFileSync(path.join(source, 'a/.git'), 'gitdir: elsewhere');

    const target = path.join(tempDir(), 'copy');
    await copyTree(source, target, new Set(['.git']));
    expect(fs.readFileSync(path.join(target, 'a/b/file.txt'), 'utf8')).toBe('hello');
    expect(fs.statSync(path.join(target, 'run.sh')).mode & 0o777).toBe(0o755);
    expect(fs.readlinkSync(path.join(target, 'link-out'))).toBe(path.join(outside, 'secret'));
    expect(fs.lstatSync(path.join(target, 'dir-link-out')).isSymbolicLink()).toBe(true);
    expect(fs.existsSync(path.join(target, '.git'))).toBe(false);
    expect(fs.existsSync(path.join(target, 'a/.git'))).toBe(false);
  });

  it('passes over files and folders deleted while it copies', async () => {
    const source = tempDir();
    for (let i = 0; i < 2000; i++) {
      fs.mkdirSync(path.join(source, `d${i % 40}`), { recursive: true });
      fs.writeFileSync(path.join(source, `d${i % 40}`, `f${i}`), String(i));
    }
    const target = path.join(tempDir(), 'copy');
    const copying = copyTree(source, target, new Set());
    // Delete half the folders while the copy runs.
    for (let d = 0; d < 40; d += 2) await fs.promises.rm(path.join(source, `d${d}`), { recursive: true, force: true });
    await copying;
    for (let d = 1; d < 40; d += 2) expect(fs.readdirSync(path.join(target, `d${d}`))).toHaveLength(50);
    for (const folder of fs.readdirSync(target)) {
      for (const file of fs.readdirSync(path.join(target, folder))) expect(fs.readFileSync(path.join(target, folder, file), 'utf8')).toBe(file.slice(1));
    }
  });
});
