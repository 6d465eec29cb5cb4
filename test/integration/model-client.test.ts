import { getEventListeners } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ModelConfigSchema } from '../../protocol/config.js';
import { EndpointCache } from '../../server/model/endpoint-cache.js';
import { ModelClient } from '../../server/model/model-client.js';
import { ModelError } from '../../server/model/model-errors.js';
import { toolSpecifications } from '../../server/tools/agent-tools.js';
import { PROVIDER_ERRORS, type EndpointQuirks, type Provider } from '../fake-model/endpoint-quirks.js';
import { startFakeModel, type FakeStep } from '../fake-model/fake-model-server.js';
import { makeStateHome, removeTree } from '../helpers/fixture-tree.js';

/** The model client against the scripted endpoint over HTTP (the real openai SDK), as the agent uses it. */
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function client(steps: FakeStep[], quirks: EndpointQuirks = {}, model: Record<string, unknown> = {}) {
  const fake = await startFakeModel(steps, quirks);
  const state = makeStateHome();
  cleanups.push(() => fake.close(), () => removeTree(state));
  const env = { XDG_STATE_HOME: state, OPENAI_API_KEY: '' };
  // One retry, as a loaded machine can lose a kept-alive connection; steps that must not be retried say maxRetries: 0.
  const config = ModelConfigSchema.parse({ baseURL: fake.baseURL, model: 'fake-model', maxRetries: 1, ...model });
  return { fake, state, env, config, model: new ModelClient(config, env) };
}

const tools = toolSpecifications();
const question = (text: string) => [{ role: 'user' as const, content: text }];
/** About 5,000 tokens of code. */
const bigFile = 'export function add(a: number, b: number): number {\n  return a + b;\n}\n'.repeat(300);

async function failure(promise: Promise<unknown>): Promise<ModelError> {
  const error = await promise.then(() => undefined, (thrown: unknown) => thrown);
  expect(error).toBeInstanceOf(ModelError);
  return error as ModelError;
}

describe('ModelClient.complete throws ModelError for every endpoint failure', () => {
  it.each(Object.keys(PROVIDER_ERRORS) as Provider[])('%s context overflow → contextOverflow with the endpoint\'s words', async (provider) => {
    const { status, body } = PROVIDER_ERRORS[provider].contextOverflow;
    const { model } = await client([{ kind: 'http', status, body }]);
    const error = await failure(model.complete(question('hi'), []));
    expect(error.kind).toBe('contextOverflow');
    expect(error.status).toBe(status);
    expect(error.message).toContain(`the prompt does not fit the context window of fake-model at ${model.baseURL}`);
    expect(error.message).toContain(JSON.stringify(error.endpointMessage));
    expect(error.endpointMessage.length).toBeGreaterThan(20);
  });

  it.each(['lmstudio', 'vllm'] as const)('%s overflow inside a 200 stream → contextOverflow', async (provider) => {
    const { model } = await client([], { overflowInStream: provider });
    const error = await failure(model.complete(question('hi'), []));
    expect(error).toMatchObject({ kind: 'contextOverflow', status: undefined, details: { contextTokens: 8192 } });
    expect(error.endpointMessage).toMatch(provider === 'lmstudio' ? /^Trying to keep the first 9013 tokens when context the overflows/ : /^This model's maximum context length is 8192 tokens/);
  });

  it('does not retry a 5xx that retrying cannot cure (llama.cpp\'s older overflow), but does retry a plain 500', async () => {
    const overflow = { kind: 'http' as const, status: 500, body: { error: { code: 500, message: 'the request exceeds the available context size, try increasing the context size or enable context shift', type: 'server_error' } } };
    const once = await client([overflow, overflow, overflow], {}, { maxRetries: 2 });
    expect(await failure(once.model.complete(question('hi'), []))).toMatchObject({ kind: 'contextOverflow', status: 500 });
    expect(once.fake.requests).toHaveLength(1);
    const crash = { kind: 'http' as const, status: 500, headers: { 'retry-after': '0' }, body: { error: { message: 'CUDA error: out of memory' } } };
    const retried = await client([crash, crash, crash], {}, { maxRetries: 2 });
    expect(await failure(retried.model.complete(question('hi'), []))).toMatchObject({ kind: 'server', message: expect.stringContaining('failed (500) after 2 retries: "CUDA error: out of memory"') });
    expect(retried.fake.requests).toHaveLength(3);
  });

  it('learns the window an overflow error reveals (llama.cpp n_ctx)', async () => {
    const { status, body } = PROVIDER_ERRORS.llamacpp.contextOverflow;
    const { model, config, env } = await client([{ kind: 'http', status, body }]);
    expect(await model.contextWindow()).toMatchObject({ tokens: 8192, source: expect.stringMatching(/^the default/) });
    const error = await failure(model.complete(question('hi'), []));
    expect(error.details).toEqual({ promptTokens: 9013, contextTokens: 8192 });
    expect(await model.contextWindow()).toEqual({ tokens: 8192, source: 'the endpoint, in a context-overflow error' });
    expect(await new ModelClient(config, env).contextWindow()).toEqual({ tokens: 8192, source: 'the endpoint, in a context-overflow error' });
  });

  it('unsupported tools (forced native), unreachable, timeout and malformed answers', async () => {
    const noTools = await client([], { tools: { reject: 'ollama' } }, { toolCalls: 'native' });
    const rejected = await failure(noTools.model.complete(question('hi'), tools));
    expect(rejected).toMatchObject({ kind: 'unsupportedTools', status: 400, endpointMessage: 'registry.ollama.ai/library/gemma3:4b does not support tools' });
    expect(rejected.message).toContain('set model.toolCalls to "prompted"');

    const unreachable = new ModelClient(ModelConfigSchema.parse({ baseURL: 'http://127.0.0.1:9/v1', maxRetries: 0 }), { XDG_STATE_HOME: noTools.state });
    expect(await failure(unreachable.complete(question('hi'), []))).toMatchObject({ kind: 'unreachable', message: expect.stringContaining('cannot reach the model endpoint http://127.0.0.1:9/v1') });

    const slow = await client([{ kind: 'hang' }], {}, { timeoutSeconds: 1, maxRetries: 0 });
    expect(await failure(slow.model.complete(question('hi'), []))).toMatchObject({ kind: 'timeout', message: expect.stringContaining('did not answer within 1s (model.timeoutSeconds)') });

    const empty = await client([{ kind: 'http', status: 200, body: { id: 'x', object: 'chat.completion', choices: [] } }], {}, { stream: false });
    expect(await failure(empty.model.complete(question('hi'), []))).toMatchObject({ kind: 'malformedAnswer' });
  });

  it('an endpoint that starts rejecting tools is switched to the prompted format, and the cache says so', async () => {
    const { config, env, fake } = await client([{ kind: 'tools', calls: [{ name: 'list_files', arguments: {} }] }], { tools: { reject: 'vllm' } });
    new EndpointCache(env).update(config.baseURL!, config.model, { toolMode: { mode: 'native', reason: 'probed last week' } });
    const fresh = new ModelClient(config, env);
    expect(await fresh.toolMode()).toEqual({ mode: 'native', reason: 'probed last week', source: 'cache' });
    const reply = await fresh.complete(question('list the files'), tools);
    expect(reply.message.tool_calls?.map((call) => call.type === 'function' && call.function.name)).toEqual(['list_files']);
    expect(fake.requests.at(-1)!.tools).toBeUndefined();
    expect(new EndpointCache(env).get(config.baseURL!, config.model).toolMode).toEqual({ mode: 'prompted', reason: expect.stringContaining('--enable-auto-tool-choice') });
  });
});

describe('tool calls written in the answer\'s text', () => {
  it('become tool_calls when they fit, and a specific correction when they do not', async () => {
    const { model } = await client([
      { kind: 'text', content: 'Reading it now.\n<tool_call>\n{"name": "read_file", "arguments": {"path": "src/math.js"}}\n</tool_call>' },
      { kind: 'text', content: '<tool_call>{"name": "read_file", "arguments": {"file": "src/math.js"}}</tool_call>' },
    ], {}, { toolCalls: 'native' });
    const fits = await model.complete(question('read src/math.js'), tools);
    expect(fits.message.content).toBe('Reading it now.');
    expect(fits.message.tool_calls).toEqual([{ id: expect.stringMatching(/^call_/), type: 'function', function: { name: 'read_file', arguments: '{"path":"src/math.js"}' } }]);
    expect(fits.toolCallProblems).toEqual([]);
    const wrong = await model.complete(question('read src/math.js'), tools);
    expect(wrong.message.tool_calls).toBeUndefined();
    expect(wrong.toolCallProblems).toEqual([expect.stringMatching(/^Your <tool_call> call of read_file was not run: its arguments do not fit the tool \(path: /)]);
  });
});

describe('answers the endpoint cut off (finish_reason "length")', () => {
  it.each([true, false])('at the window\'s end: a context overflow, and the window it revealed is learnt (stream: %s)', async (stream) => {
    const { model } = await client([{ kind: 'text', content: 'I will now', cutAt: 12 }], {}, { stream });
    const error = await failure(model.complete(question('hi'), tools));
    expect(error).toMatchObject({ kind: 'contextOverflow', endpointMessage: 'finish_reason "length" after 12 answer tokens' });
    expect(error.message).toMatch(/^fake-model at http:\/\/127\.0\.0\.1:\d+\/v1 stopped its answer when the context window was full \(\d+ prompt \+ 12 answer tokens/);
    expect(await model.contextWindow()).toEqual({ tokens: error.details.contextTokens, source: 'the endpoint, which cut an answer off where its window ended' });
  });

  it('at an output cap: the call cut mid-arguments is not run, and the model is told why', async () => {
    const { model } = await client([{
      kind: 'tools', cutAt: 4096,
      calls: [{ name: 'read_file', arguments: { path: 'src/a.js' } }, { name: 'propose_edit', arguments: '{"path": "src/a.js", "edit": {"kind": "content", "content": "function a() {' }],
    }], {}, { toolCalls: 'native' });
    const reply = await model.complete(question('rewrite a.js'), tools);
    expect(reply.message.tool_calls?.map((call) => call.type === 'function' && call.function.name)).toEqual(['read_file']);
    expect(reply.toolCallProblems).toEqual(['Your answer was cut off after 4096 tokens (the endpoint\'s output limit, finish_reason "length") in the middle of your call of propose_edit, so it was not run. Send smaller steps: edit with search/replace blocks instead of whole files, and split large edits into several calls.']);
  });
});

describe('tokens and the window in use', () => {
  it('warns when the endpoint silently cuts the prompt (Ollama num_ctx), naming how to raise it', async () => {
    const { model } = await client([{ kind: 'text', content: 'ok' }, { kind: 'text', content: 'ok' }], { truncatePromptAt: 2048 });
    const small = await model.complete(question('hi'), []);
    expect(small.warnings).toEqual([]);
    const cut = await model.complete(question(bigFile), []);
    expect(cut.promptTokens).toBe(2048);
    expect(cut.warnings).toHaveLength(1);
    expect(cut.warnings[0]).toMatch(/^the endpoint cut a prompt of about \d{4} tokens to 2048 \(its context window\): raise it \(Ollama: OLLAMA_CONTEXT_LENGTH=32768, or num_ctx in a Modelfile\) and set model.contextWindow/);
    expect(cut.warnings[0].indexOf('num_ctx')).toBeLessThan(200); // what to do fits the one-line progress view
    expect(await model.contextWindow()).toEqual({ tokens: 2048, source: expect.stringContaining("cut a prompt of about") });
  });

  it('does not mistake a count of newly processed tokens (cached_tokens beside it) for a cut prompt', async () => {
    const answer = (promptTokens: number, cached: number) => ({ kind: 'http' as const, status: 200, body: {
      id: 'c', object: 'chat.completion', created: 0, model: 'fake-model', choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: promptTokens, completion_tokens: 1, total_tokens: promptTokens + 1, prompt_tokens_details: { cached_tokens: cached } },
    } });
    const { model } = await client([answer(300, 4700)], {}, { stream: false });
    const reply = await model.complete(question(bigFile), []);
    expect(reply.warnings).toEqual([]);
    expect(reply.promptTokens).toBe(5000);
  });

  it('calibrates the token counter by the usage the endpoint reports', async () => {
    const { model } = await client([{ kind: 'text', content: 'ok' }]);
    const messages = question(bigFile);
    const before = await model.tokens.count(messages);
    const reply = await model.complete(messages, []);
    expect(reply.warnings).toEqual([]);
    const after = await model.tokens.count(messages);
    // The scripted endpoint counts about four characters a token: the estimate moves towards its count.
    expect(Math.abs(after - reply.promptTokens)).toBeLessThan(Math.abs(before - reply.promptTokens));
  });

  it('leaves no abort listener on the session\'s signal after many requests', async () => {
    const { model } = await client(Array.from({ length: 15 }, () => ({ kind: 'text' as const, content: 'ok' })));
    const session = new AbortController();
    for (let i = 0; i < 15; i++) await model.complete(question(`turn ${i}`), [], session.signal);
    expect(getEventListeners(session.signal, 'abort')).toHaveLength(0);
  });

  it('model.toolCalls "prompted" skips the probe and never sends tools', async () => {
    const { model, fake } = await client([{ kind: 'text', content: '<tool_call>{"name": "list_files", "arguments": {}}</tool_call>' }], {}, { toolCalls: 'prompted' });
    expect(await model.toolMode()).toEqual({ mode: 'prompted', reason: 'model.toolCalls is "prompted"', source: 'config' });
    const reply = await model.complete(question('list the files'), tools);
    expect(reply.message.tool_calls?.map((call) => call.type === 'function' && call.function.name)).toEqual(['list_files']);
    expect(fake.probes).toEqual([]);
    expect(fake.requests[0].tools).toBeUndefined();
    expect(String(fake.requests[0].messages[0].content)).toContain('You can call tools.');
  });

  it('the cache file is keyed by endpoint and model', async () => {
    const { model, state } = await client([], { publishes: { server: 'vllm', maxModelLen: 40000 } });
    expect(await model.contextWindow()).toEqual({ tokens: 40000, source: "the endpoint's model list (max_model_len of fake-model)" });
    const cache = JSON.parse(fs.readFileSync(path.join(state, 'codeloop', 'endpoints.json'), 'utf8'));
    expect(Object.keys(cache)).toEqual([`${model.baseURL} fake-model`]);
  });
});
