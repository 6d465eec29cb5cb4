import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { EndpointQuirks } from '../fake-model/endpoint-quirks.js';
import { startFakeModel, type FakeModel, type FakeStep } from '../fake-model/fake-model-server.js';
import { calcProject } from '../helpers/calc-project.js';
import { writeUserConfig } from '../helpers/model-config.js';
import { runCliAsync } from '../helpers/run-cli.js';

/**
 * `codeloop run` and `codeloop doctor` against endpoints that behave like vLLM, llama.cpp, Ollama and LM Studio
 * (the real openai SDK over HTTP; the scripted model imitates each server's quirks).
 */
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const project = () => calcProject(cleanups);

/** Retries as users have them (a loaded machine can lose a kept-alive connection); no scripted step here is retried. */
function writeConfig(state: string, model: Record<string, unknown>): void {
  writeUserConfig(state, { model: { model: 'fake-model', maxRetries: 2, ...model }, agent: { commandTimeoutSeconds: 30 } });
}

async function endpoint(state: string, steps: FakeStep[], quirks: EndpointQuirks = {}, model: Record<string, unknown> = {}): Promise<FakeModel> {
  const fake = await startFakeModel(steps, quirks);
  cleanups.push(() => fake.close());
  writeConfig(state, { baseURL: fake.baseURL, ...model });
  return fake;
}

/** The session that fixes add(): plan, read, edit, done — two calls in one answer to exercise multi-call answers. */
const FIX_ADD: FakeStep[] = [
  { kind: 'text', content: '1. Read src/math.js\n2. Make add add' },
  { kind: 'tools', calls: [{ name: 'read_file', arguments: { path: 'src/math.js' } }, { name: 'list_files', arguments: { path: 'src' } }] },
  { kind: 'tools', calls: [{ name: 'propose_edit', arguments: { path: 'src/math.js', edit: { kind: 'blocks', blocks: [{ search: 'a - b', replace: 'a + b' }] } } }] },
  { kind: 'tools', calls: [{ name: 'done', arguments: { summary: 'add adds' } }] },
];

async function run(root: string, state: string, env: NodeJS.ProcessEnv = {}) {
  const result = await runCliAsync(['run', '--json', '--yes', 'make the test pass'], { cwd: root, stateHome: state, env: { OPENAI_API_KEY: '', OPENAI_BASE_URL: '', ...env } });
  return { ...result, report: result.stdout ? JSON.parse(result.stdout) : undefined };
}

/** The tool results in the last request (the conversation so far). */
function toolResults(fake: FakeModel): string[] {
  return fake.requests.at(-1)!.messages.filter((message) => message.role === 'tool').map((message) => String(message.content));
}

function expectFixed(root: string, report: { state: string; testsPassed: boolean }, stderr: string): void {
  expect(report, stderr).toMatchObject({ state: 'applied', testsPassed: true });
  expect(fs.readFileSync(path.join(root, 'src/math.js'), 'utf8')).toBe('exports.add = (a, b) => a + b;\n');
}

describe('errors show the endpoint\'s own message, whatever its body', () => {
  const cases: { name: string; status: number; body: unknown; shown: string }[] = [
    { name: 'vLLM (fields at the top level)', status: 400, body: { object: 'error', message: 'max_tokens must be at least 1, got -186.', type: 'BadRequestError', param: null, code: 400 }, shown: '(400): "max_tokens must be at least 1, got -186."' },
    { name: 'vLLM unknown model', status: 404, body: { object: 'error', message: 'The model `fake-model` does not exist.', type: 'NotFoundError', param: null, code: 404 }, shown: '(404): "The model `fake-model` does not exist."; check model.model' },
    { name: 'LM Studio (a bare string)', status: 400, body: { error: "'messages' field is required" }, shown: '(400): "\'messages\' field is required"' },
    { name: 'a plain-text proxy page', status: 403, body: 'Forbidden by proxy policy', shown: 'refused the API key from OPENAI_API_KEY (403): "Forbidden by proxy policy"' },
  ];
  it.each(cases)('$name', async ({ status, body, shown }) => {
    const { root, state } = project();
    await endpoint(state, [{ kind: 'http', status, body }]);
    const { report, stderr } = await run(root, state);
    expect(report.state, stderr).toBe('failed');
    expect(report.error).toContain(shown);
    expect(report.error).toMatch(/^the model endpoint http:\/\/127\.0\.0\.1:\d+\/v1 /);
    expect(report.error).not.toContain('no body');
  });
});

describe('HTML pages instead of the API show their words, not their markup', () => {
  const html = (status: number, page: string): FakeStep => ({ kind: 'http', status, body: page, headers: { 'content-type': 'text/html' } });
  it.each([
    {
      name: 'a proxy\'s 502 page (nginx)', status: 502,
      page: '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n</body>\r\n</html>\r\n',
      shown: 'failed (502) after 2 retries: "502 Bad Gateway — nginx/1.18.0"',
    },
    {
      name: 'a 200 web page where the API should be (a web UI at the base URL)', status: 200,
      page: '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Open WebUI</title><script>window.x = "<b>"</script></head><body><div id="app">Loading&#8230; &amp; more</div></body></html>',
      shown: 'sent an answer codeloop cannot use: it answered 200 with a web page, not the API: "Open WebUI — Loading… & more"; is model.baseURL the API\'s address',
    },
  ])('$name', async ({ status, page, shown }) => {
    const { root, state } = project();
    // The SDK retries (model.maxRetries is 2 here): the page answers every time.
    await endpoint(state, [html(status, page), html(status, page), html(status, page)]);
    const { report, stderr } = await run(root, state);
    expect(report.state, stderr).toBe('failed');
    expect(report.error).toContain(shown);
    expect(report.error).not.toMatch(/<\/?(html|title|center|script)|empty stream|no choices/);
  });
});

describe('a 2xx answer that is not the API\'s shows its words', () => {
  const text = (body: string, type = 'text/plain'): FakeStep => ({ kind: 'http', status: 200, body, headers: { 'content-type': type } });
  it.each([
    {
      name: 'a proxy\'s plain text where the stream should be', stream: true,
      step: text('Upstream model unavailable.\n  Retry later.\n'),
      shown: 'it answered 200 with text, not an event stream, not the API: "Upstream model unavailable. Retry later."',
    },
    {
      name: 'a non-streamed answer that is not JSON (a captive portal\'s text)', stream: false,
      step: text('Please sign in to the guest network to continue'),
      shown: 'it answered 200 with a body that is not JSON, not the API: "Please sign in to the guest network to continue"',
    },
    {
      name: 'a non-streamed JSON answer without choices (a server\'s own status object)', stream: false,
      step: { kind: 'http', status: 200, body: { status: 'loading', detail: 'model weights 40% loaded' } } as FakeStep,
      shown: 'returned no choices: "{\\"status\\":\\"loading\\",\\"detail\\":\\"model weights 40% loaded\\"}"',
    },
  ])('$name', async ({ stream, step, shown }) => {
    const { root, state } = project();
    await endpoint(state, [step, step, step], {}, { stream });
    const { report, stderr } = await run(root, state);
    expect(report.state, stderr).toBe('failed');
    expect(report.error).toContain(shown);
    expect(report.error).not.toMatch(/empty stream|Unexpected token|SyntaxError/);
  });
});

describe('tool calls from any endpoint', () => {
  it.each<{ name: string; quirks: EndpointQuirks; reason: RegExp }>([
    { name: 'vLLM without --enable-auto-tool-choice (rejects tools)', quirks: { tools: { reject: 'vllm' } }, reason: /rejects tools: .*--enable-auto-tool-choice/ },
    { name: 'Ollama model without tool support, calls in fenced JSON', quirks: { tools: { reject: 'ollama' }, toolCallsAsText: 'fenced-json' }, reason: /does not support tools/ },
    { name: 'a server that ignores tools, calls in <function=…> tags', quirks: { tools: 'ignore', toolCallsAsText: 'function-tag' }, reason: /ignored the offered tool/ },
    { name: 'a server that passes Mistral [TOOL_CALLS] text through', quirks: { toolCallsAsText: 'mistral' }, reason: /wrote its tool call as text/ },
    { name: 'Llama 3.2+ Python-style calls ([name(key=value)]) passed through', quirks: { toolCallsAsText: 'pythonic' }, reason: /wrote its tool call as text/ },
    { name: 'Gemma\'s ```tool_code blocks passed through', quirks: { toolCallsAsText: 'tool-code' }, reason: /wrote its tool call as text/ },
    { name: 'DeepSeek\'s tool-call tokens passed through (llama.cpp without --jinja)', quirks: { toolCallsAsText: 'deepseek' }, reason: /wrote its tool call as text/ },
  ])('$name: probed once, then the session runs on calls written as text', async ({ quirks, reason }) => {
    const { root, state } = project();
    const fake = await endpoint(state, [...FIX_ADD, ...FIX_ADD], quirks);
    const { report, stderr } = await run(root, state);
    expectFixed(root, report, stderr);
    expect(fake.probes).toHaveLength(1);
    // Prompted mode: no `tools` field, the tools described in the system prompt, results as user messages.
    expect(fake.requests.every((request) => request.tools === undefined)).toBe(true);
    const last = fake.requests.at(-1)!.messages;
    expect(String(last[0].content)).toContain('You can call tools. To call one, write a block like this');
    expect(last.some((message) => message.role === 'tool')).toBe(false);
    const results = last.filter((message) => message.role === 'user').map((message) => String(message.content)).join('\n');
    expect(results).toMatch(/Result of read_file \(call_\w+\):\nsrc\/math\.js \(lines 1-2 of 2\)\n1: exports\.add = \(a, b\) => a - b;/);
    expect(results).toContain('Result of list_files');
    const cache = JSON.parse(fs.readFileSync(path.join(state, 'codeloop', 'endpoints.json'), 'utf8'));
    expect(Object.values(cache)).toEqual([expect.objectContaining({ toolMode: { mode: 'prompted', reason: expect.stringMatching(reason) } })]);

    // The next run against the same endpoint trusts the cache: no second probe.
    fs.writeFileSync(path.join(root, 'src/math.js'), 'exports.add = (a, b) => a - b;\n');
    const second = await run(root, state);
    expectFixed(root, second.report, second.stderr);
    expect(fake.probes).toHaveLength(1);
    expect(fake.remaining()).toBe(0);
  });

  it.each<{ name: string; quirks: EndpointQuirks; stream: boolean }>([
    { name: 'arguments as objects (streamed)', quirks: { argumentsAsObject: true }, stream: true },
    { name: 'arguments as objects (not streamed)', quirks: { argumentsAsObject: true }, stream: false },
    { name: 'two calls sharing one stream index', quirks: { sharedStreamIndex: true }, stream: true },
    { name: 'deltas without an index', quirks: { omitStreamIndex: true }, stream: true },
  ])('$name: the calls run natively', async ({ quirks, stream }) => {
    const { root, state } = project();
    const fake = await endpoint(state, FIX_ADD, quirks, { stream });
    const { report, stderr } = await run(root, state);
    expectFixed(root, report, stderr);
    expect(fake.requests.slice(1).every((request) => Array.isArray(request.tools))).toBe(true);
    const results = toolResults(fake);
    expect(results[0]).toContain('1: exports.add = (a, b) => a - b;'); // read_file ran with its object arguments
    expect(results[1]).toBe('src/math.js'); // list_files, the second call of the same answer, ran too
    expect(results).toHaveLength(3); // read_file, list_files, propose_edit; done ends the session
  });

  it.each(['vllm', 'openai', 'lmstudio'] as const)('an endpoint that rejects stream_options (%s body) is asked again without it', async (provider) => {
    const { root, state } = project();
    await endpoint(state, FIX_ADD, { rejectStreamOptions: provider });
    const { report, stderr } = await run(root, state);
    expectFixed(root, report, stderr);
    expect(report.tokens.prompt).toBeGreaterThan(0); // counted, since the endpoint sends no usage without stream_options
    const cache = JSON.parse(fs.readFileSync(path.join(state, 'codeloop', 'endpoints.json'), 'utf8'));
    expect(Object.values(cache)).toEqual([expect.objectContaining({ streamOptions: false })]);
  });
});

describe('answers whose stream is cut off before it ends (no finish_reason, no [DONE])', () => {
  it('asks again instead of taking the cut text as the answer: the plan is the whole plan', async () => {
    const { root, state } = project();
    // The cut answer used the first step; the retry gets the same plan again.
    const fake = await endpoint(state, [FIX_ADD[0], ...FIX_ADD], { cutStreams: 1 });
    const { report, stderr } = await run(root, state);
    expectFixed(root, report, stderr);
    expect(report.plan).toBe('1. Read src/math.js\n2. Make add add');
    expect(fake.remaining()).toBe(0);
  });

  const ENVOY = 'upstream connect error or disconnect/reset before headers. reset reason: overflow';
  it('shows the words of a proxy that broke the stream off with plain text, and asks again', async () => {
    const { root, state } = project();
    await endpoint(state, [FIX_ADD[0], ...FIX_ADD], { cutStreams: 1, cutWith: ENVOY });
    const { report, stderr } = await run(root, state);
    expectFixed(root, report, stderr);
    expect(report.plan).toBe('1. Read src/math.js\n2. Make add add');
    expect(stderr).not.toContain('Could not parse message into JSON');
    const failed = project();
    await endpoint(failed.state, [FIX_ADD[0], FIX_ADD[0]], { cutStreams: 2, cutWith: ENVOY }, { maxRetries: 1 });
    const second = await run(failed.root, failed.state);
    expect(second.report.error).toMatch(new RegExp(`^the model endpoint http://127\\.0\\.0\\.1:\\d+/v1 broke off its answer after \\d+ characters with a line that is not JSON: "${ENVOY}", and again on each of 1 retries`));
    expect(second.stderr).not.toContain('Could not parse message into JSON');
  });

  it('fails with a message naming the cut when every retry is cut too', async () => {
    const { root, state } = project();
    await endpoint(state, [FIX_ADD[0], FIX_ADD[0]], { cutStreams: 2 }, { maxRetries: 1 });
    const { report, stderr } = await run(root, state);
    expect(report.state, stderr).toBe('failed');
    expect(report.plan).toBeNull();
    expect(report.error).toMatch(/^the model endpoint http:\/\/127\.0\.0\.1:\d+\/v1 cut its answer off after \d+ characters \(the stream ended with no finish_reason\), and again on each of 1 retries \(model\.maxRetries\)/);
  });
});

describe('a plan the endpoint stopped at its output limit', () => {
  it.each([true, false])('is shown as cut, with what to do, before anyone approves it (stream: %s)', async (stream) => {
    const { root, state } = project();
    await endpoint(state, [{ kind: 'text', content: '1. Read src/math.js\n2. Make add', cutAt: 512 }], {}, { stream });
    const result = await runCliAsync(['run', '--json', '--plan-only', 'make the test pass'], { cwd: root, stateHome: state, env: { OPENAI_API_KEY: '', OPENAI_BASE_URL: '' } });
    const report = JSON.parse(result.stdout);
    expect(report.plan).toBe('1. Read src/math.js\n2. Make add\n\n(The plan is cut off here: the model endpoint stopped it at its output limit, after 512 tokens. '
      + 'Send it back asking for a shorter plan, or raise the server\'s output limit: max_tokens, Ollama\'s num_predict, llama.cpp\'s --n-predict.)');
  });

  it('a whole plan carries no such note', async () => {
    const { root, state } = project();
    await endpoint(state, [FIX_ADD[0]]);
    const result = await runCliAsync(['run', '--json', '--plan-only', 'make the test pass'], { cwd: root, stateHome: state, env: { OPENAI_API_KEY: '', OPENAI_BASE_URL: '' } });
    expect(JSON.parse(result.stdout).plan).toBe('1. Read src/math.js\n2. Make add add');
  });
});

describe('the endpoint from OPENAI_BASE_URL, and doctor\'s view of it', () => {
  it('honours OPENAI_BASE_URL when the config sets no model.baseURL, and the config when it does', async () => {
    const { root, state } = project();
    const fake = await startFakeModel(FIX_ADD);
    cleanups.push(() => fake.close());
    writeConfig(state, {});
    const { report, stderr } = await run(root, state, { OPENAI_BASE_URL: fake.baseURL });
    expectFixed(root, report, stderr);
    expect(fake.remaining()).toBe(0);

    const doctor = await runCliAsync(['doctor'], { cwd: root, stateHome: state, env: { OPENAI_API_KEY: '', OPENAI_BASE_URL: fake.baseURL } });
    expect(doctor.stdout).toMatch(new RegExp(`ok +model endpoint +${fake.baseURL.replace(/[./]/g, '\\$&')} \\(from OPENAI_BASE_URL in the environment\\) answers`));
    writeConfig(state, { baseURL: 'http://127.0.0.1:9/v1' });
    const configured = await runCliAsync(['doctor'], { cwd: root, stateHome: state, env: { OPENAI_API_KEY: '', OPENAI_BASE_URL: fake.baseURL } });
    expect(configured.stdout).toMatch(/FAIL model endpoint +http:\/\/127\.0\.0\.1:9\/v1 \(from model\.baseURL in the config\)/);
    expect(configured.stdout).toMatch(/FAIL tool calls +not probed: the endpoint does not answer/);
    writeConfig(state, {});
    const typo = await runCliAsync(['doctor'], { cwd: root, stateHome: state, env: { OPENAI_API_KEY: '', OPENAI_BASE_URL: 'localhost:11434' } });
    expect(typo.stdout).toMatch(/FAIL model endpoint +OPENAI_BASE_URL is not an http\(s\) URL: "localhost:11434"/);
    const refused = await run(root, state, { OPENAI_BASE_URL: 'localhost:11434' });
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain('OPENAI_BASE_URL is not an http(s) URL');
  });

  it.each<{ name: string; quirks: EndpointQuirks; model?: Record<string, unknown>; shown: RegExp }>([
    { name: 'vLLM', quirks: { publishes: { server: 'vllm', maxModelLen: 32768 } }, shown: /32768 tokens, from the endpoint's model list \(max_model_len of fake-model\)/ },
    { name: 'llama.cpp', quirks: { publishes: { server: 'llamacpp', nCtx: 16384 } }, shown: /16384 tokens, from llama\.cpp server \/props \(n_ctx\)/ },
    { name: 'Ollama, model loaded', quirks: { publishes: { server: 'ollama', loadedContextLength: 65536, trainedContextLength: 131072 } }, shown: /65536 tokens, from Ollama \/api\/ps/ },
    { name: 'Ollama, num_ctx in the Modelfile', quirks: { publishes: { server: 'ollama', numCtx: 12288, trainedContextLength: 131072 } }, shown: /12288 tokens, from Ollama \/api\/show \(num_ctx/ },
    { name: 'Ollama, defaults', quirks: { publishes: { server: 'ollama', trainedContextLength: 131072 } }, shown: /4096 tokens, from Ollama's default num_ctx; the model supports 131072 — raise it with OLLAMA_CONTEXT_LENGTH=32768/ },
    { name: 'LM Studio, loaded', quirks: { publishes: { server: 'lmstudio', maxContextLength: 131072, loadedContextLength: 20000 } }, shown: /20000 tokens, from LM Studio \/api\/v0\/models \(loaded_context_length\)/ },
    { name: 'the config', quirks: { publishes: { server: 'vllm', maxModelLen: 32768 } }, model: { contextWindow: 24000 }, shown: /24000 tokens, from model\.contextWindow in the config/ },
    { name: 'nothing published', quirks: {}, shown: /8192 tokens, from the default \(the endpoint publishes no window; set model\.contextWindow\)/ },
  ])('doctor prints the context window and where it came from: $name', async ({ quirks, model, shown }) => {
    const { root, state } = project();
    await endpoint(state, [], quirks, model);
    const doctor = await runCliAsync(['doctor'], { cwd: root, stateHome: state, env: { OPENAI_API_KEY: '', OPENAI_BASE_URL: '' } });
    expect(doctor.stdout).toMatch(new RegExp(`ok +context window +${shown.source}`));
    expect(doctor.stdout).toMatch(/ok +tool calls +native \(probed: the model answered a probe with a tool call\)/);
  });

  it('doctor says when tools are prompted, and why', async () => {
    const { root, state } = project();
    await endpoint(state, [], { tools: { reject: 'llamacpp' } });
    const doctor = await runCliAsync(['doctor', '--json'], { cwd: root, stateHome: state, env: { OPENAI_API_KEY: '', OPENAI_BASE_URL: '' } });
    const tools = JSON.parse(doctor.stdout).checks.find((check: { name: string }) => check.name === 'tool calls');
    expect(tools).toEqual({ name: 'tool calls', ok: true, detail: 'prompted: tools are described in the prompt and calls read from the text (probed: the endpoint rejects tools: "tools param requires --jinja flag")' });
  });
});

describe('what the session makes of it', () => {
  it('sends a miswritten text call back as its correction', async () => {
    const { root, state } = project();
    const fake = await endpoint(state, [
      FIX_ADD[0],
      { kind: 'text', content: '<tool_call>{"name": "read_file", "arguments": {"file": "src/math.js"}}</tool_call>' },
      ...FIX_ADD.slice(1),
    ]);
    const result = await runCliAsync(['run', '--yes', 'make the test pass'], { cwd: root, stateHome: state, env: { OPENAI_API_KEY: '', OPENAI_BASE_URL: '' } });
    expect(result.status, result.stderr).toBe(0);
    expect(fs.readFileSync(path.join(root, 'src/math.js'), 'utf8')).toBe('exports.add = (a, b) => a + b;\n');
    const correction = fake.requests[2].messages.at(-1)!;
    expect(correction.role).toBe('user');
    expect(String(correction.content)).toMatch(/^Your <tool_call> call of read_file was not run: its arguments do not fit the tool \(path: /);
  });

  it('runs the calls of an answer that fit, and corrects the others beside their results: miswritten, or cut off at the output cap', async () => {
    const { root, state } = project();
    const fake = await endpoint(state, [
      FIX_ADD[0],
      { kind: 'text', content: '<tool_call>{"name": "list_files", "arguments": {"path": "src"}}</tool_call>\n<tool_call>{"name": "read_file", "arguments": {"file": "src/math.js"}}</tool_call>' },
      { kind: 'tools', cutAt: 4096, calls: [{ name: 'read_file', arguments: { path: 'src/math.js' } }, { name: 'propose_edit', arguments: '{"path": "src/math.js", "edit": {"kind": "content", "content": "exports.add' }] },
      ...FIX_ADD.slice(2),
    ], {}, { toolCalls: 'native' });
    const result = await runCliAsync(['run', '--yes', 'make the test pass'], { cwd: root, stateHome: state, env: { OPENAI_API_KEY: '', OPENAI_BASE_URL: '' } });
    expect(result.status, result.stderr).toBe(0);
    expect(fs.readFileSync(path.join(root, 'src/math.js'), 'utf8')).toBe('exports.add = (a, b) => a + b;\n');
    const after = (request: number) => fake.requests[request].messages.slice(-2).map((message) => [message.role, String(message.content)]);
    expect(after(2)).toEqual([['tool', 'src/math.js'], ['user', expect.stringMatching(/^Your <tool_call> call of read_file was not run: its arguments do not fit the tool \(path: /)]]);
    expect(after(3)).toEqual([['tool', expect.stringContaining('1: exports.add = (a, b) => a - b;')], ['user', expect.stringMatching(/^Your answer was cut off after 4096 tokens \(the endpoint's output limit, finish_reason "length"\) in the middle of your call of propose_edit, so it was not run/)]]);
  });

  it('shows a prompt the endpoint cut (Ollama\'s silent truncation) as a warning with the fix, and then works within that window', async () => {
    const { root, state } = project();
    await endpoint(state, [FIX_ADD[0], ...FIX_ADD.slice(1)], { truncatePromptAt: 500 });
    const result = await runCliAsync(['run', '--yes', 'make the test pass'], { cwd: root, stateHome: state, env: { OPENAI_API_KEY: '', OPENAI_BASE_URL: '' } });
    expect(result.stderr).toMatch(/· the endpoint cut a prompt of about \d+ tokens to 500 \(its context window\): raise it \(Ollama: OLLAMA_CONTEXT_LENGTH=32768, or num_ctx/);
    // 500 tokens cannot hold the tools and the task: the session says so instead of working on a cut prompt.
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("does not fit the model's context window of 500 tokens");
    expect(result.stderr).toContain('set model.contextWindow');
  });
});

describe('long sessions', () => {
  it('print no MaxListenersExceededWarning (one abort signal, many requests and commands)', async () => {
    const { root, state } = project();
    const busy: FakeStep[] = Array.from({ length: 14 }, (_, i) => ({ kind: 'tools' as const, calls: [i % 2 ? { name: 'run_tests', arguments: {} } : { name: 'list_files', arguments: {} }] }));
    await endpoint(state, [FIX_ADD[0], ...busy, ...FIX_ADD.slice(2)]);
    const { report, stderr } = await run(root, state);
    expectFixed(root, report, stderr);
    expect(stderr).not.toContain('MaxListenersExceededWarning');
  });
});
