import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SUMMARY_REQUEST } from '../../server/agent/prompts.js';
import type { ContextWindowOptions } from '../fake-model/context-window.js';
import { promptTokens } from '../fake-model/endpoint-quirks.js';
import { startFakeModel, type FakeModel, type FakeStep } from '../fake-model/fake-model-server.js';
import { makeStateHome, makeTree, removeTree } from '../helpers/fixture-tree.js';
import { runCliAsync } from '../helpers/run-cli.js';

/**
 * The context policy through `codeloop run`, against the scripted model with a real context window: output capped
 * at the source, old results elided, state-anchored compaction, overflow recovery, and early ends that keep the
 * work as a proposal.
 */
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

type Message = { role: string; content?: unknown };
type Step = FakeStep | ((messages: Message[]) => FakeStep);

const SUMMARY = 'Findings: total() is in src/total.js and now adds; the modules are numeric helpers.';

/** A module of about `lines` × 50 characters. */
const module = (name: string, lines: number) => `${Array.from({ length: lines }, (_, i) => `function ${name}_${i}(value) { return value * ${i} + 1; }`).join('\n')}\n`;

/** A project whose test fails until total() adds; `extra` files are added to it. */
function project(extra: Record<string, string> = {}): { root: string; state: string } {
  const root = makeTree({
    'package.json': JSON.stringify({ name: 'books', scripts: { test: 'node test.js' } }),
    'src/total.js': 'exports.total = (a, b) => a - b;\n',
    'test.js': "const { total } = require('./src/total');\nif (total(2, 3) !== 5) { console.error('total(2, 3) should be 5'); process.exit(1); }\nconsole.log('ok');\n",
    ...extra,
  }, { git: true });
  const state = makeStateHome();
  cleanups.push(() => removeTree(root, state));
  return { root, state };
}

/** The scripted model: the steps in order; the summary request before a compaction is answered apart. */
async function model(steps: Step[], state: string, options: { window?: ContextWindowOptions; contextWindow?: number; agent?: Record<string, unknown>; maxRetries?: number } = {}): Promise<FakeModel> {
  const queue = [...steps];
  const fake = await startFakeModel((messages) => {
    const last = messages.at(-1);
    if (last?.role === 'user' && last.content === SUMMARY_REQUEST) return { kind: 'text', content: SUMMARY };
    const next = queue.shift();
    return typeof next === 'function' ? next(messages) : next;
  }, {}, options.window);
  cleanups.push(() => fake.close());
  fs.mkdirSync(path.join(state, 'config', 'codeloop'), { recursive: true });
  fs.writeFileSync(path.join(state, 'config', 'codeloop', 'config.json'), JSON.stringify({
    model: { baseURL: fake.baseURL, model: 'fake-model', maxRetries: options.maxRetries ?? 0, contextWindow: options.contextWindow ?? options.window?.tokens ?? 8192 },
    agent: { commandTimeoutSeconds: 60, maxTurns: 80, ...options.agent },
  }));
  return fake;
}

const run = (root: string, state: string, args: string[] = ['--json', '--yes']) => runCliAsync(['run', ...args, 'make total add'], { cwd: root, stateHome: state, env: { OPENAI_API_KEY: 'sk-test' } });
const call = (name: string, args: unknown): FakeStep => ({ kind: 'tools', calls: [{ name, arguments: args }] });
const fixTotal = call('propose_edit', { path: 'src/total.js', blocks: [{ search: 'a - b', replace: 'a + b' }] });
const done = call('done', { summary: 'total adds' });
const plan: FakeStep = { kind: 'text', content: '1. Look around\n2. Fix total\n3. Finish' };
const text = (message: Message) => String(message.content ?? '');
/** The tool results the model saw in a request. */
const toolResults = (request: FakeModel['requests'][number]) => request.messages.filter((m) => m.role === 'tool').map(text);
const sizes = (fake: FakeModel) => fake.requests.map((request) => promptTokens({ messages: request.messages, tools: request.tools }, {}));

describe('context policy through codeloop run (scripted model with a context window)', () => {
  it('caps tool output at the source: a test run shows failures, head and tail; a big read says how to read on; read_output brings back the rest', async () => {
    const { root, state } = project({
      // The failure in the middle of the run, on stdout: stdout and stderr interleave as the pipes are read, so a
      // failure on stderr lands a varying number of lines into stdout (CI saw it 300 lines early).
      'test.js': "const { total } = require('./src/total');\nconst ok = total(2, 3) === 5;\n"
        + "for (let i = 0; i < 600; i++) { console.log(`ok ${i} passes`); if (i === 299 && !ok) console.log('FAIL total(2, 3) should be 5'); }\n"
        // exitCode, not exit(): piped output is written asynchronously and exit() would cut it.
        + "if (!ok) process.exitCode = 1; else console.log('all passed');\n",
      'src/big.js': module('big', 2000),
      ...Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`src/generated/report-part-${String(i).padStart(3, '0')}.js`, ''])),
    });
    const outputId = (messages: Message[]) => /read_output \{"id":"([^"]+)"\}/.exec(text(messages.at(-1)!))![1];
    const fake = await model([
      plan,
      call('run_tests', {}),
      (messages) => call('read_output', { id: outputId(messages), startLine: 300, endLine: 302 }),
      call('read_file', { path: 'src/big.js' }),
      call('list_files', { path: 'src/generated' }),
      fixTotal, done,
    ], state);
    const result = await run(root, state);
    expect(result.status, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ state: 'applied', testsPassed: true });

    const testRun = toolResults(fake.requests[2]).at(-1)!;
    expect(testRun).toMatch(/^exit code 1\n/);
    expect(testRun).toContain('ok 0 passes'); // head
    expect(testRun).toMatch(/ok 298 passes\nok 299 passes\nFAIL total\(2, 3\) should be 5\nok 300 passes\nok 301 passes\n/); // the failure, in context
    for (const cut of ['ok 100 passes', 'ok 296 passes', 'ok 303 passes', 'ok 500 passes']) expect(testRun).not.toContain(cut);
    expect(testRun).toMatch(/\[shortened from \d+ lines; the full output: read_output \{"id":"call_\d+"\}\]$/);
    expect(testRun.length).toBeLessThan(0.15 * 8192 * 4 + 200);

    const slice = toolResults(fake.requests[3]).at(-1)!;
    expect(slice).toMatch(/^output of call_\d+ \(lines 300-302 of \d+\)\n300: .+\n301: .+\n302: .+$/);
    expect(slice).toMatch(/30\d: ok 2\d\d passes/);

    const read = toolResults(fake.requests[4]).at(-1)!;
    const last = Number(/^src\/big\.js \(lines 1-(\d+) of 2001\)/.exec(read)![1]);
    expect(last).toBeLessThan(400);
    expect(read).toContain(`[shortened: lines ${last + 1}-2001 not shown; read them with read_file {"path":"src/big.js","startLine":${last + 1}}]`);

    // Any other tool's long output (300 file names) is cut to head and tail, the whole kept for read_output.
    const listing = toolResults(fake.requests[5]).at(-1)!;
    expect(listing).toMatch(/^src\/generated\/report-part-000\.js\n/);
    expect(listing).toContain('src/generated/report-part-299.js\n[shortened from 300 lines; the full output: read_output {"id":"call_');
    expect(listing).toMatch(/characters cut/);
    expect(listing).not.toContain('report-part-150.js');
  });

  it('elides old results, compacts around a model-written summary and the workspace diff, and loses no edit (12k window)', async () => {
    const files = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`src/m${i}.js`, module(`m${i}`, 100)]));
    const { root, state } = project(files);
    const fake = await model([
      plan, fixTotal,
      ...Object.keys(files).map((file) => call('read_file', { path: file })),
      ...Array.from({ length: 40 }, () => call('list_files', { path: 'src' })),
      done,
    ], state, { window: { tokens: 12_288 }, agent: { context: { elideAt: 0.3, compactAt: 0.45 } } });
    const result = await run(root, state, ['--yes']);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/· context compacted \(1, threshold, level \d\): \d+ → \d+ tokens, findings kept as the model's summary/);
    expect(result.stderr).toMatch(/session \w+: applied/);
    // Compaction buys room: it does not repeat on every turn.
    expect(result.stderr.match(/· context compacted/g)!.length).toBeLessThanOrEqual(4);
    expect(fs.readFileSync(path.join(root, 'src/total.js'), 'utf8')).toBe('exports.total = (a, b) => a + b;\n');

    const all = fake.requests.flatMap((request) => toolResults(request));
    expect(all).toContainEqual(expect.stringMatching(/^\[elided to save context: read_file \{"path":"src\/m0\.js"\} → "src\/m0\.js \(lines 1-\d+ of 101\)" \(\d+ lines\); read the file again to see it as it is now\]$/));
    expect(fake.requests.some((request) => text(request.messages.at(-1)!) === SUMMARY_REQUEST)).toBe(true);
    // The latest rebuilt conversation: its anchor carries everything dropped so far.
    const anchors = fake.requests.map((request) => text(request.messages[1])).filter((first) => /\(compaction \d+\)/.test(first));
    const anchor = anchors.at(-1)!;
    expect(anchor).toContain('Task: make total add');
    expect(anchor).toContain('The approved plan:\n1. Look around');
    expect(anchor).toContain(`Summary of the findings so far:\n${SUMMARY}`);
    expect(anchor).toContain('+exports.total = (a, b) => a + b;');
    expect(anchor).toMatch(/- read_file \{"path":"src\/m\d\.js"\} → src\/m\d\.js \(lines 1-\d+ of 101\)/);
    // No request above 80 % of the window (counted as the endpoint counts).
    expect(Math.max(...sizes(fake))).toBeLessThanOrEqual(0.8 * 12_288);
  });

  for (const provider of ['openai', 'vllm', 'llamacpp'] as const) {
    it(`recovers from a context overflow (${provider}'s error body) by compacting and retrying`, async () => {
      const files = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`src/m${i}.js`, module(`m${i}`, 120)]));
      const { root, state } = project(files);
      // The config claims a larger window than the server has: only the server's refusal tells.
      const fake = await model([
        plan, fixTotal, ...Object.keys(files).map((file) => call('read_file', { path: file })), done,
      ], state, { window: { tokens: 7000, provider }, contextWindow: 65_536 });
      const result = await run(root, state, ['--yes']);
      expect(result.status, result.stderr).toBe(0);
      expect(result.stderr).toMatch(/· context overflow: compacting and retrying \(the endpoint said: .+/);
      expect(result.stderr).toMatch(/· context compacted \(1, overflow, level \d\)/);
      expect(result.stderr).toMatch(/session \w+: applied/);
      expect(fs.readFileSync(path.join(root, 'src/total.js'), 'utf8')).toBe('exports.total = (a, b) => a + b;\n');
      const refused = sizes(fake).filter((size) => size > 7000);
      expect(refused.length).toBeGreaterThan(0);
      expect(refused.length).toBeLessThanOrEqual(3);
    });
  }

  it('an answer the endpoint cut off because the window was full (a 200 with finish_reason "length") is not taken as the answer: compacted and asked again', async () => {
    const files = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`src/m${i}.js`, module(`m${i}`, 120)]));
    const { root, state } = project(files);
    // Each answer needs 4500 tokens of room; the window is 7000 (as the config says): prompts over 2500 get cut answers.
    const fake = await model([plan, fixTotal, ...Object.keys(files).map((file) => call('read_file', { path: file })), done], state, { window: { tokens: 7000, answerRoom: 4500 } });
    const result = await run(root, state, ['--yes']);
    expect(result.status, result.stderr).toBe(0);
    expect(sizes(fake).some((size) => size > 2500), JSON.stringify(sizes(fake))).toBe(true);
    expect(result.stderr).toMatch(/· context overflow: compacting and retrying \(the endpoint said: finish_reason "length" after \d+ answer tokens\)/);
    expect(result.stderr).toMatch(/session \w+: applied/);
    expect(fs.readFileSync(path.join(root, 'src/total.js'), 'utf8')).toBe('exports.total = (a, b) => a + b;\n');
    // The cut words never went back to the model as its answer.
    expect(fake.requests.flatMap((request) => request.messages).filter((message) => message.role === 'assistant' && text(message).includes('I will now'))).toEqual([]);
  });

  it('ends with the changes as a proposal, the reason as its caveat, when the endpoint dies, the budget is spent, or overflow cannot be recovered', { timeout: 180_000 }, async () => {
    const { root, state } = project();
    await model([plan, fixTotal, { kind: 'http', status: 503, body: { error: { message: 'the GPU node went away' } } }], state);
    const dead = await run(root, state, ['--json']);
    const deadReport = JSON.parse(dead.stdout);
    expect(deadReport).toMatchObject({ state: 'awaitingApproval', error: expect.stringContaining('the GPU node went away') });
    expect(deadReport.diff).toContain('+exports.total = (a, b) => a + b;');

    await model([plan, fixTotal, call('list_files', {}), call('list_files', {})], state, { agent: { maxTurns: 3 } });
    const spent = await run(root, state, []);
    expect(spent.stdout).toContain('+exports.total = (a, b) => a + b;');
    expect(spent.stderr).toMatch(/session \w+: awaitingApproval \(the session's budget is spent \(3 turns\)\)/);

    const tooLong = { kind: 'http' as const, status: 400, body: { error: { message: "This model's maximum context length is 2048 tokens. However, your messages resulted in 5000 tokens.", type: 'invalid_request_error', param: 'messages', code: 'context_length_exceeded' } } };
    const overflowing = await model([plan, fixTotal, ...Array.from({ length: 12 }, () => tooLong)], state);
    const stuck = await run(root, state, ['--json']);
    const stuckReport = JSON.parse(stuck.stdout);
    expect(stuckReport).toMatchObject({ state: 'awaitingApproval', error: expect.stringMatching(/maximum context length is 2048 tokens|does not fit the model's context window/) });
    expect(stuckReport.diff).toContain('+exports.total = (a, b) => a + b;');
    expect(overflowing.requests.length).toBeLessThanOrEqual(2 + 2 * 5); // each retry (and its summary call) one level harder
    expect(fs.readFileSync(path.join(root, 'src/total.js'), 'utf8')).toBe('exports.total = (a, b) => a - b;\n');
  });
});
