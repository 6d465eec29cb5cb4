import net from 'node:net';
import { CodeloopError } from '../errors.js';
import { isPrivateSocket } from './daemon-paths.js';

/**
 * One JSON-RPC request from a command-line process to the running daemon, framed like LSP (`Content-Length`
 * headers). Written here rather than through vscode-jsonrpc so `codeloop search` with a daemon loads nothing but
 * this: the daemon is the one doing the work, and the command's cost should be starting node and connecting.
 * Resolves `{ result }`, or null when no daemon listens on `socketPath` (or it is not private: isPrivateSocket); a JSON-RPC error becomes a
 * `CodeloopError('daemonRequest')` carrying the daemon's message (e.g. "invalid regex …").
 */
const METHOD_NOT_FOUND = -32601;

export function requestDaemon<T>(socketPath: string, method: string, params: unknown, timeoutMs?: number): Promise<{ result: T } | null> {
  if (!isPrivateSocket(socketPath)) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    // A daemon that holds the socket but does not answer (busy) must not hold this process forever.
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => {
      finish(() => reject(new DaemonTimeout(timeoutMs)));
      socket.destroy();
    }, timeoutMs);
    let connected = false;
    let buffered: Buffer = Buffer.alloc(0);
    let settled = false;
    const finish = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.end();
      outcome();
    };
    socket.once('connect', () => {
      connected = true;
      const body = Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }));
      socket.write(Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`), body]));
    });
    socket.on('data', (chunk: Buffer) => {
      buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
      // The daemon may send notifications (log messages) before the answer: read every complete message.
      for (;;) {
        const headerEnd = buffered.indexOf('\r\n\r\n');
        if (headerEnd === -1) return;
        const length = Number(/Content-Length: *(\d+)/i.exec(buffered.subarray(0, headerEnd).toString('latin1'))?.[1]);
        if (!Number.isFinite(length) || buffered.length < headerEnd + 4 + length) return;
        const message = JSON.parse(buffered.subarray(headerEnd + 4, headerEnd + 4 + length).toString('utf8')) as {
          id?: number; result?: T; error?: { code: number; message: string };
        };
        buffered = buffered.subarray(headerEnd + 4 + length);
        if (message.id !== 1) continue;
        // A daemon from before this request existed answers MethodNotFound: then the command works on its own.
        if (message.error?.code === METHOD_NOT_FOUND) finish(() => resolve(null));
        else if (message.error) finish(() => reject(new CodeloopError('daemonRequest', message.error!.message)));
        else finish(() => resolve({ result: message.result as T }));
        return;
      }
    });
    socket.once('error', (error) => finish(() => (connected ? reject(new CodeloopError('daemonRequest', `the codeloop daemon connection failed: ${error.message}`)) : resolve(null))));
    socket.once('close', () => finish(() => reject(new CodeloopError('daemonRequest', 'the codeloop daemon hung up before answering (see its log; `codeloop daemon stop` and retry)'))));
  });
}

/** The daemon took the connection but did not answer within the given time: it is alive but busy. */
export class DaemonTimeout extends CodeloopError {
  constructor(readonly waitedMs: number) {
    super('daemonRequest', `the codeloop daemon did not answer within ${waitedMs / 1000} s`);
  }
}
