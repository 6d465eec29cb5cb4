import fs from 'node:fs';
import path from 'node:path';
import { CodeloopError } from '../errors.js';
import { pseudoFilesystemOf } from './pseudo-filesystems.js';

/**
 * Checks that a root exists, is a readable directory and is not on a kernel pseudo-filesystem (/proc, /sys…,
 * whose files never end or block: see pseudo-filesystems.ts); returns its real path. Throws
 * `unreadableDirectory` saying which of these it is not.
 */
export function resolveWorkspaceRoot(dir: string): string {
  let real: string;
  try {
    real = fs.realpathSync(dir);
    if (!fs.statSync(real).isDirectory()) throw new Error('not a directory');
    fs.accessSync(real, fs.constants.R_OK | fs.constants.X_OK);
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    // Node reads a path's bytes that are not UTF-8 (in the arguments, the current folder) as U+FFFD, and a path
    // so read names nothing: said as such, since the folder may well exist.
    const why = !missing ? (error as Error).message
      : path.resolve(dir).includes('\uFFFD') ? `no such directory by this name; \uFFFD stands for bytes of the real name that are not valid UTF-8, which codeloop cannot open (rename the folder to UTF-8)`
        : 'no such directory';
    throw new CodeloopError('unreadableDirectory', `cannot index ${dir}: ${why}`);
  }
  const pseudo = pseudoFilesystemOf(real);
  if (pseudo) {
    throw new CodeloopError('unreadableDirectory', `cannot index ${dir}: it is on ${pseudo}, a kernel pseudo-filesystem whose files the kernel makes up when read (some never end); codeloop searches folders of files`);
  }
  return real;
}
