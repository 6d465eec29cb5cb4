import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { IndexConfigSchema } from '../../protocol/config.js';
import { makeStateHome, makeTree, removeTree } from '../helpers/fixture-tree.js';
import { runCli, runRipgrep, sortedLines } from '../helpers/run-cli.js';

/**
 * Literal and regex search verify many candidate files on worker threads (candidate-verification.ts). Worker
 * threads exist only in the built JavaScript, so these tests use dist/ — through the CLI, as a user would, and
 * through the built modules to compare threads with one thread, and to break the threads on purpose.
 */
type Verification = typeof import('../../server/index/candidate-verification.js');
type Threads = typeof import('../../server/threads/worker-thread.js');
type Index = typeof import('../../server/index/workspace-index.js');
const built = <T>(module: string) => import(new URL(`../../dist/server/${module}`, import.meta.url).href) as Promise<T>;

const cleanup: string[] = [];
afterAll(() => removeTree(...cleanup));

/**
 * 400 files, most holding `struct` and `file_operations` (so the gram filter keeps them), about half the exact
 * phrase: on different lines, twice on one line, after multi-byte characters, in CRLF text, in Latin-1 and
 * broken UTF-8, behind a UTF-8 or UTF-16 byte-order mark, in a binary file (never reported), at the end of a
 * file without a final newline.
 */
function commonLiteralTree(): Record<string, string | Buffer> {
  const files: Record<string, string | Buffer> = {};
  for (let i = 0; i < 400; i++) {
    const name = `drivers/d${i % 9}/file_${String(i).padStart(3, '0')}.c`;
    const filler = Array.from({ length: i % 13 }, (_, k) => `int value_${k} = ${i * k};`).join('\n');
    switch (i % 10) {
      case 0: files[name] = `${filler}\nstatic const struct file_operations fops_${i} = {\n};\n`; break;
      case 1: files[name] = `struct inode *file_operations_${i};\n${filler}\n`; break; // both words, never the phrase
      case 2: files[name] = `/* été */ struct file_operations a; struct file_operations b;\r\n${filler}\r\n`; break;
      case 3: files[name] = Buffer.concat([Buffer.from(`${filler}\n`), Buffer.from([0xE9, 0xFF, 0x20]), Buffer.from('struct file_operations latin\n')]); break;
      case 4: files[name] = Buffer.concat([Buffer.from([0xEF, 0xBB, 0xBF]), Buffer.from(`struct file_operations bom_${i};\n`)]); break;
      case 5: files[name] = Buffer.concat([Buffer.from([0xFF, 0xFE]), Buffer.from(`${filler}\nstruct file_operations wide;\n`, 'utf16le')]); break;
      case 6: files[name] = Buffer.concat([Buffer.from('struct file_operations in a binary file\n'), Buffer.from([0, 1, 2])]); break;
      case 7: files[name] = `${filler}\nstruct file_operations at_the_end_${i}`; break;
      case 8: files[name] = `struct\nfile_operations\n${filler}\n`; break; // on separate lines
      default: files[name] = `${filler}\n  struct file_operations x_${i} = { .owner = THIS_MODULE };\n  struct file_operations y_${i};\n`;
    }
  }
  return files;
}

function treeWithState(files: Record<string, string | Buffer>): { root: string; stateHome: string } {
  const root = makeTree(files);
  const stateHome = makeStateHome();
  cleanup.push(root, stateHome);
  return { root, stateHome };
}

describe('codeloop search verifies many candidates on threads with rg\'s answer', () => {
  const { root, stateHome } = treeWithState(commonLiteralTree());
  const search = (args: string[]) => {
    const result = runCli(['search', ...args], { cwd: root, stateHome, encoding: 'latin1' });
    expect([0, 1], result.stderr).toContain(result.status);
    return result.stdout;
  };

  it('prints exactly rg\'s lines for common literals and regexes (hundreds of candidates)', { timeout: 120_000 }, () => {
    for (const [args, rgArgs] of [
      [['--', 'struct file_operations'], ['-F', '--', 'struct file_operations']],
      [['-i', '--', 'STRUCT FILE_OPERATIONS'], ['-F', '-i', '--', 'STRUCT FILE_OPERATIONS']],
      [['--regex', '--', 'struct \\w+_operations \\w+_\\d+ = \\{'], ['--', 'struct \\w+_operations \\w+_\\d+ = \\{']],
      [['--regex', '--', 'file_operations (a|b);'], ['--', 'file_operations (a|b);']],
    ]) {
      const expected = runRipgrep(rgArgs, root, 'latin1');
      expect(expected.length, rgArgs.join(' ')).toBeGreaterThan(30);
      expect(sortedLines(search(args)), args.join(' ')).toEqual(expected);
    }
  });

  it('gives the same order every time, and --limit N prints the first N lines of the full answer', { timeout: 120_000 }, () => {
    const full = search(['--', 'struct file_operations']).split('\n').filter(Boolean);
    expect(search(['--', 'struct file_operations']).split('\n').filter(Boolean)).toEqual(full);
    for (const limit of [1, 7, 150]) {
      expect(search(['--limit', String(limit), '--', 'struct file_operations']).split('\n').filter(Boolean)).toEqual(full.slice(0, limit));
    }
  });
});

describe('verification on threads against one thread (built modules)', () => {
  it('returns the same matches, truncation and counts, with unsaved buffers among the candidates', { timeout: 120_000 }, async () => {
    const { WorkspaceIndex } = await built<Index>('index/workspace-index.js');
    const { root, stateHome } = treeWithState(commonLiteralTree());
    const index = WorkspaceIndex.open(root, IndexConfigSchema.parse({}), path.join(stateHome, 'index.db'));
    try {
      await index.sync();
      // Buffers: one gains the phrase, one loses it, one holds it many times (limits end inside it).
      await index.setBufferText('drivers/d1/file_001.c', 'struct file_operations only_in_the_buffer;\n');
      await index.setBufferText('drivers/d0/file_000.c', 'struct inode file_operations;\n');
      await index.setBufferText('drivers/d2/file_290.c', 'struct file_operations z;\n'.repeat(40));
      for (const request of [
        { pattern: 'struct file_operations', regex: false, caseInsensitive: false },
        { pattern: 'struct file_operations', regex: false, caseInsensitive: true },
        { pattern: 'struct \\w+ \\w+_\\d+', regex: true, caseInsensitive: false },
      ]) {
        for (const limit of [1, 7, 60, 100_000]) {
          const threads = await index.searchContent({ ...request, limit }, 'always');
          const oneThread = await index.searchContent({ ...request, limit }, 'never');
          expect(threads, `${request.pattern} limit ${limit}`).toEqual(oneThread);
          expect(threads.matches.length, `${request.pattern} limit ${limit}`).toBe(Math.min(limit, oneThread.matches.length));
        }
      }
      const all = await index.searchContent({ pattern: 'struct file_operations', regex: false, caseInsensitive: false, limit: 100_000 });
      expect(all.matches.filter((match) => match.path === 'drivers/d1/file_001.c').map((match) => match.text)).toEqual(['struct file_operations only_in_the_buffer;']);
      expect(all.matches.some((match) => match.path === 'drivers/d0/file_000.c')).toBe(false);
      expect(all.truncated).toBe(false);

      // An agent session's view: its pending changes are read during the call, the disk on the threads after.
      const changes = new Map<string, string | null>([
        ['drivers/d3/file_003.c', 'struct file_operations written_by_the_session;\n'],
        ['drivers/d1/file_010.c', null],
        ['new/file.c', 'struct file_operations brand_new;\n'],
      ]);
      const request = { pattern: 'struct file_operations', regex: false, caseInsensitive: false, limit: 100_000 };
      const viewThreads = await index.queryWithChanges(changes, (reader) => reader.searchContent(request, 'always'));
      const viewOneThread = await index.queryWithChanges(changes, (reader) => reader.searchContent(request, 'never'));
      expect(viewThreads).toEqual(viewOneThread);
      const texts = (file: string) => viewThreads.matches.filter((match) => match.path === file).map((match) => match.text);
      expect(texts('drivers/d3/file_003.c')).toEqual(['struct file_operations written_by_the_session;']);
      expect(texts('new/file.c')).toEqual(['struct file_operations brand_new;']);
      expect(texts('drivers/d1/file_010.c')).toEqual([]);
      expect(all.matches.some((match) => match.path === 'drivers/d1/file_010.c')).toBe(true);
    } finally {
      await index.close();
    }
  });

  it('falls back to verifying inline when a thread dies or fails, with the same answer', { timeout: 120_000 }, async () => {
    const verification = await built<Verification>('index/candidate-verification.js');
    const { WorkerThread } = await built<Threads>('threads/worker-thread.js');
    const { root } = treeWithState(commonLiteralTree());
    const scripts = fs.mkdtempSync(path.join(os.tmpdir(), 'codeloop-broken-worker-'));
    cleanup.push(scripts);
    const threadsModule = new URL('../../dist/server/threads/worker-thread.js', import.meta.url).href;
    const dies = path.join(scripts, 'dies.mjs');
    fs.writeFileSync(dies, 'process.exit(3);\n');
    const fails = path.join(scripts, 'fails.mjs');
    fs.writeFileSync(fails, `import { serveRequests } from ${JSON.stringify(threadsModule)};\nserveRequests(() => { throw new Error('out of luck'); });\n`);
    const thread = (script: string | null) => new WorkerThread(
      script ? new URL(`file://${script}`) : new URL('../../dist/server/index/verification-worker.js', import.meta.url),
      verification.verifyOnDisk,
    );
    const paths = Object.keys(commonLiteralTree()).sort();
    for (const limit of [5, 100_000]) {
      const request = { root, paths, pattern: 'struct file_operations', regex: false, caseInsensitive: false, limit };
      const expected = verification.verifyOnDisk(request);
      expect(expected.flat().length).toBeGreaterThan(0);
      for (const threads of [[thread(dies)], [thread(fails), thread(fails)], [thread(null), thread(dies)], [thread(fails), thread(null)]]) {
        expect(await verification.verifyInParallel(request, threads)).toEqual(expected);
      }
    }
  });
});
