import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { MessageConnection } from 'vscode-jsonrpc/node';
import { afterAll, describe, expect, it } from 'vitest';
import { startFakeModel, type FakeStep } from '../fake-model/fake-model-server.js';
import { makeStateHome, makeTree, removeTree } from '../helpers/fixture-tree.js';
import { waitUntilIndexed } from '../helpers/lsp-client.js';
import { CLI_PATH, runCli } from '../helpers/run-cli.js';
import { socketEditor, type Received } from '../helpers/socket-editor.js';

/**
 * Sessions survive the daemon: SIGKILL it at a random moment of a session's planning, of a tool call, of its
 * test run, or while its plan waits for approval, SESSION_KILLS times (default 4: each moment once; the
 * reliability run uses more). After each restart the session is `interrupted` (or, if its plan waited, still
 * waiting with that plan), nothing is left running, and going on — `codeloop/resume`, `codeloop sessions resume`
 * or approving the plan — ends in exactly the proposal an uninterrupted run of the same scripted model makes.
 */
const KILLS = Number(process.env.SESSION_KILLS ?? 4);
const MOMENTS = ['planning', 'toolCall', 'tests', 'planApproval'] as const;
type Moment = (typeof MOMENTS)[number];
/** How long the tool call and the test run last (ms): the window a kill lands in. */
const TOOL_SLEEP_SECONDS = 2;
const TEST_MS = 2000;

const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

let seed = 7;
const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);

const PLAN = '1. Add a greeting module\n2. Make add add';
const STEPS: FakeStep[] = [
  { kind: 'tools', calls: [{ name: 'propose_edit', arguments: { path: 'src/greeting.js', content: 'exports.greet = (name) => `hello ${name}`;\n' } }] },
  { kind: 'tools', calls: [{ name: 'run_command', arguments: { command: `sleep ${TOOL_SLEEP_SECONDS}` } }] },
  { kind: 'tools', calls: [{ name: 'propose_edit', arguments: { path: 'src/math.js', blocks: [{ search: 'a - b', replace: 'a + b' }] } }] },
  { kind: 'tools', calls: [{ name: 'done', arguments: { summary: 'greeting added, add adds' } }] },
];

/** The task of each message list: its first user message (each session's prompt is unique). */
function taskOf(messages: { role: string; content?: unknown }[]): string {
  return String(messages.find((message) => message.role === 'user')?.content ?? '');
}

describe('session crash recovery', () => {
  it(`${KILLS} SIGKILLs at planning, a tool call, tests and plan approval: every session goes on to the uninterrupted proposal`, { timeout: 120_000 + KILLS * 60_000 }, async () => {
    const root = fs.realpathSync(makeTree({
      'package.json': JSON.stringify({ name: 'calc', scripts: { test: `node -e "setTimeout(() => {}, ${TEST_MS})"` } }),
      'src/math.js': 'exports.add = (a, b) => a - b;\n',
    }, { git: true }));
    const state = makeStateHome();
    // Answers from the conversation alone, so a resumed session hears what an uninterrupted one would: the plan
    // until it is approved, then the step numbered by how many tool results it has seen. A task named in
    // `hangPlanOnce` gets no answer to its first plan request (the kill lands mid-request, in planning).
    const hangPlanOnce = new Set<string>();
    const fake = await startFakeModel((messages) => {
      if (!JSON.stringify(messages).includes('The plan is approved')) {
        const task = [...hangPlanOnce].find((name) => taskOf(messages).includes(name));
        if (task) {
          hangPlanOnce.delete(task);
          return { kind: 'hang' };
        }
        return { kind: 'text', content: PLAN };
      }
      return STEPS[messages.filter((message) => message.role === 'tool').length];
    });
    const env = { ...process.env, XDG_STATE_HOME: state, XDG_CONFIG_HOME: path.join(state, 'config'), CODELOOP_RUNTIME_DIR: path.join(state, 'runtime'), OPENAI_API_KEY: '' };
    fs.mkdirSync(path.join(state, 'config', 'codeloop'), { recursive: true });
    fs.writeFileSync(path.join(state, 'config', 'codeloop', 'config.json'), JSON.stringify({
      model: { baseURL: fake.baseURL, model: 'fake', maxRetries: 0, toolCalls: 'native' },
      agent: { autoApprovePlan: true, commandTimeoutSeconds: 30, allowedCommands: ['sleep'] },
    }));
    let daemon: ChildProcess | null = null;
    cleanups.push(() => removeTree(root, state), () => fake.close(), () => daemon?.kill('SIGKILL'));

    const attach = async (received: Received): Promise<MessageConnection> => {
      daemon = spawn(process.execPath, [CLI_PATH, 'daemon', '--idle-seconds', '0'], { env, stdio: 'ignore' });
      for (let waited = 0; ; waited += 25) {
        const socket = await new Promise<net.Socket | null>((resolve) => {
          const candidate = net.connect(path.join(state, 'runtime', 'daemon.sock'));
          candidate.once('connect', () => resolve(candidate)).once('error', () => resolve(null));
        });
        if (socket) {
          const connection = await socketEditor(socket, root, 'session-crash', received);
          await waitUntilIndexed(connection);
          return connection;
        }
        if (waited > 20_000) throw new Error('the daemon did not start within 20 s');
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    };
    const kill = async () => {
      daemon!.kill('SIGKILL');
      await new Promise((resolve) => daemon!.once('exit', resolve));
    };
    const updates = (received: Received, sessionId: string) => received.notifications
      .filter((n) => n.method === 'codeloop/sessionUpdate' && n.params.sessionId === sessionId).map((n) => n.params);
    const settled = async (connection: MessageConnection, sessionId: string) => {
      await expect.poll(async () => (await connection.sendRequest<any>('codeloop/getSession', { sessionId })).state, { timeout: 60_000, interval: 100 })
        .toMatch(/^(awaitingApproval|failed|finished|cancelled|rejected)$/);
      return connection.sendRequest<any>('codeloop/getSession', { sessionId });
    };
    const uri = pathToFileURL(path.join(root, 'src/math.js')).href;

    // The uninterrupted run every resumed one is compared with.
    let received: Received = { notifications: [], appliedEdits: [] };
    let connection = await attach(received);
    const { sessionId: baselineId } = await connection.sendRequest<any>('codeloop/startTask', { prompt: 'task baseline', uri });
    const baseline = await settled(connection, baselineId);
    expect(baseline.state).toBe('awaitingApproval');
    expect(baseline.diff).toContain('+exports.add = (a, b) => a + b;');
    expect(baseline.diff).toContain('+exports.greet');

    const recoveries: Record<Moment, number[]> = { planning: [], toolCall: [], tests: [], planApproval: [] };
    for (let round = 0; round < KILLS; round++) {
      const moment = MOMENTS[round % MOMENTS.length];
      const prompt = `task ${round} (${moment})`;
      if (moment === 'planning') hangPlanOnce.add(prompt);
      const { sessionId } = await connection.sendRequest<any>('codeloop/startTask', { prompt, uri, autoApprovePlan: moment !== 'planApproval' });
      const reached = (predicate: (update: any) => boolean) => expect.poll(() => updates(received, sessionId).some(predicate), { timeout: 60_000, interval: 20 }).toBe(true);
      if (moment === 'planning') await expect.poll(() => hangPlanOnce.has(prompt), { timeout: 60_000, interval: 20 }).toBe(false);
      if (moment === 'toolCall') await reached((u) => u.event.type === 'toolCall' && u.event.data.name === 'run_command');
      if (moment === 'tests') await reached((u) => u.state === 'testing');
      if (moment === 'planApproval') await reached((u) => u.state === 'awaitingPlanApproval');
      // Somewhere inside the moment: the tool call and the test run last 2 s, the plan request never ends.
      await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 1500)));
      const before = await connection.sendRequest<any>('codeloop/getSession', { sessionId });
      await kill();
      connection.dispose();

      received = { notifications: [], appliedEdits: [] };
      connection = await attach(received);
      const after = await connection.sendRequest<any>('codeloop/getSession', { sessionId });
      const listed = (await connection.sendRequest<any>('codeloop/listSessions', {})).sessions as { sessionId: string; state: string }[];
      expect(listed.filter((s) => ['planning', 'working', 'testing'].includes(s.state)), `round ${round}: sessions left running`).toEqual([]);
      const started = Date.now();
      if (moment === 'planApproval') {
        expect(after, `round ${round}: the plan still waits, intact`).toMatchObject({ state: 'awaitingPlanApproval', plan: PLAN });
        expect(after.plan).toBe(before.plan);
        await connection.sendRequest('codeloop/approvePlan', { sessionId });
      } else {
        expect(after.state, `round ${round} (${moment}, was ${before.state})`).toBe('interrupted');
        // Every other round goes on from the command line (through the daemon), the rest from the editor.
        if (round % 2) {
          const resumed = runCli(['sessions', 'resume', sessionId], { stateHome: state, env });
          expect(resumed.status, resumed.stderr).toBe(0);
        } else {
          await connection.sendRequest('codeloop/resume', { sessionId });
        }
      }
      const final = await settled(connection, sessionId);
      recoveries[moment].push(Date.now() - started);
      expect(final.state, `round ${round} (${moment}): ${final.error ?? ''}`).toBe('awaitingApproval');
      expect(final.proposal, `round ${round} (${moment}): the uninterrupted proposal`).toEqual(baseline.proposal);
      expect(final.diff).toBe(baseline.diff);
      expect(final.error).toBeNull();
    }
    connection.dispose();
    await kill();
    const figures = MOMENTS.map((moment) => `${moment} ${recoveries[moment].length}× (restart to proposal ${recoveries[moment].map((ms) => `${(ms / 1000).toFixed(1)} s`).join(', ') || '—'})`);
    process.stdout.write(`session crash: ${KILLS} kills, every session resumed to the uninterrupted proposal; ${figures.join('; ')}\n`);
  });
});
