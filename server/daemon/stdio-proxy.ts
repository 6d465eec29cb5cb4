import type net from 'node:net';
import { meetDaemon } from './daemon-build.js';
import { connectOrStartDaemon } from './daemon-client.js';
import { BUSY_NOTICE_MS, busyMessage } from './busy-notice.js';
import { liveLockHolder } from './daemon-lock.js';
import { daemonLogPath, type DaemonPaths } from './daemon-paths.js';
import { FrameSplitter } from './frame-splitter.js';

const CHECK_EVERY_MS = 1000;

/** An LSP `window/showMessage` notification, framed (1 error, 2 warning, 3 info). */
function showMessage(type: 1 | 2 | 3, message: string): Buffer {
  const body = JSON.stringify({ jsonrpc: '2.0', method: 'window/showMessage', params: { type, message } });
  return Buffer.from(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}

function parsed(body: string): { id?: unknown; method?: unknown } | null {
  try {
    const message = JSON.parse(body) as unknown;
    return typeof message === 'object' && message !== null ? message : null;
  } catch {
    return null;
  }
}

/**
 * `codeloop lsp`: what editors run. Bridges stdio to the daemon's socket byte for byte, starting the daemon
 * when needed. Resolves with the exit code when either side closes.
 *
 * It also tells the editor a busy daemon from a dead one (issue 13), in the editor's own message area: when a
 * request has waited BUSY_NOTICE_MS while the daemon's process is alive, "busy … still running" (and
 * "answering again" once it does); when the daemon's connection drops, "stopped", before the server exits.
 * Messages are inserted only between the daemon's messages, never inside one.
 */
export async function runStdioProxy(paths: DaemonPaths): Promise<number> {
  // An older daemon left running after an upgrade is replaced (or, busy, named) before the editor is bridged to it.
  const met = await meetDaemon(paths);
  const socket = await connectOrStartDaemon(paths);
  if (met.notice) {
    process.stderr.write(`${met.notice}\n`);
    // Nothing of the daemon's has been relayed yet: the editor's reader is between messages.
    process.stdout.write(showMessage(met.replaced ? 3 : 2, met.notice));
  }
  const pending = new Map<unknown, { method: string; at: number }>();
  const toEditor: Buffer[] = [];
  const fromDaemon = new FrameSplitter((body) => {
    const message = parsed(body);
    if (message && message.method === undefined && message.id !== undefined) pending.delete(message.id);
  });
  const fromEditor = new FrameSplitter((body) => {
    const message = parsed(body);
    if (message && typeof message.method === 'string' && message.id !== undefined) pending.set(message.id, { method: message.method, at: Date.now() });
  });
  const tell = (notice: Buffer) => {
    toEditor.push(notice);
    if (fromDaemon.atBoundary) process.stdout.write(Buffer.concat(toEditor.splice(0)));
  };
  relay(socket, fromDaemon, () => {
    if (toEditor.length && fromDaemon.atBoundary) process.stdout.write(Buffer.concat(toEditor.splice(0)));
  });
  process.stdin.on('data', (chunk: Buffer) => fromEditor.push(chunk));

  let busySince: number | null = null;
  const watch = setInterval(() => {
    const oldest = [...pending.values()].reduce<{ method: string; at: number } | null>((first, request) => (!first || request.at < first.at ? request : first), null);
    if (busySince === null && oldest && Date.now() - oldest.at >= BUSY_NOTICE_MS) {
      const pid = liveLockHolder(paths.lock);
      if (pid === null) return; // not running: the connection is about to drop, and that is said then
      busySince = oldest.at;
      tell(showMessage(2, busyMessage(pid, oldest.method, Date.now() - oldest.at)));
    } else if (busySince !== null && (!oldest || oldest.at > busySince)) {
      tell(showMessage(3, `codeloop: the daemon answers again (it was busy for ${Math.round((Date.now() - busySince) / 1000)} s).`));
      busySince = null;
    }
  }, CHECK_EVERY_MS);
  watch.unref();

  return new Promise((resolve) => {
    let editorClosed = false;
    process.stdin.pipe(socket);
    process.stdin.once('end', () => {
      editorClosed = true;
      socket.end();
    });
    socket.once('close', () => {
      clearInterval(watch);
      if (editorClosed) return resolve(0);
      process.stderr.write('codeloop: the daemon closed the connection\n');
      const notice = `codeloop: the daemon stopped (it is not running any more); see ${daemonLogPath()}. Restart the language server to start a new one.`;
      // A daemon that died mid-message leaves the editor's reader inside it: nothing more can be said then.
      if (fromDaemon.atBoundary) process.stdout.write(Buffer.concat([...toEditor.splice(0), showMessage(1, notice)]), () => resolve(1));
      else resolve(1);
    });
    socket.once('error', (error) => process.stderr.write(`codeloop: daemon connection failed: ${error.message}\n`));
  });
}

/** Daemon → editor, chunk by chunk with backpressure, each chunk followed through the splitter. */
function relay(socket: net.Socket, splitter: FrameSplitter, afterChunk: () => void): void {
  socket.on('data', (chunk: Buffer) => {
    if (!process.stdout.write(chunk)) {
      socket.pause();
      process.stdout.once('drain', () => socket.resume());
    }
    splitter.push(chunk);
    afterChunk();
  });
}
