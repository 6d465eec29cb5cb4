import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeModel, type FakeModel, type FakeStep } from '../fake-model/fake-model-server.js';
import { calcProject } from '../helpers/calc-project.js';
import { writeUserConfig } from '../helpers/model-config.js';
import { startLspClient, type TestLspClient } from '../helpers/lsp-client.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const MATH = 'exports.add = (a, b) => a - b;\n';

async function setup(steps: FakeStep[], agent: Record<string, unknown> = {}) {
  const { root, state } = calcProject(cleanups);
  const fake = await startFakeModel(steps);
  cleanups.push(() => fake.close());
  writeUserConfig(state, {
    model: { baseURL: fake.baseURL, model: 'fake', maxRetries: 0, toolCalls: 'native' },
    agent: { autoApprovePlan: true, commandTimeoutSeconds: 30, allowedCommands: ['sleep'], ...agent },
  });
  const env = { ...process.env, OPENAI_API_KEY: 'sk-resume-test', XDG_STATE_HOME: state, XDG_CONFIG_HOME: path.join(state, 'config') };
  const client = await open(root, env);
  return { root, env, fake, client, uri: pathToFileURL(path.join(fs.realpathSync(root), 'src/math.js')).href };
}

async function open(root: string, env: NodeJS.ProcessEnv): Promise<TestLspClient> {
  const client = startLspClient(['--standalone'], env);
  cleanups.push(() => client.close());
  await client.initialize(root, 'resume-test');
  return client;
}

const edit: FakeStep = { kind: 'tools', calls: [{ name: 'propose_edit', arguments: { path: 'src/math.js', blocks: [{ search: 'a - b', replace: 'a + b' }] } }] };
const done: FakeStep = { kind: 'tools', calls: [{ name: 'done', arguments: { summary: 'add adds' } }] };
const at0 = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };

/** Every text the model was sent in its last request, joined (to see what reached it). */
function lastPrompt(fake: FakeModel): string {
  return JSON.stringify(fake.requests.at(-1)!.messages);
}

function waitState(client: TestLspClient, sessionId: string, state: string) {
  return client.waitForNotification('codeloop/sessionUpdate', (p) => p.sessionId === sessionId && p.state === state, 60_000);
}

describe('durable, steerable sessions (LSP)', () => {
  it('pause stops at the next step; the message steered by code action meanwhile and the interruption reach the model when the Resume code action runs', async () => {
    const { client, fake, uri } = await setup([
      { kind: 'text', content: '1. Fix add' },
      // Long enough for the four requests below to land while it runs, on a machine as busy as CI's.
      { kind: 'tools', calls: [{ name: 'run_command', arguments: { command: 'sleep 6' } }] },
      edit, done,
    ]);
    const { sessionId } = await client.connection.sendRequest<any>('codeloop/startTask', { prompt: 'fix add', uri });
    await client.waitForNotification('codeloop/sessionUpdate', (p) => p.sessionId === sessionId && p.event.type === 'toolCall', 60_000);
    // Steered as Helix can (its :lsp-workspace-command passes no message): a codeloop: comment, then the code action.
    await client.connection.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'javascript', version: 1, text: `// codeloop: keep the arrow function\n${MATH}` } });
    const offered = await client.connection.sendRequest<any[]>('textDocument/codeAction', { textDocument: { uri }, range: at0, context: { diagnostics: [] } });
    const steer = offered.find((action) => action.command?.command === 'codeloop.steerSession');
    expect(steer?.title).toBe('codeloop: Steer "fix add" with (keep the arrow function)');
    await client.connection.sendRequest('workspace/executeCommand', steer.command);
    await client.connection.sendRequest('codeloop/pause', { sessionId });
    await waitState(client, sessionId, 'interrupted');
    const requestsWhenPaused = fake.requests.length;

    const actions = await client.connection.sendRequest<any[]>('textDocument/codeAction', { textDocument: { uri }, range: at0, context: { diagnostics: [] } });
    const resume = actions.find((action) => action.command?.command === 'codeloop.resumeSession');
    expect(resume.title).toBe('codeloop: Resume session "fix add"');
    expect(actions.some((action) => action.command?.command === 'codeloop.applyProposal')).toBe(false);
    await client.connection.sendRequest('workspace/executeCommand', resume.command);
    const proposal = await waitState(client, sessionId, 'awaitingApproval');
    expect(proposal.event.data.diff).toContain('+exports.add = (a, b) => a + b;');
    const resumedPrompt = JSON.stringify(fake.requests[requestsWhenPaused].messages);
    expect(resumedPrompt).toContain('keep the arrow function');
    expect(resumedPrompt).toContain('interrupted and has now been resumed');

    const session = await client.connection.sendRequest<any>('codeloop/getSession', { sessionId });
    const texts = session.events.map((event: any) => event.data?.text).filter(Boolean);
    expect(texts).toEqual(expect.arrayContaining(['your message: keep the arrow function', 'paused; resume it to go on', 'resumed from the last completed step']));
  });

  // The tests run long enough (a slow suite) for the message and the pause to land while they do.
  const slowTests = { testCommand: 'sleep 4; node test.js' };
  const whileTesting = (client: TestLspClient, sessionId: string) => waitState(client, sessionId, 'testing');

  it('a message sent while the tests run reaches the model before anything is proposed', async () => {
    const { client, fake, uri } = await setup([{ kind: 'text', content: '1. Fix add' }, edit, done, done], slowTests);
    const { sessionId } = await client.connection.sendRequest<any>('codeloop/startTask', { prompt: 'fix add', uri });
    await whileTesting(client, sessionId);
    await client.connection.sendRequest('codeloop/steer', { sessionId, message: 'mention the fix in the summary' });
    const proposal = await waitState(client, sessionId, 'awaitingApproval');
    expect(proposal.event.data.diff).toContain('+exports.add = (a, b) => a + b;');
    expect(fake.requests).toHaveLength(4);
    expect(lastPrompt(fake)).toContain('mention the fix in the summary');
    const session = await client.connection.sendRequest<any>('codeloop/getSession', { sessionId });
    const texts = session.events.map((event: any) => event.data?.text).filter(Boolean);
    expect(texts).toEqual(expect.arrayContaining(['your message came while the tests ran: back to work']));
  });

  it('a pause sent while the tests run stops the session there; resumed, it ends in the proposal', async () => {
    const { client, fake, uri } = await setup([{ kind: 'text', content: '1. Fix add' }, edit, done, done], slowTests);
    const { sessionId } = await client.connection.sendRequest<any>('codeloop/startTask', { prompt: 'fix add', uri });
    await whileTesting(client, sessionId);
    await client.connection.sendRequest('codeloop/pause', { sessionId });
    await waitState(client, sessionId, 'interrupted');
    expect(fake.requests).toHaveLength(3);
    await client.connection.sendRequest('codeloop/resume', { sessionId });
    const proposal = await waitState(client, sessionId, 'awaitingApproval');
    expect(proposal.event.data.diff).toContain('+exports.add = (a, b) => a + b;');
    expect(lastPrompt(fake)).toContain('interrupted and has now been resumed');
  });

  it('a daemon killed mid-session leaves it interrupted; resumed, it ends in the proposal an uninterrupted run makes', async () => {
    const { root, env, client, fake, uri } = await setup([
      { kind: 'text', content: '1. Fix add' },
      edit,
      { kind: 'hang' },
      done,
    ]);
    const { sessionId } = await client.connection.sendRequest<any>('codeloop/startTask', { prompt: 'fix add', uri });
    await expect.poll(() => fake.requests.length, { timeout: 60_000 }).toBe(3);
    client.child.kill('SIGKILL');

    const restarted = await open(root, env);
    const before = await restarted.connection.sendRequest<any>('codeloop/getSession', { sessionId });
    expect(before.state).toBe('interrupted');
    const requestsBefore = fake.requests.length;
    await restarted.connection.sendRequest('codeloop/resume', { sessionId });
    const proposal = await waitState(restarted, sessionId, 'awaitingApproval');
    // The edit made before the kill is in the rebuilt shadow: the proposal is the one an uninterrupted run gives.
    expect(proposal.event.data.diff).toContain('-exports.add = (a, b) => a - b;\n+exports.add = (a, b) => a + b;');
    expect(JSON.stringify(fake.requests[requestsBefore].messages)).toContain('interrupted and has now been resumed');
    expect(lastPrompt(fake)).toContain('propose_edit'); // the conversation before the kill was resent, not started over
    const again = restarted.connection.sendRequest('codeloop/resume', { sessionId });
    await expect(again).rejects.toThrow(/only an interrupted session can be resumed/);
    const applied = await restarted.connection.sendRequest<any>('codeloop/applyProposal', { sessionId });
    expect(applied).toMatchObject({ applied: true, conflicts: [] });
  });

  it('reject with feedback works after a restart: the session is rebuilt from its checkpoint and goes back to work', async () => {
    const { root, env, client, fake, uri } = await setup([
      { kind: 'text', content: '1. Fix add' },
      edit, done,
      { kind: 'tools', calls: [{ name: 'propose_edit', arguments: { path: 'src/math.js', blocks: [{ search: 'a + b', replace: 'b + a' }] } }] },
      done,
    ]);
    const { sessionId } = await client.connection.sendRequest<any>('codeloop/startTask', { prompt: 'fix add', uri });
    await waitState(client, sessionId, 'awaitingApproval');
    await client.close();

    const restarted = await open(root, env);
    await restarted.connection.sendRequest('codeloop/reject', { sessionId, feedback: 'write it as b + a' });
    const revised = await waitState(restarted, sessionId, 'awaitingApproval');
    expect(revised.event.data.diff).toContain('+exports.add = (a, b) => b + a;');
    expect(JSON.stringify(fake.requests[3].messages)).toContain('write it as b + a');
  });
});
