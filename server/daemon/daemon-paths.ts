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
 * another local user must not be able to plant a socket we would connect to, or reach ours. A folder of this user
 * that others may only read or enter is made 0700; one that others may write (a shared `/tmp`-like folder, 1777,
 * named by CODELOOP_RUNTIME_DIR) is refused and left as it is: what is in it may be another user's, and taking
 * its permissions away would break everyone else who uses it (as root, `/tmp` itself).
 */
export function ensurePrivateDirectory(directory: string): void {
  fs.mkdirSync(directory, { recursive: true, mode: 0o700 });
  const stat = fs.lstatSync(directory);
  const uid = process.getuid?.();
  if (!stat.isDirectory()) throw new CodeloopError('invalidConfig', `${directory} is not a directory; remove it so codeloop can create its runtime folder`);
  if (uid !== undefined && stat.uid !== uid) throw new CodeloopError('invalidConfig', `${directory} belongs to another user (uid ${stat.uid}); codeloop will not use it`);
  if ((stat.mode & 0o022) !== 0) {
    throw new CodeloopError('invalidConfig', `${directory} can be written by other users (mode ${(stat.mode & 0o7777).toString(8)}); codeloop will not keep its socket there nor change the folder's permissions: set CODELOOP_RUNTIME_DIR to a folder of your own, or unset it (codeloop then makes a private one)`);
  }
  if ((stat.mode & 0o077) !== 0) fs.chmodSync(directory, 0o700);
}

/**
 * Whether a client may use the socket at `socketPath`: its folder is this user's, private (no group or other
 * permission) and not a symbolic link, and the socket is this user's. Otherwise another local user could have
 * planted it (say, a `/tmp/codeloop-UID` made before ours) to read what codeloop sends; clients then act as if
 * no daemon ran (and starting one checks the folder, naming the problem). The native client checks the same.
 */
export function isPrivateSocket(socketPath: string): boolean {
  const uid = process.getuid?.();
  if (uid === undefined) return true;
  try {
    const folder = fs.lstatSync(path.dirname(socketPath));
    const socket = fs.lstatSync(socketPath);
    return folder.isDirectory() && folder.uid === uid && (folder.mode & 0o077) === 0 && socket.isSocket() && socket.uid === uid;
  } catch {
    return false;
  }
}

/** Where a daemon started by `codeloop lsp` writes its log. */
export function daemonLogPath(): string {
  return path.join(stateHome(), 'daemon.log');
}
