import fs from 'node:fs';
import { CodeloopError } from '../errors.js';

/** Checks that a root exists and is a readable directory; returns its real path. */
export function resolveWorkspaceRoot(dir: string): string {
  let real: string;
  try {
    real = fs.realpathSync(dir);
    if (!fs.statSync(real).isDirectory()) throw new Error('not a directory');
    fs.accessSync(real, fs.constants.R_OK | fs.constants.X_OK);
  } catch (error) {
    throw new CodeloopError('unreadableDirectory', `cannot index ${dir}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such directory' : (error as Error).message}`);
  }
  return real;
}
