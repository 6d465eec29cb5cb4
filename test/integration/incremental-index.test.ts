import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { IndexConfigSchema } from '../../protocol/config.js';
import { WorkspaceIndex } from '../../server/index/workspace-index.js';
import { makeStateHome, makeTree, removeTree } from '../helpers/fixture-tree.js';
import { CLI_PATH, runCli, runRipgrep, sortedLines } from '../helpers/run-cli.js';

const config = IndexConfigSchema.parse({});
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function openIndex(files: Record<string, string>, git = true): { root: string; index: WorkspaceIndex; database: string } {
  const root = makeTree(files, { git });
  const state = makeStateHome();
  const database = path.join(state, 'index.db');
  const index = WorkspaceIndex.open(root, config, database);
  cleanups.push(() => removeTree(root, state));
  cleanups.push(() => index.close());
  return { root, index, database };
}

const paths = async (index: WorkspaceIndex, pattern: string) =>
  [...new Set((await index.searchContent({ pattern, regex: false, caseInsensitive: false, limit: 1000 })).matches.map((m) => m.path))].sort();

async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const start = Date.now();
  while (!(await condition())) {
    if (Date.now() - start > 30_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('incremental index', () => {
  it('follows adds, changes, deletes and renames through the watcher', async () => {
    const { root, index } = openIndex({ 'a.ts': 'export const alpha = 1;\n', 'dir/b.ts': 'export const beta = 2;\n' });
    await index.sync();
    await index.watch();
    const files = () => index.status().files;

    fs.writeFileSync(path.join(root, 'c.ts'), 'export function gamma() { return alpha; }\n');
    await until(async () => files() === 3 && (await paths(index, 'gamma')).length === 1, 'a new file');
    expect(index.searchSymbols('gamma')[0]).toMatchObject({ path: 'c.ts', kind: 'function' });
    fs.writeFileSync(path.join(root, 'a.ts'), 'export const alphaRenamed = 1;\n');
    await until(async () => (await paths(index, 'alphaRenamed')).includes('a.ts'), 'a changed file');
    fs.renameSync(path.join(root, 'dir'), path.join(root, 'moved'));
    await until(async () => files() === 3 && (await paths(index, 'beta')).join() === 'moved/b.ts', 'a renamed folder');
    fs.rmSync(path.join(root, 'c.ts'));
    await until(() => files() === 2 && index.searchSymbols('gamma').length === 0, 'a deleted file');
    fs.writeFileSync(path.join(root, 'note.log'), 'alphaRenamed in a log\n');
    await until(async () => files() === 3 && (await paths(index, 'alphaRenamed')).includes('note.log'), 'a log file');
    // Folders made at once with files inside, then changed, then removed whole.
    fs.mkdirSync(path.join(root, 'deep/er/still'), { recursive: true });
    fs.writeFileSync(path.join(root, 'deep/er/still/d.ts'), 'export const delta = 4;\n');
    fs.writeFileSync(path.join(root, 'deep/e.ts'), 'export const epsilon = 5;\n');
    await until(async () => files() === 5 && (await paths(index, 'delta')).join() === 'deep/er/still/d.ts', 'files in new folders');
    fs.writeFileSync(path.join(root, 'deep/er/still/d.ts'), 'export const deltaChanged = 4;\n');
    await until(async () => (await paths(index, 'deltaChanged')).length === 1, 'a change in a new folder');
    fs.rmSync(path.join(root, 'deep'), { recursive: true });
    await until(async () => files() === 3 && (await paths(index, 'epsilon')).length === 0 && (await paths(index, 'deltaChanged')).length === 0, 'a removed folder');
    // A folder moved in from outside the tree brings its files.
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'codeloop-outside-'));
    fs.mkdirSync(path.join(outside, 'pkg'));
    fs.writeFileSync(path.join(outside, 'pkg/z.ts'), 'export const zeta = 6;\n');
    fs.renameSync(path.join(outside, 'pkg'), path.join(root, 'pkg'));
    fs.rmSync(outside, { recursive: true });
    await until(async () => files() === 4 && (await paths(index, 'zeta')).join() === 'pkg/z.ts', 'a folder moved in');
  });

  it('searches unsaved buffers instead of the disk, and the disk again once closed', async () => {
    const { index } = openIndex({ 'src/main.py': 'def handler():\n    return 1\n' });
    await index.sync();
    await index.setBufferText('src/main.py', 'def handler():\n    return unsaved_value\n');
    expect((await index.searchContent({ pattern: 'unsaved_value', regex: false, caseInsensitive: false, limit: 10 })).matches)
      .toEqual([expect.objectContaining({ path: 'src/main.py', line: 2, column: 12 })]);
    await index.setBufferText('src/new_file.py', 'def brand_new():\n    pass\n');
    expect(index.searchSymbols('brand_new')[0]).toMatchObject({ path: 'src/new_file.py', kind: 'function' });
    await index.closeBuffer('src/main.py');
    await index.closeBuffer('src/new_file.py');
    expect(await paths(index, 'unsaved_value')).toEqual([]);
    expect(index.searchSymbols('brand_new')).toEqual([]);
  });

  it('re-validates after a restart by size, mtime and hash, reading only what changed', async () => {
    const { root, index, database } = openIndex({ 'one.txt': 'first\n', 'two.txt': 'second\n', 'three.txt': 'third\n' });
    expect((await index.sync()).added).toBe(3);
    await index.close();
    cleanups.pop();
    fs.writeFileSync(path.join(root, 'one.txt'), 'first, edited\n');
    const later = new Date(Date.now() + 5000);
    fs.utimesSync(path.join(root, 'two.txt'), later, later); // touched, same content
    fs.rmSync(path.join(root, 'three.txt'));
    const reopened = WorkspaceIndex.open(root, config, database);
    cleanups.push(() => reopened.close());
    const summary = await reopened.sync();
    expect(summary).toMatchObject({ added: 0, updated: 1, removed: 1, unchanged: 1 });
    expect(await paths(reopened, 'edited')).toEqual(['one.txt']);
  });

  it('refuses every search of a closed index with a message naming it, at once', async () => {
    const { root, index } = openIndex({ 'a.ts': 'export function hello() { return 1; }\n' });
    await index.sync();
    await index.close();
    cleanups.pop();
    const closed = `the index of ${fs.realpathSync(root)} is closed`;
    await expect(index.searchContent({ pattern: 'hello', regex: false, caseInsensitive: false, limit: 10 })).rejects.toThrow(closed);
    await expect(index.search({ mode: 'literal', query: 'hello', caseInsensitive: false })).rejects.toThrow(closed);
    await expect(index.search({ mode: 'text', query: 'hello', caseInsensitive: false })).rejects.toThrow(closed);
    expect(() => index.searchSymbols('hello')).toThrow(closed);
    await expect(index.rankFiles('hello')).rejects.toThrow(closed);
    await expect(index.repoMap('hello', 500)).rejects.toThrow(closed);
    await expect(index.queryWithChanges(new Map([['b.ts', 'hello']]), (reader) => reader.searchSymbols('hello'))).rejects.toThrow(closed);
  });

  it('indexes every file when large files end batches early (8 MB per batch)', { timeout: 120_000 }, async () => {
    // 20 files of ~900 KB between small ones: batches of 9, 9 and the rest, by bytes rather than by count.
    const files: Record<string, string> = {};
    for (let i = 0; i < 30; i++) {
      const body = i % 3 === 0 ? `small_${i}\n` : `${`int filler_${i} = ${i};\n`.repeat(45_000).slice(0, 900_000)}\n`;
      files[`gen/f${String(i).padStart(2, '0')}.h`] = `#define MARKER_${i} 1\n${body}`;
    }
    const { index } = openIndex(files, false);
    const summary = await index.sync();
    expect(summary).toMatchObject({ added: 30, files: 30, skippedTooLarge: 0 });
    for (const i of [0, 1, 2, 13, 29]) expect(await paths(index, `MARKER_${i} `)).toEqual([`gen/f${String(i).padStart(2, '0')}.h`]);
    expect(await paths(index, 'filler_29 = 29;')).toEqual(['gen/f29.h']);
  });
});

describe('crash safety', () => {
  it('an indexer killed at random moments leaves an index that opens and is exact after re-validation', async () => {
    const files: Record<string, string> = {};
    for (let i = 0; i < 3000; i++) {
      files[`pkg${i % 20}/file${i}.ts`] = `export function handler${i}(input: string) {\n  return input + "${'payload '.repeat(30)}${i}";\n}\n`;
    }
    const root = makeTree(files, { git: true });
    const stateHome = makeStateHome();
    cleanups.push(() => removeTree(root, stateHome));
    const env = { ...process.env, XDG_STATE_HOME: stateHome, XDG_CONFIG_HOME: path.join(stateHome, 'config') };
    const counts: number[] = [];
    for (const delay of [120, 250, 400, 550, 700]) {
      const child = spawn(process.execPath, [CLI_PATH, 'index', root], { env, stdio: 'ignore' });
      const exited = new Promise((resolve) => child.once('exit', resolve));
      await new Promise((resolve) => setTimeout(resolve, delay));
      child.kill('SIGKILL');
      await exited;
      const status = JSON.parse(runCli(['status', '--json', '--check', root], { stateHome }).stdout);
      expect(status.integrity).toBe('ok');
      counts.push(status.files);
    }
    // At least one kill landed mid-index (otherwise this test would prove nothing).
    expect(Math.min(...counts)).toBeLessThan(3000);
    const search = runCli(['search', 'handler1', root], { stateHome });
    const displayed = sortedLines(search.stdout).map((line) => line.slice(root.length + 1));
    expect(displayed).toEqual(runRipgrep(['-F', 'handler1'], root));
  });
});
