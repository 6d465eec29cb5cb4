import { describe, expect, it } from 'vitest';
import { classifyErrorBody, describeFailure, ErrorBodies, readErrorBody } from '../../server/model/error-classifier.js';
import { ModelError } from '../../server/model/model-errors.js';

/** Bodies as the servers send them (from their code and trackers), plus invented variants. */
const cases: { name: string; status: number | undefined; body: unknown; kind: string; message: RegExp; parameter?: string; promptTokens?: number; contextTokens?: number }[] = [
  {
    name: 'OpenAI context_length_exceeded', status: 400, kind: 'contextOverflow',
    body: { error: { message: "This model's maximum context length is 128000 tokens. However, your messages resulted in 130511 tokens. Please reduce the length of the messages.", type: 'invalid_request_error', param: 'messages', code: 'context_length_exceeded' } },
    message: /maximum context length is 128000/, promptTokens: 130511, contextTokens: 128000,
  },
  {
    name: 'vLLM overflow, fields at the top level', status: 400, kind: 'contextOverflow',
    body: { object: 'error', message: "This model's maximum context length is 16384 tokens. However, you requested 122946 tokens (112946 in the messages, 10000 in the completion). Please reduce the length of the messages or completion.", type: 'BadRequestError', param: null, code: 400 },
    message: /^This model's maximum context length is 16384 tokens/, promptTokens: 122946, contextTokens: 16384,
  },
  {
    name: 'llama.cpp exceed_context_size_error', status: 400, kind: 'contextOverflow',
    body: { error: { code: 400, message: 'request (4476 tokens) exceeds the available context size (4096 tokens), try increasing it', type: 'exceed_context_size_error', n_prompt_tokens: 4476, n_ctx: 4096 } },
    message: /exceeds the available context size/, promptTokens: 4476, contextTokens: 4096,
  },
  {
    name: 'llama.cpp older build: 500 server_error', status: 500, kind: 'contextOverflow',
    body: { error: { code: 500, message: 'the request exceeds the available context size, try increasing the context size or enable context shift', type: 'server_error' } },
    message: /exceeds the available context size/,
  },
  {
    name: 'LM Studio overflow as a bare string inside a 200 stream', status: undefined, kind: 'contextOverflow',
    body: { error: 'Trying to keep the first 15857 tokens when context the overflows. However, the model is loaded with context length of only 4096 tokens, which is not enough. Try to load the model with a larger context length, or provide a shorter input' },
    message: /^Trying to keep the first 15857 tokens/, contextTokens: 4096,
  },
  {
    name: 'TGI validation wording (invented variant)', status: 422, kind: 'contextOverflow',
    body: { error: 'Input validation error: `inputs` tokens + `max_new_tokens` must be <= 4096. Given: 4500 `inputs` tokens and 0 `max_new_tokens`', error_type: 'validation' },
    message: /must be <= 4096/,
  },
  {
    name: 'Ollama model without tools (OpenAI route)', status: 400, kind: 'unsupportedTools',
    body: { error: { message: 'registry.ollama.ai/library/gemma3:4b does not support tools', type: 'api_error', param: null, code: null } },
    message: /gemma3:4b does not support tools/,
  },
  {
    name: 'Ollama model without tools (native route, string error)', status: 400, kind: 'unsupportedTools',
    body: { error: 'registry.ollama.ai/library/qwen:4b does not support tools' }, message: /^registry.ollama.ai\/library\/qwen:4b does not support tools$/,
  },
  {
    name: 'vLLM without --enable-auto-tool-choice', status: 400, kind: 'unsupportedTools',
    body: { object: 'error', message: '"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set', type: 'BadRequestError', param: null, code: 400 },
    message: /requires --enable-auto-tool-choice/,
  },
  {
    name: 'llama.cpp without --jinja (invented wording)', status: 500, kind: 'unsupportedTools',
    body: { error: { code: 500, message: 'tools param requires --jinja flag', type: 'server_error' } }, message: /--jinja/,
  },
  {
    name: 'a server that names the tools param (invented)', status: 400, kind: 'unsupportedTools',
    body: { error: { message: 'Invalid value', param: 'tools', type: 'invalid_request_error' } }, message: /^Invalid value$/,
  },
  {
    name: 'vLLM pydantic extra_forbidden for stream_options', status: 400, kind: 'unsupportedParameter', parameter: 'stream_options',
    body: { object: 'error', message: "[{'type': 'extra_forbidden', 'loc': ('body', 'stream_options'), 'msg': 'Extra inputs are not permitted', 'input': {}}]", type: 'BadRequestError', param: null, code: 400 },
    message: /extra_forbidden/,
  },
  {
    name: 'Azure unrecognized stream_options', status: 400, kind: 'unsupportedParameter', parameter: 'stream_options',
    body: { error: { message: 'Unrecognized request argument supplied: stream_options', type: 'invalid_request_error', param: '', code: null } },
    message: /^Unrecognized request argument supplied: stream_options$/,
  },
  {
    name: 'FastAPI detail list (invented)', status: 422, kind: 'unsupportedParameter', parameter: 'stream_options',
    body: { detail: [{ loc: ['body', 'stream_options'], msg: 'Extra inputs are not permitted', type: 'extra_forbidden' }] },
    message: /^Extra inputs are not permitted \(body.stream_options\)$/,
  },
  {
    name: 'zod-style unrecognized keys (a proxy)', status: 400, kind: 'unsupportedParameter', parameter: 'stream_options',
    body: { error: [{ code: 'unrecognized_keys', keys: ['stream_options'], path: [], message: "Unrecognized key(s) in object: 'stream_options'" }] },
    message: /Unrecognized key\(s\) in object: 'stream_options'/,
  },
  { name: 'OpenAI bad key', status: 401, kind: 'authentication', body: { error: { message: 'Incorrect API key provided: sk-test-****gged.', type: 'invalid_request_error', code: 'invalid_api_key' } }, message: /Incorrect API key/ },
  { name: 'rate limit', status: 429, kind: 'rateLimit', body: { error: { message: 'Rate limit reached for requests', type: 'requests', code: 'rate_limit_exceeded' } }, message: /Rate limit reached/ },
  { name: 'plain-text 502 from a proxy', status: 502, kind: 'server', body: '<html><body>502 Bad Gateway</body></html>', message: /502 Bad Gateway/ },
  { name: 'gateway timeout', status: 504, kind: 'timeout', body: '', message: /^HTTP 504 with no body$/ },
  { name: 'Ollama unknown model', status: 404, kind: 'badRequest', body: { error: { message: 'model "llama9" not found, try pulling it first', type: 'api_error', param: null, code: null } }, message: /model "llama9" not found/ },
  { name: 'vLLM unknown model', status: 404, kind: 'badRequest', body: { object: 'error', message: 'The model `gpt-4o` does not exist.', type: 'NotFoundError', param: null, code: 404 }, message: /^The model `gpt-4o` does not exist.$/ },
  { name: 'JSON with an unknown shape (invented)', status: 400, kind: 'badRequest', body: { status: 'failed', reason_code: 17 }, message: /^\{"status":"failed","reason_code":17\}$/ },
];

describe('classifyErrorBody', () => {
  for (const example of cases) {
    it(`${example.name} → ${example.kind}`, () => {
      for (const body of [example.body, typeof example.body === 'string' ? example.body : JSON.stringify(example.body)]) {
        const result = classifyErrorBody(example.status, body);
        expect(result.kind).toBe(example.kind);
        expect(result.body.message).toMatch(example.message);
        expect(result.parameter).toBe(example.parameter);
        if (example.promptTokens) expect(result.body.promptTokens).toBe(example.promptTokens);
        if (example.contextTokens) expect(result.body.contextTokens).toBe(example.contextTokens);
      }
    });
  }

  it('always has a message, whatever the body', () => {
    expect(readErrorBody(undefined, 400).message).toBe('HTTP 400 with no body');
    expect(readErrorBody('', 500).message).toBe('HTTP 500 with no body');
    expect(readErrorBody({}, undefined).message).toBe('no details');
    expect(readErrorBody({ error: { message: { nested: true } } }).message).toBe('{"error":{"message":{"nested":true}}}');
  });
});

describe('describeFailure', () => {
  const endpoint = { baseURL: 'http://gpu:8000/v1', model: 'qwen', apiKeyEnv: 'VLLM_KEY', timeoutSeconds: 60, maxRetries: 2, apiKey: 'sk-secret-value-123' };
  it('names the endpoint, quotes its words and says what to do', () => {
    const overflow = classifyErrorBody(400, cases[2].body);
    expect(describeFailure('contextOverflow', overflow.body, 400, endpoint)).toMatch(/^the prompt does not fit the context window of qwen at http:\/\/gpu:8000\/v1 \(4476 tokens for a window of 4096\): "request \(4476 tokens\).*Set model.contextWindow.*llama.cpp -c/);
    const missing = classifyErrorBody(404, cases.at(-2)!.body);
    expect(describeFailure('badRequest', missing.body, 404, endpoint)).toBe('the model endpoint http://gpu:8000/v1 refused the request (404): "The model `gpt-4o` does not exist."; check model.model ("qwen") against the models `codeloop doctor` lists');
  });
  it('never repeats the API key, even when the endpoint echoes it', () => {
    const echoed = readErrorBody({ error: { message: 'Incorrect API key provided: sk-secret-value-123' } });
    const message = describeFailure('authentication', echoed, 401, endpoint);
    expect(message).not.toContain('sk-secret-value-123');
    expect(message).toContain('refused the API key from VLLM_KEY (401): "Incorrect API key provided: ***"');
  });
});

describe('2xx answers through ErrorBodies.wrap', () => {
  const answering = (body: string, type: string) => new ErrorBodies().wrap(async () => new Response(body, { status: 200, headers: { 'content-type': type } }));
  const ask = (fetcher: typeof fetch, stream: boolean) => fetcher('http://x/v1/chat/completions', { method: 'POST', body: JSON.stringify({ model: 'm', messages: [], stream }) });
  const SSE = 'data: {"choices":[{"delta":{"content":"hi"}}]}\n\ndata: [DONE]\n\n';

  it('hands streams and JSON on as they came, whatever their content type says', async () => {
    expect(await (await ask(answering(SSE, 'text/event-stream'), true)).text()).toBe(SSE);
    // A proxy that labels the stream text/plain, or JSON as text/plain: still readable, so handed on.
    expect(await (await ask(answering(SSE, 'text/plain; charset=utf-8'), true)).text()).toBe(SSE);
    expect(await (await ask(answering('{"choices":[]}', 'text/plain'), false)).text()).toBe('{"choices":[]}');
    // A streamed request answered with JSON is left for the SDK (it reports the JSON error itself).
    expect(await (await ask(answering('{"error":"x"}', 'application/json'), true)).text()).toBe('{"error":"x"}');
  });

  it.each([
    { body: 'Service   temporarily\nunavailable', type: 'text/plain', stream: true, what: 'text, not an event stream', words: 'Service temporarily unavailable' },
    { body: '', type: 'text/plain', stream: true, what: 'text, not an event stream', words: 'an empty body' },
    { body: 'not json {', type: 'application/json', stream: false, what: 'a body that is not JSON', words: 'not json {' },
    { body: '<html><title>Login</title><body>Sign in</body></html>', type: 'text/html', stream: false, what: 'a web page', words: 'Login — Sign in' },
    { body: `${'x'.repeat(5000)}`, type: 'text/plain', stream: false, what: 'a body that is not JSON', words: 'x'.repeat(300) },
  ])('throws what came and its first words: $what ($type, $words.length characters)', async ({ body, type, stream, what, words }) => {
    const failure = await ask(answering(body, type), stream).then(() => null, (error: unknown) => error);
    expect(failure).toBeInstanceOf(ModelError);
    expect(failure).toMatchObject({ kind: 'malformedAnswer', message: what, endpointMessage: words, status: 200 });
  });
});
