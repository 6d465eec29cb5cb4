import net from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { editorOnDaemon } from '../helpers/daemon-world.js';

/**
 * Load on one daemon: LOAD_CLIENTS clients (default 5; the reliability run uses 20) each send LOAD_REQUESTS
 * (default 100; 1,000) mixed requests — searches for a token only its own unsaved buffer holds, workspace/symbol,
 * code actions, buffer edits — at the same time. Every answer must arrive and be the right one for its asker.
 */
const CLIENTS = Number(process.env.LOAD_CLIENTS ?? 5);
const REQUESTS = Number(process.env.LOAD_REQUESTS ?? 100);

let world: Awaited<ReturnType<typeof editorOnDaemon>>;
beforeAll(async () => {
  const files: Record<string, string> = {};
  for (let i = 0; i < 200; i++) files[`src/module${i}.ts`] = `export function handler${i}(input: string) { return input.length + ${i}; }\n`;
  world = await editorOnDaemon(files, 'starter'); // starts the daemon like an editor would
});
afterAll(() => world.close());

async function connect(name: string): Promise<MessageConnection> {
  const socket = net.connect(world.socket);
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const connection = createMessageConnection(new StreamMessageReader(socket), new StreamMessageWriter(socket));
  connection.onRequest('window/workDoneProgress/create', () => null);
  connection.onNotification(() => undefined);
  connection.listen();
  const folder = pathToFileURL(world.root).href;
  await connection.sendRequest('initialize', { processId: null, clientInfo: { name }, rootUri: folder, workspaceFolders: [{ uri: folder, name: 'load' }], capabilities: {} });
  await connection.sendNotification('initialized', {});
  return connection;
}

const percentile = (samples: number[], p: number) => [...samples].sort((a, b) => a - b)[Math.min(samples.length - 1, Math.floor((p / 100) * samples.length))];

describe('daemon under load', () => {
  it(`${CLIENTS} clients × ${REQUESTS} mixed requests: nothing lost or misrouted`, async () => {
    const latencies: number[] = [];
    let misrouted = 0;
    const results = await Promise.all(Array.from({ length: CLIENTS }, async (_, clientIndex) => {
      const connection = await connect(`load-${clientIndex}`);
      const token = `privateToken${clientIndex}x`;
      const uri = pathToFileURL(path.join(world.root, `src/client${clientIndex}.ts`)).href;
      await connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'typescript', version: 1, text: `const ${token} = 0;\n` } });
      let answered = 0;
      for (let i = 0; i < REQUESTS; i++) {
        const started = performance.now();
        switch (i % 4) {
          case 0: {
            const hits = await connection.sendRequest<any>('codeloop/search', { query: token });
            // Only this client's own buffer holds its token (once indexed): anything else is a misrouted answer.
            if (hits.matches.some((m: any) => m.path !== `src/client${clientIndex}.ts`)) misrouted++;
            break;
          }
          case 1: {
            const symbols = await connection.sendRequest<any[]>('workspace/symbol', { query: `handler${i % 200}` });
            if (symbols[0]?.name !== `handler${i % 200}`) misrouted++;
            break;
          }
          case 2:
            await connection.sendRequest('textDocument/codeAction', {
              textDocument: { uri: pathToFileURL(path.join(world.root, `src/module${i % 200}.ts`)).href },
              range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, context: { diagnostics: [] },
            });
            break;
          default:
            await connection.sendNotification('textDocument/didChange', { textDocument: { uri, version: i + 2 }, contentChanges: [{ text: `const ${token} = ${i};\n` }] });
            await connection.sendRequest('codeloop/status', {});
        }
        latencies.push(performance.now() - started);
        answered++;
      }
      const finalHits = await connection.sendRequest<any>('codeloop/search', { query: token });
      connection.dispose();
      return { answered, ownTokenFound: finalHits.matches.length === 1 };
    }));
    expect(results.reduce((sum, r) => sum + r.answered, 0)).toBe(CLIENTS * REQUESTS);
    expect(results.every((r) => r.ownTokenFound)).toBe(true);
    expect(misrouted).toBe(0);
    process.stdout.write(`load: ${CLIENTS}×${REQUESTS} requests, p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms\n`);
  });
});
