import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stateHome } from '../config/state-paths.js';
import { CodeloopError } from '../errors.js';

export interface DaemonPaths {
  directory: string;
  socket: string;
  lock: string;
}

/** `$XDG_RUNTIME_DIR/codeloop/` (per user by definition), else a per-uid folder under the temp dir. */
export function daemonPaths(env: NodeJS.ProcessEnv = process.env): DaemonPaths {
  const uid = process.getuid?.() ?? 0;
  const directory = env.CODELOOP_RUNTIME_DIR
    ?? (env.XDG_RUNTIME_DIR && path.isAbsolute(env.XDG_RUNTIME_DIR) ? path.join(env.XDG_RUNTIME_DIR, 'codeloop') : path.join(os.tmpdir(), `codeloop-${uid}`));
  return { directory, socket: path.join(directory, 'daemon.sock'), lock: path.join(directory, 'daemon.lock') };
}

/**
 * Creates the runtime folder 0700, or checks that an existing one belongs to this user and is private:
 * another local user must not be able to plant a socket we would connect to, or reach ours.
 */
export function ensurePrivateDirectory(directory: string): void {
  fs.mkdirSync(directory, { recursive: true, mode: 0o700 });
  const stat = fs.lstatSync(directory);
  const uid = process.getuid?.();
  if (!stat.isDirectory()) throw new CodeloopError('invalidConfig', `${directory} is not a directory; remove it so codeloop can create its runtime folder`);
  if (uid !== undefined && stat.uid !== uid) throw new CodeloopError('invalidConfig', `${directory} belongs to another user (uid ${stat.uid}); codeloop will not use it`);
  if ((stat.mode & 0o077) !== 0) fs.chmodSync(directory, 0o700);
}

/** Where a daemon started by `codeloop lsp` writes its log. */
export function daemonLogPath(): string {
  return path.join(stateHome(), 'daemon.log');
}
