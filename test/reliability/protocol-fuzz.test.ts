import net from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { editorOnDaemon } from '../helpers/daemon-world.js';

/**
 * Protocol fuzzing against the shared daemon: random, truncated, oversized, non-UTF-8, wrong-typed and out-of-order
 * frames on their own socket connections, while a well-behaved editor keeps working. FUZZ_FRAMES sets how many
 * (default 2,000 in `npm test`; the reliability run uses 100,000).
 */
const FRAMES = Number(process.env.FUZZ_FRAMES ?? 2000);
const METHODS = ['initialize', 'initialized', 'shutdown', 'exit', 'textDocument/didOpen', 'textDocument/didChange', 'textDocument/didClose',
  'textDocument/codeAction', 'workspace/executeCommand', 'workspace/symbol', 'workspace/didChangeConfiguration',
  'workspace/didChangeWorkspaceFolders', 'codeloop/startTask', 'codeloop/approvePlan', 'codeloop/reject', 'codeloop/cancel',
  'codeloop/applyProposal', 'codeloop/listSessions', 'codeloop/getSession', 'codeloop/search', 'codeloop/indexStatus', 'codeloop/status'];

let seed = 1234;
const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)];

function randomValue(depth = 0): unknown {
  const kinds = depth > 2 ? ['string', 'number', 'null', 'bool'] : ['string', 'number', 'null', 'bool', 'array', 'object', 'uri'];
  switch (pick(kinds)) {
    case 'string': return pick(['', 'x', '../../etc/passwd', '\u0000', 'a'.repeat(5000), '(((', '\ud800', '🙂']);
    case 'number': return pick([0, -1, 1e308, 3.5, Number.MAX_SAFE_INTEGER]);
    case 'null': return null;
    case 'bool': return random() > 0.5;
    case 'array': return Array.from({ length: Math.floor(random() * 4) }, () => randomValue(depth + 1));
    case 'uri': return pick(['file:///etc/passwd', 'file:///tmp/%2e%2e/x', 'http://x', 'file://', 'untitled:1']);
    default: {
      const keys = ['query', 'mode', 'sessionId', 'prompt', 'textDocument', 'range', 'uri', 'contentChanges', 'command', 'arguments', 'settings', 'event', 'limit'];
      return Object.fromEntries(Array.from({ length: Math.floor(random() * 4) }, () => [pick(keys), randomValue(depth + 1)]));
    }
  }
}

function frame(body: Buffer | string, declaredLength?: number): Buffer {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  return Buffer.concat([Buffer.from(`Content-Length: ${declaredLength ?? bytes.length}\r\n\r\n`), bytes]);
}

/** One hostile frame (or a few bytes that are not a frame at all). */
function hostileFrame(id: number): Buffer {
  const message = { jsonrpc: '2.0', id, method: pick(METHODS), params: randomValue() };
  switch (pick(['valid-shape', 'valid-shape', 'notification', 'truncated', 'garbage', 'non-utf8', 'bad-header', 'wrong-types', 'huge-declared'])) {
    case 'notification': return frame(JSON.stringify({ jsonrpc: '2.0', method: message.method, params: message.params }));
    case 'truncated': return frame(JSON.stringify(message).slice(0, 10));
    case 'garbage': return Buffer.from(`garbage ${random()}\r\n\r\n`);
    case 'non-utf8': return frame(Buffer.from([0xff, 0xfe, 0x7b, 0x22, 0xc3, 0x28]));
    case 'bad-header': return Buffer.from('Content-Length: banana\r\n\r\n{}');
    case 'wrong-types': return frame(JSON.stringify({ jsonrpc: 2, id: {}, method: 42, params: 'x' }));
    case 'huge-declared': return frame('{}', 100 * 1024 * 1024);
    default: return frame(JSON.stringify(message));
  }
}

let world: Awaited<ReturnType<typeof editorOnDaemon>>;
beforeAll(async () => {
  world = await editorOnDaemon({ 'src/app.ts': 'export function survivor() { return 1; }\n' }, 'well-behaved');
});
afterAll(() => world.close());

describe('protocol fuzzing on the daemon socket', () => {
  it(`answers or drops ${FRAMES} hostile frames without crashing, and keeps serving the well-behaved editor`, async () => {
    const { editor, socket: socketPath, state } = world;
    const pidBefore = (await editor.connection.sendRequest<any>('codeloop/status', {})).pid;
    const perConnection = 50;
    let sent = 0;
    while (sent < FRAMES) {
      await new Promise<void>((resolve) => {
        const socket = net.connect(socketPath);
        socket.on('error', () => resolve());
        socket.on('connect', () => {
          const batch = Array.from({ length: Math.min(perConnection, FRAMES - sent) }, (_, i) => hostileFrame(sent + i));
          sent += batch.length;
          socket.end(Buffer.concat(batch));
        });
        socket.on('close', () => resolve());
        socket.resume();
        setTimeout(() => socket.destroy(), 2000).unref();
      });
      if (sent % 1000 < perConnection) {
        const hits = await editor.connection.sendRequest<any>('codeloop/search', { query: 'survivor' });
        expect(hits.matches).toHaveLength(1);
      }
    }
    const after = await editor.connection.sendRequest<any>('codeloop/status', {});
    expect(after.pid).toBe(pidBefore);
    expect((await editor.connection.sendRequest<any[]>('workspace/symbol', { query: 'survivor' }))[0].name).toBe('survivor');
    const log = fs.readFileSync(path.join(state, 'codeloop', 'daemon.log'), 'utf8');
    // The daemon's last line of defence must not have been needed: every failure was handled where it happened.
    expect(log.split('\n').filter((line) => line.includes('unexpected error')), log).toEqual([]);
  });
});
