import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { StreamMessageReader } from 'vscode-jsonrpc/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeModel, type FakeModel, type FakeStep } from '../fake-model/fake-model-server.js';
import { cpuSlowness } from '../helpers/cpu-calibration.js';
import { editorOnDaemon } from '../helpers/daemon-world.js';
import { connectSocket, socketEditor, type Received } from '../helpers/socket-editor.js';

/**
 * One editor can never stall the others. An attacker on the shared daemon sends what a new user (or a fuzzer)
 * plausibly sends — a task whose prompt is a pasted 1 MB log, a 10,000-character ranked-text question, a
 * 1,000-character workspace/symbol query, 10 MB messages — while a latency-measuring editor in its own process
 * keeps asking workspace/symbol. Its p99 may rise by at most 100 ms over a baseline measured in the same test.
 * Then an agent session on a 1 MB pasted log reads, edits and deletes large files, tests and proposes, while
 * another client asks long questions without pause (ranking reads the same large files): the latency client's
 * p99 stays under the 100 ms (× the CPU's slowness) where the machine can run everyone; on an
 * oversubscribed one the daemon must not hold its loop for 150 ms of its own CPU (scaled by the CPU's slowness),
 * and the p99 is recorded (see
 * latencyBound and test/RELIABILITY.md).
 * BUDGET_REPORT=file writes the figures, with the daemon's logged stalls, as JSON.
 */
const METHODS = ['initialize', 'initialized', 'shutdown', 'textDocument/didOpen', 'textDocument/didChange', 'textDocument/didClose',
  'textDocument/codeAction', 'workspace/executeCommand', 'workspace/symbol', 'workspace/didChangeConfiguration',
  'workspace/didChangeWorkspaceFolders', 'codeloop/startTask', 'codeloop/approvePlan', 'codeloop/reject', 'codeloop/cancel',
  'codeloop/applyProposal', 'codeloop/listSessions', 'codeloop/getSession', 'codeloop/search', 'codeloop/indexStatus', 'codeloop/status',
  'codeloop/stopDaemon'];
const TEN_MB = 10 * 1000 * 1000;

/** A pasted log: stack traces with identifiers, paths and long runs that used to make retrieval super-linear. */
function pastedLog(characters: number): string {
  const lines = [
    'ERROR 2026-11-30T10:00:00Z request failed at com.example.billing.InvoiceService.computeTotals(InvoiceService.java:812)',
    `  payload=${'a'.repeat(20_000)}`,
    `  trace ${'#'.repeat(5_000)} ${'handler_'.repeat(2_000)}x ${'src/'.repeat(3_000)}main.ts`,
    '  caused by: retry budget exhausted in `scheduleRetry` after 5 attempts (see src/module7.ts)',
  ];
  let log = '';
  for (let i = 0; log.length < characters; i++) log += `${lines[i % lines.length]}\n`;
  return log.slice(0, characters);
}

function frame(body: string): Buffer {
  return Buffer.concat([Buffer.from(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n`), Buffer.from(body)]);
}

/** A 10 MB message of `method`: the id first (most clients) or last (Helix), or none (a notification). */
function tenMegabyteMessage(method: string, id: number | null, idLast: boolean): Buffer {
  const params = JSON.stringify({ textDocument: { uri: 'file:///x', text: 'x'.repeat(TEN_MB) }, query: 'q', prompt: 'p' });
  if (id === null) return frame(`{"jsonrpc":"2.0","method":${JSON.stringify(method)},"params":${params}}`);
  return frame(idLast
    ? `{"jsonrpc":"2.0","method":${JSON.stringify(method)},"params":${params},"id":${id}}`
    : `{"jsonrpc":"2.0","id":${id},"method":${JSON.stringify(method)},"params":${params}}`);
}

const percentile = (samples: number[], p: number) => [...samples].sort((a, b) => a - b)[Math.min(samples.length - 1, Math.floor((p / 100) * samples.length))];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The latency-measuring editor, in its own process: phases are named on its stdin, samples come back at the end. */
async function startLatencyClient(): Promise<{ phase(name: string): void; stop(): Promise<Record<string, number[]>> }> {
  const child = spawn(process.execPath, [path.join(import.meta.dirname, '../helpers/latency-client.mjs'), world.socket, world.root, 'handler1'], { stdio: ['pipe', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.on('data', (chunk) => {
    output += chunk;
  });
  await expect.poll(() => output, { timeout: 30_000 }).toContain('ready\n');
  return {
    phase: (name) => child.stdin.write(`${name}\n`),
    async stop() {
      child.stdin.write('stop\n');
      await new Promise((resolve) => child.once('exit', resolve));
      return JSON.parse(output.split('\n')[1]);
    },
  };
}

/** Raw frames on their own socket; resolves with every answer (by id) and notification read back. */
async function sendRaw(socketPath: string, frames: Buffer[], expectedAnswers: number): Promise<{ answers: Map<number, any>; notifications: any[] }> {
  const socket = net.connect(socketPath);
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const answers = new Map<number, any>();
  const notifications: any[] = [];
  new StreamMessageReader(socket).listen((message: any) => {
    if ('id' in message && !('method' in message)) answers.set(message.id, message);
    else if ('method' in message) notifications.push(message);
  });
  for (const chunk of frames) {
    if (!socket.write(chunk)) await new Promise((resolve) => socket.once('drain', resolve));
  }
  await expect.poll(() => answers.size, { timeout: 60_000 }).toBe(expectedAnswers);
  await sleep(200);
  socket.destroy();
  return { answers, notifications };
}

/** Marks the long session's prompt: the scripted model answers it with the steps below, anything else with a plan and done. */
const SESSION_MARK = 'LONG SESSION';
/** Lines of a large source file (≈ 900 KB, under index.maxFileSize), each distinct. */
const bigFile = (n: number) => Array.from({ length: 12_000 }, (_, line) => `export const value${n}_${line} = compute(${line}, 'a fairly long string literal here');\n`).join('');
const call = (name: string, args: unknown): FakeStep => ({ kind: 'tools', calls: [{ name, arguments: args }] });
/** The long session's turns: read a large file, edit two (one block, one whole file), delete one, search, test, done. */
const SESSION_STEPS: FakeStep[] = [
  { kind: 'text', content: '1. Read the log.\n2. Fix the values.' },
  call('read_file', { path: 'src/big0.ts' }),
  call('propose_edit', { path: 'src/big0.ts', edit: { kind: 'blocks', blocks: [{ search: 'export const value0_6000 =', replace: 'export const value0_6000: number =' }] } }),
  call('propose_edit', { path: 'src/big1.ts', edit: { kind: 'content', content: bigFile(1).replace(/compute\((\d*0)0,/g, 'compute($10 + 1,') } }),
  call('propose_edit', { path: 'src/obsolete.ts', edit: { kind: 'delete' } }),
  call('search_code', { query: 'scheduleRetry', mode: 'literal' }),
  call('run_tests', {}),
  call('done', { summary: 'values fixed' }),
];

let world: Awaited<ReturnType<typeof editorOnDaemon>>;
let fake: FakeModel;
const report: Record<string, unknown> = {};
beforeAll(async () => {
  const files: Record<string, string> = { 'package.json': JSON.stringify({ name: 'budget', scripts: { test: 'node -e "process.exit(0)"' } }) };
  for (let i = 0; i < 300; i++) files[`src/module${i}.ts`] = `export function handler${i}(input: string) { return scheduleRetry(input.length + ${i}); }\n`;
  for (let i = 0; i < 3; i++) files[`src/big${i}.ts`] = bigFile(i);
  files['src/obsolete.ts'] = 'export const obsolete = true;\n';
  const answer = (messages: { role: string; content?: unknown }[]): FakeStep => {
    const turn = messages.filter((m) => m.role === 'assistant').length;
    if (String(messages.find((m) => m.role === 'user')?.content ?? '').includes(SESSION_MARK)) return SESSION_STEPS[turn];
    return turn ? call('done', { summary: 'nothing to change' }) : { kind: 'text', content: '1. Read the log.' };
  };
  fake = await startFakeModel(answer);
  // A window that holds the 1 MB prompt, so the session runs to a proposal instead of stopping at its size.
  world = await editorOnDaemon(files, 'latency', { model: { baseURL: fake.baseURL, model: 'fake', maxRetries: 0, contextWindow: 4_000_000 },
    agent: { autoApprovePlan: true, maxTokens: 100_000_000, context: { elideAt: 0.5, compactAt: 0.75, maxRequestShare: 0.8, workingTokens: 4_000_000 } } });
});
afterAll(async () => {
  if (process.env.BUDGET_REPORT) fs.writeFileSync(process.env.BUDGET_REPORT, JSON.stringify(report, null, 2));
  await world.close();
  await fake.close();
});

const status = () => world.editor.connection.sendRequest<any>('codeloop/status', {});

/** The daemon's logged stalls since `since` (epoch ms). */
function stallsSince(since: number): string[] {
  return fs.readFileSync(path.join(world.state, 'codeloop', 'daemon.log'), 'utf8').split('\n')
    .filter((line) => line.includes('event loop stalled') && Date.parse(line.slice(0, 24)) >= since);
}

/**
 * Samples the machine's load (1-minute load average) every second while a phase runs: the latency bound below
 * takes the highest, since the other editor waited whenever the load was high, not only at the end.
 */
function sampleLoad(): { stop(): number[] } {
  const loads = [os.loadavg()[0]];
  const timer = setInterval(() => loads.push(os.loadavg()[0]), 1000);
  return {
    stop() {
      clearInterval(timer);
      loads.push(os.loadavg()[0]);
      return loads;
    },
  };
}

/**
 * 100 ms, scaled by how oversubscribed the machine was (load average per core, the highest seen in the phase; 1
 * on an idle machine, where the bound is the plain 100 ms): with more runnable processes than cores, the latency
 * client waits for a core whatever the daemon does. Under load the scaled bound gets half again as much: the load
 * average is a one-minute mean that lags the bursts of a full test run (measured: p99 816 ms in `npm test` at a
 * load average of 18, where the whole-run load was higher than sampled). The figures are in test/RELIABILITY.md.
 */
function latencyBound(name: string, loads: number[]): number {
  const oversubscribed = Math.max(...loads) / os.cpus().length;
  const bound = oversubscribed <= 1 ? 100 : 150 * oversubscribed;
  report[`${name}BoundMs`] = bound;
  report[`${name}LoadAverages`] = loads;
  return bound;
}

describe('the event-loop budget of the shared daemon', () => {
  it('keeps another editor\'s p99 within 100 ms of its baseline while one client sends long queries and 10 MB messages', { timeout: 240_000 }, async () => {
    const attacker = await socketEditor(await connectSocket(world.socket), world.root, 'attacker');
    const latency = await startLatencyClient();
    latency.phase('baseline');
    await sleep(5000);
    // Built before measuring: this test process also serves the fake model, and should start the attack at once.
    const question = pastedLog(10_000);
    const hugeFrames = [tenMegabyteMessage('codeloop/search', 1, false), tenMegabyteMessage('codeloop/startTask', 2, true)];
    const before = await status();
    latency.phase('during');
    const load = sampleLoad();
    const attackStarted = performance.now();
    const attackStartedAt = Date.now();
    // Retrieval reads a long prompt through the same ranking as this question (measured to 10 MB in
    // test/unit/linear-time.test.ts).
    const text = await attacker.sendRequest<any>('codeloop/search', { query: question, mode: 'text' });
    expect(text.files.length).toBeGreaterThan(0);
    await attacker.sendRequest('workspace/symbol', { query: `${'handler'.repeat(142)}x` });
    await sendRaw(world.socket, hugeFrames, 2);
    await sleep(Math.max(0, 5000 - (performance.now() - attackStarted)));
    const { baseline, during } = await latency.stop();
    const loads = load.stop();
    const after = await status();
    report.queries = {
      baselineP50Ms: percentile(baseline, 50), baselineP99Ms: percentile(baseline, 99), baselineSamples: baseline.length,
      duringP50Ms: percentile(during, 50), duringP99Ms: percentile(during, 99), duringMaxMs: Math.max(...during), duringSamples: during.length,
      eventLoopBefore: before.eventLoop, eventLoopAfter: after.eventLoop, rssBeforeMB: before.memory.rssBytes / 1e6, rssAfterMB: after.memory.rssBytes / 1e6,
    };
    // Logged stalls are recorded (with the CPU the event loop's own thread used), not asserted: a stall's window
    // may hold several tasks back to back, and a session turn's edit and checkpoint take 60–100 ms together.
    report.queriesStalls = stallsSince(attackStartedAt);
    console.log(JSON.stringify(report.queries));
    expect(percentile(during, 99) - percentile(baseline, 99)).toBeLessThan(latencyBound('queries', loads));
    await attacker.dispose();
  });

  it('keeps another editor\'s p99 under 100 ms on a quiet machine while an agent session works on a 1 MB pasted log and large files beside a long-query client', { timeout: 300_000 }, async () => {
    const received: Received = { notifications: [], appliedEdits: [] };
    const agent = await socketEditor(await connectSocket(world.socket), world.root, 'agent', received);
    const asker = await socketEditor(await connectSocket(world.socket), world.root, 'asker');
    const latency = await startLatencyClient();
    const prompt = pastedLog(1_000_000);
    const question = pastedLog(10_000);
    const before = await status();
    latency.phase('session');
    const load = sampleLoad();
    const startedAt = Date.now();
    // The long-query client: ranked-text questions of 10,000 characters and long symbol queries, one after another.
    let asking = true;
    let questionsAnswered = 0;
    const askingDone = (async () => {
      while (asking) {
        await asker.sendRequest('codeloop/search', { query: question, mode: 'text' });
        await asker.sendRequest('workspace/symbol', { query: `${'handler'.repeat(142)}x` });
        questionsAnswered++;
      }
    })();
    const { sessionId } = await agent.sendRequest<{ sessionId: string }>('codeloop/startTask', { prompt: `${SESSION_MARK}\n${prompt.slice(SESSION_MARK.length + 1)}` });
    // Asked every half second, as an editor showing the session would (each answer carries the 1 MB prompt).
    await expect.poll(async () => (await agent.sendRequest<any>('codeloop/getSession', { sessionId })).state, { timeout: 120_000, interval: 500 }).toMatch(/awaitingApproval|applied|finished|failed|rejected/);
    await sleep(1000);
    asking = false;
    await askingDone;
    const { session: samples } = await latency.stop();
    const loads = load.stop();
    const session = await agent.sendRequest<any>('codeloop/getSession', { sessionId });
    const after = await status();
    report.session = {
      p50Ms: percentile(samples, 50), p99Ms: percentile(samples, 99), maxMs: Math.max(...samples), samples: samples.length, questionsAnswered,
      sessionState: session.state, sessionError: session.error ?? null, eventLoopBefore: before.eventLoop, eventLoopAfter: after.eventLoop,
      rssBeforeMB: before.memory.rssBytes / 1e6, rssAfterMB: after.memory.rssBytes / 1e6,
    };
    report.sessionStalls = stallsSince(startedAt);
    console.log(JSON.stringify(report.session));
    // The session did its work: a proposal of the three changes, the 1 MB prompt kept whole.
    expect(session.prompt.length).toBe(1_000_000);
    expect(session.state, session.error).toBe('awaitingApproval');
    expect(session.proposal.map((file: { path: string }) => file.path).sort()).toEqual(['src/big0.ts', 'src/big1.ts', 'src/obsolete.ts']);
    expect(questionsAnswered).toBeGreaterThan(0);
    // The budget as the other editor sees it, on a machine that can run everyone (100 ms); on an oversubscribed
    // one, in the daemon's own terms: no logged stall held 150 ms of the event loop thread's CPU (the 100 ms
    // budget, plus the log's 10 ms resolution and a turn's tasks that can share one stall's window; measured at
    // most 90 ms at loads of 10–16 on 2 cores since the second round, up to 160 ms before it), scaled by how much
    // slower this machine's CPU is than the development machine's (see cpuSlowness). The p99 is recorded then,
    // beside the scaled bound it would be held to (test/RELIABILITY.md: under load it follows the machine, not the
    // daemon: stalls of 250–620 ms used 20–100 ms of the loop's CPU).
    // On a quiet machine the p99 was 159–184 ms before the second round moved the turn's checkpoint, whole-file
    // edit, proposal diff and ranking windows off the loop or made them proportional to what changed, 64–71 ms
    // after it, 76–122 ms at the end of the third (held to 150 ms then). The fourth found the long-question
    // client's import resolution scanning each 900 KB leading file with a backtracking regular expression
    // (15–50 ms of the loop per question in the daemon's profile) and holds the 100 ms again
    // (test/RELIABILITY.md).
    const bound = latencyBound('session', loads);
    const slowness = (report.cpuSlowness = cpuSlowness());
    if (bound === 100) expect(percentile(samples, 99)).toBeLessThan(bound * slowness);
    // CPU bounds were set on the development machine; a slower CPU slows the daemon's own work alike.
    const loopCpuBound = 150 * slowness;
    const loopCpu = (report.sessionStalls as string[]).map((line) => Number(/\((\d+) ms of CPU on the event loop's thread/.exec(line)?.[1] ?? 0));
    expect(loopCpu.filter((ms) => ms >= loopCpuBound), (report.sessionStalls as string[]).join('\n')).toEqual([]);
    await agent.dispose();
    await asker.dispose();
  });

  it('refuses a prompt, query or path over its limit with InvalidParams naming the limit', { timeout: 60_000 }, async () => {
    const editor = world.editor.connection;
    const refusal = (method: string, params: unknown) => editor.sendRequest(method, params).then(() => null, (error) => ({ code: error.code, message: error.message }));
    expect(await refusal('codeloop/startTask', { prompt: 'x'.repeat(1_000_001) })).toEqual({
      code: -32602, message: 'codeloop/startTask: invalid params at prompt: too long: the limit is 1,000,000 characters (limits.promptCharacters)',
    });
    expect(await refusal('codeloop/search', { query: 'x'.repeat(10_001), mode: 'text' })).toMatchObject({ code: -32602, message: expect.stringContaining('limits.searchQueryCharacters') });
    expect(await refusal('workspace/symbol', { query: 'x'.repeat(1_001) })).toMatchObject({ code: -32602, message: expect.stringContaining('limits.symbolQueryCharacters') });
    expect(await refusal('codeloop/reject', { sessionId: 's', feedback: 'x'.repeat(100_001) })).toMatchObject({ code: -32602, message: expect.stringContaining('limits.feedbackCharacters') });
    expect(await refusal('codeloop/applyProposal', { sessionId: 's', files: ['x'.repeat(4_097)] })).toMatchObject({ code: -32602, message: expect.stringContaining('limits.pathCharacters') });
    expect(await refusal('workspace/executeCommand', { command: 'codeloop.startTask', arguments: ['x'.repeat(1_000_001)] })).toMatchObject({ code: -32602, message: expect.stringContaining('limits.promptCharacters') });
    // Just under the limits is served.
    expect(await editor.sendRequest<any[]>('workspace/symbol', { query: 'x'.repeat(1_000) })).toEqual([]);
  });

  it('answers 10 MB messages of every method with the limit named, without buffering them, and keeps serving', { timeout: 300_000 }, async () => {
    const rssBefore = (await status()).memory.rssBytes;
    const frames: Buffer[] = [];
    METHODS.forEach((method, i) => {
      frames.push(tenMegabyteMessage(method, i + 1, i % 2 === 1));
      frames.push(tenMegabyteMessage(method, null, false));
    });
    const probe = frame(JSON.stringify({ jsonrpc: '2.0', id: 1000, method: 'codeloop/status', params: {} }));
    const { answers, notifications } = await sendRaw(world.socket, [...frames, probe], METHODS.length + 1);
    for (let id = 1; id <= METHODS.length; id++) {
      expect(answers.get(id)?.error, METHODS[id - 1]).toEqual({
        code: -32602,
        message: `codeloop: a 10.0 MB ${METHODS[id - 1]} message is over the limit of 8,388,608 bytes (limits.messageBytes); it was skipped`,
      });
    }
    // The connection stays usable after them, and every skipped notification was told about once.
    expect(answers.get(1000)?.result.pid).toBe((await status()).pid);
    const told = notifications.filter((n) => n.method === 'window/showMessage' && n.params.message.includes('limits.messageBytes'));
    expect(told).toHaveLength(METHODS.length);
    const after = await status();
    report.tenMegabyteFrames = { messages: frames.length, rssBeforeMB: rssBefore / 1e6, rssAfterMB: after.memory.rssBytes / 1e6, eventLoop: after.eventLoop };
    console.log(JSON.stringify(report.tenMegabyteFrames));
    // 440 MB went through the socket; none of it was kept.
    expect(after.memory.rssBytes - rssBefore).toBeLessThan(100e6);
    expect((await world.editor.connection.sendRequest<any[]>('workspace/symbol', { query: 'handler1' }))[0].name).toBe('handler1');
  });

  it('reports the event-loop delay in `codeloop status`', { timeout: 60_000 }, async () => {
    const { runCli } = await import('../helpers/run-cli.js');
    const printed = runCli(['status', world.root], { stateHome: world.state, env: world.env }).stdout;
    expect(printed).toMatch(/^loop {6}event-loop delay p99 [\d.]+ ms, max [\d.]+ ms, \d+ stalls over 250 ms \(logged\)$/m);
  });
});
