import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import { CodeloopError } from '../errors.js';
import { daemonLogPath, ensurePrivateDirectory, isPrivateSocket, type DaemonPaths } from './daemon-paths.js';

export { daemonLogPath };

const CLI_PATH = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../cli.js');
const START_TIMEOUT_MS = 10_000;

/** Connects to the daemon's socket, or resolves null when no daemon answers. */
export function connectToDaemon(paths: DaemonPaths): Promise<net.Socket | null> {
  if (!isPrivateSocket(paths.socket)) return Promise.resolve(null);
  return new Promise((resolve) => {
    const socket = net.connect(paths.socket);
    socket.once('connect', () => resolve(socket));
    socket.once('error', () => resolve(null));
  });
}


/**
 * Connects to the daemon, starting it first when none answers. Safe when many editors start at once: each may
 * spawn a daemon, but only one takes the lock and listens; the rest exit and everyone connects to the winner.
 */
export async function connectOrStartDaemon(paths: DaemonPaths): Promise<net.Socket> {
  const existing = await connectToDaemon(paths);
  if (existing) return existing;
  ensurePrivateDirectory(paths.directory);
  const log = daemonLogPath();
  fs.mkdirSync(path.dirname(log), { recursive: true, mode: 0o700 });
  const output = fs.openSync(log, 'a', 0o600);
  const child = spawn(process.execPath, [CLI_PATH, 'daemon'], { detached: true, stdio: ['ignore', output, output], env: process.env });
  child.unref();
  fs.closeSync(output);
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    const socket = await connectToDaemon(paths);
    if (socket) return socket;
  }
  throw new CodeloopError('notFound', `the codeloop daemon did not start within ${START_TIMEOUT_MS / 1000}s; see ${log}`);
}

/** A plain JSON-RPC connection to the daemon for the CLI (`status`, `daemon stop`), or null when none runs. */
export async function daemonRpc(paths: DaemonPaths): Promise<{ connection: MessageConnection; closed: Promise<void>; close(): void } | null> {
  const socket = await connectToDaemon(paths);
  if (!socket) return null;
  const connection = createMessageConnection(new StreamMessageReader(socket), new StreamMessageWriter(socket));
  connection.listen();
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return {
    connection,
    /** Resolves when the daemon hangs up (a pending request then never gets its answer). */
    closed,
    close: () => {
      connection.dispose();
      socket.end();
      // A daemon too busy to read may never close its side: that must not keep the CLI from exiting.
      socket.unref();
    },
  };
}
