import path from 'node:path';
import { daemonFigures, reportFigures } from '../helpers/daemon-figures.js';
import { pathToFileURL } from 'node:url';
import type { MessageConnection } from 'vscode-jsonrpc/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeModel, type FakeModel, type FakeStep } from '../fake-model/fake-model-server.js';
import { editorOnDaemon } from '../helpers/daemon-world.js';
import { connectSocket, socketEditor, type Received } from '../helpers/socket-editor.js';

/**
 * Load on one daemon: LOAD_CLIENTS clients (default 5; the reliability run uses 20) each send LOAD_REQUESTS
 * (default 100; 1,000) mixed requests — searches for a token only its own unsaved buffer holds, workspace/symbol,
 * code actions, buffer edits — while LOAD_SESSIONS more clients (default 5) each run an agent session to a
 * proposal and apply it. Every answer must arrive and be the right one for its asker; every session's
 * notifications reach every client of the workspace exactly once; each proposal holds its own session's edit
 * only and is applied in the client that asked.
 */
const CLIENTS = Number(process.env.LOAD_CLIENTS ?? 5);
const REQUESTS = Number(process.env.LOAD_REQUESTS ?? 100);
const SESSIONS = Number(process.env.LOAD_SESSIONS ?? 5);

/** Session n's script, chosen by the task text and the turn (sessions' requests interleave at the model). */
function sessionStep(messages: { role: string; content?: unknown }[]): FakeStep | undefined {
  const n = messages.map((m) => String(m.content ?? '')).join('\n').match(/load session (\d+)/)?.[1];
  if (n === undefined) return undefined;
  const turn = messages.filter((m) => m.role === 'assistant').length;
  const call = (name: string, args: unknown): FakeStep => ({ kind: 'tools', calls: [{ name, arguments: args }] });
  return [
    { kind: 'text', content: `1. Multiply in handler${n}` } as FakeStep,
    call('read_file', { path: `src/module${n}.ts` }),
    call('search_code', { query: `handler${n}(` }),
    call('propose_edit', { path: `src/module${n}.ts`, blocks: [{ search: `input.length + ${n};`, replace: `input.length * ${n};` }] }),
    call('done', { summary: `handler${n} multiplies` }),
  ][turn];
}

let world: Awaited<ReturnType<typeof editorOnDaemon>>;
let fake: FakeModel;
beforeAll(async () => {
  const files: Record<string, string> = { 'package.json': JSON.stringify({ name: 'load', scripts: { test: 'node -e "process.exit(0)"' } }) };
  for (let i = 0; i < 200; i++) files[`src/module${i}.ts`] = `export function handler${i}(input: string) { return input.length + ${i}; }\n`;
  fake = await startFakeModel(sessionStep);
  // Starts the daemon like an editor would.
  world = await editorOnDaemon(files, 'starter', { model: { baseURL: fake.baseURL, model: 'fake', maxRetries: 0 }, agent: { autoApprovePlan: true } });
});
afterAll(async () => {
  await world.close();
  await fake.close();
});

const connect = async (name: string, received?: Received) => socketEditor(await connectSocket(world.socket), world.root, name, received);

const percentile = (samples: number[], p: number) => [...samples].sort((a, b) => a - b)[Math.min(samples.length - 1, Math.floor((p / 100) * samples.length))];

/** One editor asking for session n, waiting for its proposal and applying it. */
async function runSession(connection: MessageConnection, received: Received, n: number) {
  const started = performance.now();
  const { sessionId } = await connection.sendRequest<{ sessionId: string }>('codeloop/startTask', { prompt: `load session ${n}: make handler${n} multiply` });
  for (let waited = 0; !received.notifications.some((u) => u.method === 'codeloop/sessionUpdate' && u.params.sessionId === sessionId && u.params.event.type === 'proposal'); waited += 20) {
    if (waited > 60_000) throw new Error(`session ${n} made no proposal within 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const applied = await connection.sendRequest<{ applied: boolean; conflicts: string[] }>('codeloop/applyProposal', { sessionId });
  return { sessionId, applied, seconds: (performance.now() - started) / 1000 };
}

describe('daemon under load', () => {
  it(`${CLIENTS} clients × ${REQUESTS} mixed requests and ${SESSIONS} agent sessions: nothing lost, duplicated or misrouted`, { timeout: 120_000 }, async () => {
    const figuresBefore = await daemonFigures(world.editor.connection);
    const latencies: number[] = [];
    let misrouted = 0;
    // Every session client is attached before any session starts, so each must see every session's proposal.
    const sessionClients = await Promise.all(Array.from({ length: SESSIONS }, async (_, n) => {
      const received: Received = { notifications: [], appliedEdits: [] };
      return { received, connection: await connect(`session-${n}`, received) };
    }));
    const sessions = Promise.all(sessionClients.map(({ connection, received }, n) => runSession(connection, received, n)));
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

    const outcomes = await sessions;
    const ids = outcomes.map((outcome) => outcome.sessionId);
    expect(new Set(ids).size).toBe(SESSIONS);
    sessionClients.forEach(({ received, connection }, n) => {
      expect(outcomes[n].applied, `session ${n}`).toEqual({ applied: true, conflicts: [] });
      // Applied in the asking editor only, and holding that session's edit only.
      expect(received.appliedEdits, `session ${n}: edits received`).toHaveLength(1);
      const changes = received.appliedEdits[0].documentChanges;
      expect(changes.map((change: any) => change.textDocument.uri), `session ${n}: files`).toEqual([pathToFileURL(path.join(world.root, `src/module${n}.ts`)).href]);
      expect(changes[0].edits.map((edit: any) => edit.newText).join(''), `session ${n}: edit`).toContain(`* ${n}`);
      const proposals = received.notifications.filter((u) => u.method === 'codeloop/sessionUpdate' && u.params.event.type === 'proposal').map((u) => u.params.sessionId);
      expect(proposals.sort(), `session client ${n}: one proposal notice per session`).toEqual([...ids].sort());
      connection.dispose();
    });
    reportFigures(`load, ${CLIENTS} × ${REQUESTS} requests and ${SESSIONS} sessions`, figuresBefore, await daemonFigures(world.editor.connection));
    const slowest = Math.max(...outcomes.map((outcome) => outcome.seconds));
    process.stdout.write(`load: ${CLIENTS}×${REQUESTS} requests, p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms; ${SESSIONS} sessions applied, slowest ${slowest.toFixed(1)} s\n`);
  });
});
