import type http from 'node:http';
import { PROBE_TOOL } from '../../server/model/tool-mode-probe.js';

/**
 * What real OpenAI-compatible servers do differently from OpenAI, for the scripted model to imitate. Each quirk
 * is taken from the servers' code, docs or trackers (see server/model/error-classifier.ts for the bodies).
 */
export interface EndpointQuirks {
  /** A server without tool support: `reject` answers any request carrying `tools` with that provider's 400; `ignore` answers as if no tools were offered. */
  tools?: { reject: Provider } | 'ignore';
  /** Scripted tool calls are written in the answer's text in this style instead of `tool_calls`. */
  toolCallsAsText?: TextStyle;
  /** `arguments` sent as a JSON object, not a string (streamed: the whole object in one delta). */
  argumentsAsObject?: boolean;
  /** Every streamed tool-call delta says `index: 0`; only the ids tell calls apart. */
  sharedStreamIndex?: boolean;
  /** Streamed tool-call deltas carry no `index` at all. */
  omitStreamIndex?: boolean;
  /** Requests with `stream_options` get this provider's 400. */
  rejectStreamOptions?: Provider;
  /** Ollama's OpenAI route: prompts are silently cut to this many tokens, and `usage` reports the cut size. */
  truncatePromptAt?: number;
  /** The window the server publishes on its own discovery route. */
  publishes?: Discovery;
  /**
   * The first this-many streamed answers stop halfway: no finish_reason, no usage, no `[DONE]` (a proxy's read
   * timeout or a crashed server; the client sees a stream that simply ends).
   */
  cutStreams?: number;
  /** The line a cut stream ends with instead of nothing: a proxy's plain-text error (not JSON) as a `data:` line. */
  cutWith?: string;
  /** Streamed answers fail inside a 200 stream with this provider's overflow body as an event (LM Studio answers overflow this way). */
  overflowInStream?: Provider;
}

export type Provider = 'openai' | 'vllm' | 'llamacpp' | 'ollama' | 'lmstudio';
export type TextStyle = 'hermes' | 'function-tag' | 'fenced-json' | 'bare-json' | 'mistral' | 'pythonic' | 'tool-code' | 'deepseek';

/** A JSON value as a Python literal (what models using Python call syntax write). */
function python(value: unknown): string {
  if (value === null) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (Array.isArray(value)) return `[${value.map(python).join(', ')}]`;
  if (typeof value === 'object') return `{${Object.entries(value).map(([key, item]) => `${JSON.stringify(key)}: ${python(item)}`).join(', ')}}`;
  return JSON.stringify(value);
}

/** One call in Python syntax: `name(key=value, …)`. */
function pythonCall(call: Call): string {
  return `${call.function.name}(${Object.entries(JSON.parse(call.function.arguments) as Record<string, unknown>).map(([key, value]) => `${key}=${python(value)}`).join(', ')})`;
}
export type Discovery =
  | { server: 'vllm'; maxModelLen: number }
  | { server: 'llamacpp'; nCtx: number }
  | { server: 'ollama'; numCtx?: number; loadedContextLength?: number; trainedContextLength: number }
  | { server: 'lmstudio'; maxContextLength: number; loadedContextLength?: number };

/** Each provider's error bodies, as their servers send them. */
export const PROVIDER_ERRORS: Record<Provider, Record<'contextOverflow' | 'noTools' | 'unknownField', { status: number; body: unknown }>> = {
  openai: {
    contextOverflow: { status: 400, body: { error: { message: "This model's maximum context length is 8192 tokens. However, your messages resulted in 9013 tokens. Please reduce the length of the messages.", type: 'invalid_request_error', param: 'messages', code: 'context_length_exceeded' } } },
    noTools: { status: 400, body: { error: { message: 'tools is not supported in this model. For a list of supported models, refer to the documentation.', type: 'invalid_request_error', param: 'tools', code: null } } },
    unknownField: { status: 400, body: { error: { message: 'Unrecognized request argument supplied: stream_options', type: 'invalid_request_error', param: '', code: null } } },
  },
  vllm: {
    contextOverflow: { status: 400, body: { object: 'error', message: "This model's maximum context length is 8192 tokens. However, you requested 9013 tokens (9013 in the messages, 0 in the completion). Please reduce the length of the messages or completion.", type: 'BadRequestError', param: null, code: 400 } },
    noTools: { status: 400, body: { object: 'error', message: '"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set', type: 'BadRequestError', param: null, code: 400 } },
    unknownField: { status: 400, body: { object: 'error', message: "[{'type': 'extra_forbidden', 'loc': ('body', 'stream_options'), 'msg': 'Extra inputs are not permitted', 'input': {'include_usage': True}}]", type: 'BadRequestError', param: null, code: 400 } },
  },
  llamacpp: {
    contextOverflow: { status: 400, body: { error: { code: 400, message: 'request (9013 tokens) exceeds the available context size (8192 tokens), try increasing it', type: 'exceed_context_size_error', n_prompt_tokens: 9013, n_ctx: 8192 } } },
    noTools: { status: 500, body: { error: { code: 500, message: 'tools param requires --jinja flag', type: 'server_error' } } },
    unknownField: { status: 400, body: { error: { code: 400, message: 'Unsupported param: stream_options', type: 'invalid_request_error' } } },
  },
  ollama: {
    contextOverflow: { status: 400, body: { error: { message: 'the input length exceeds the context length', type: 'api_error', param: null, code: null } } },
    noTools: { status: 400, body: { error: { message: 'registry.ollama.ai/library/gemma3:4b does not support tools', type: 'api_error', param: null, code: null } } },
    unknownField: { status: 400, body: { error: { message: 'unknown field "stream_options"', type: 'invalid_request_error', param: null, code: null } } },
  },
  lmstudio: {
    contextOverflow: { status: 400, body: { error: 'Trying to keep the first 9013 tokens when context the overflows. However, the model is loaded with context length of only 8192 tokens, which is not enough. Try to load the model with a larger context length, or provide a shorter input' } },
    noTools: { status: 400, body: { error: 'This model does not support tools' } },
    unknownField: { status: 400, body: { error: "Unrecognized key(s) in object: 'stream_options'" } },
  },
};

interface Call {
  id: string;
  function: { name: string; arguments: string };
}

/** Prompt tokens as a server would count them: about four characters a token of what was sent. */
export function promptTokens(parsed: { messages?: unknown; tools?: unknown }, quirks: EndpointQuirks): number {
  const tokens = Math.ceil(JSON.stringify([parsed.messages ?? [], parsed.tools ?? []]).length / 4);
  return quirks.truncatePromptAt ? Math.min(tokens, quirks.truncatePromptAt) : tokens;
}

function json(response: http.ServerResponse, status: number, body: unknown): true {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
  return true;
}

function isProbe(parsed: { tools?: { function?: { name?: string } }[] }): boolean {
  return parsed.tools?.length === 1 && parsed.tools[0].function?.name === PROBE_TOOL.function.name;
}

/**
 * Answers what the quirks decide before the script is consulted: discovery routes, rejected `tools` or
 * `stream_options`, and the tool-mode probe (a model asked to call one trivial tool). Unknown routes get 404, as on
 * a real server. Returns whether it answered; probes are counted in `probes`.
 */
export function answerByQuirk(quirks: EndpointQuirks, request: http.IncomingMessage, parsed: Record<string, any>, response: http.ServerResponse, probes: unknown[]): boolean {
  const url = new URL(request.url ?? '/', 'http://fake');
  const route = `${request.method} ${url.pathname}`;
  const found = quirks.publishes;
  if (route === 'GET /v1/models') {
    const extra = found?.server === 'vllm' ? { max_model_len: found.maxModelLen } : {};
    return json(response, 200, { object: 'list', data: [{ id: 'fake-model', object: 'model', created: 0, owned_by: 'tests', ...extra }] });
  }
  if (route === 'GET /props' && found?.server === 'llamacpp') return json(response, 200, { default_generation_settings: { n_ctx: found.nCtx, params: {} }, total_slots: 1, model_path: 'fake.gguf' });
  if (route === 'GET /api/ps' && found?.server === 'ollama') {
    return json(response, 200, { models: found.loadedContextLength ? [{ name: 'fake-model:latest', model: 'fake-model:latest', context_length: found.loadedContextLength }] : [] });
  }
  if (route === 'POST /api/show' && found?.server === 'ollama') {
    return json(response, 200, {
      parameters: `stop "<|im_end|>"${found.numCtx ? `\nnum_ctx ${found.numCtx}` : ''}`,
      model_info: { 'general.architecture': 'qwen2', 'qwen2.context_length': found.trainedContextLength },
      capabilities: ['completion', 'tools'],
    });
  }
  if (route === 'GET /api/v0/models/fake-model' && found?.server === 'lmstudio') {
    return json(response, 200, {
      id: 'fake-model', object: 'model', type: 'llm', state: found.loadedContextLength ? 'loaded' : 'not-loaded', max_context_length: found.maxContextLength,
      ...(found.loadedContextLength ? { loaded_context_length: found.loadedContextLength } : {}),
    });
  }
  if (route !== 'POST /v1/chat/completions') return json(response, 404, { error: { message: `no route ${route}` } });
  const probe = isProbe(parsed);
  if (probe) probes.push(parsed);
  if (parsed.tools && typeof quirks.tools === 'object') {
    const { status, body } = PROVIDER_ERRORS[quirks.tools.reject].noTools;
    return json(response, status, body);
  }
  if (parsed.stream_options && quirks.rejectStreamOptions) {
    const { status, body } = PROVIDER_ERRORS[quirks.rejectStreamOptions].unknownField;
    return json(response, status, body);
  }
  if (parsed.stream && quirks.overflowInStream) {
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    response.write(`data: ${JSON.stringify({ id: 'chatcmpl-x', object: 'chat.completion.chunk', created: 0, model: 'fake-model', choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] })}\n\n`);
    response.end(`data: ${JSON.stringify(PROVIDER_ERRORS[quirks.overflowInStream].contextOverflow.body)}\n\n`);
    return true;
  }
  if (probe) {
    const usage = { prompt_tokens: promptTokens(parsed, quirks), completion_tokens: 10, total_tokens: 0 };
    const call = { id: 'call_probe', type: 'function', function: { name: PROBE_TOOL.function.name, arguments: quirks.argumentsAsObject ? { status: 'ready' } : '{"status":"ready"}' } };
    const message = quirks.tools === 'ignore'
      ? { role: 'assistant', content: 'ready' }
      : quirks.toolCallsAsText
        ? { role: 'assistant', content: callsAsText(quirks.toolCallsAsText, [call as Call]) }
        : { role: 'assistant', content: null, tool_calls: [call] };
    return json(response, 200, { id: 'chatcmpl-probe', object: 'chat.completion', created: 0, model: 'fake-model', choices: [{ index: 0, message, finish_reason: 'stop' }], usage });
  }
  return false;
}

/** Tool calls written as text, the way models without a server-side parser write them. */
export function callsAsText(style: TextStyle, calls: Call[]): string {
  const object = (call: Call) => ({ name: call.function.name, arguments: JSON.parse(call.function.arguments) });
  switch (style) {
    case 'hermes': return calls.map((call) => `<tool_call>\n${JSON.stringify(object(call))}\n</tool_call>`).join('\n');
    case 'function-tag': return calls.map((call) => `<function=${call.function.name}>${call.function.arguments}</function>`).join('\n');
    case 'fenced-json': return `I will call a tool.\n\`\`\`json\n${JSON.stringify(calls.length === 1 ? object(calls[0]) : calls.map(object))}\n\`\`\``;
    case 'bare-json': return JSON.stringify(calls.length === 1 ? object(calls[0]) : calls.map(object));
    case 'mistral': return `[TOOL_CALLS] ${JSON.stringify(calls.map(object))}`;
    // Llama 3.2+/Llama 4 (vLLM's pythonic parser), Gemma's tool_code block, DeepSeek V3/R1's special tokens.
    case 'pythonic': return `[${calls.map(pythonCall).join(', ')}]`;
    case 'tool-code': return `\`\`\`tool_code\n${calls.map(pythonCall).join('\n')}\n\`\`\``;
    case 'deepseek': return `<｜tool▁calls▁begin｜>${calls.map((call) => `<｜tool▁call▁begin｜>function<｜tool▁sep｜>${call.function.name}\n\`\`\`json\n${call.function.arguments}\n\`\`\`<｜tool▁call▁end｜>`).join('')}<｜tool▁calls▁end｜>`;
  }
}

/**
 * Reshapes a scripted answer the way a quirky server would: calls moved into the text, arguments as objects,
 * prompt tokens counted (and cut) as the server would.
 */
export function shapeCompletion(completion: { choices: { message: { content: string | null; tool_calls?: Call[] }; finish_reason: string }[]; usage: unknown }, parsed: Record<string, unknown>, quirks: EndpointQuirks): void {
  const [choice] = completion.choices;
  const prompt = promptTokens(parsed, quirks);
  const answer = (completion.usage as { completion_tokens: number }).completion_tokens;
  completion.usage = { prompt_tokens: prompt, completion_tokens: answer, total_tokens: prompt + answer };
  const calls = choice.message.tool_calls;
  if (!calls?.length) return;
  if (quirks.toolCallsAsText || quirks.tools === 'ignore' || typeof quirks.tools === 'object') {
    // A server that does not parse tool calls hands the model's text through as it is.
    choice.message.content = [choice.message.content, callsAsText(quirks.toolCallsAsText ?? 'hermes', calls)].filter(Boolean).join('\n');
    delete choice.message.tool_calls;
    choice.finish_reason = 'stop';
  }
}

/** Reshapes streamed tool-call deltas: shared or missing indexes, object arguments in one delta. */
export function shapeChunks(chunks: { choices?: { delta?: { tool_calls?: Record<string, unknown>[] } }[] }[], quirks: EndpointQuirks): unknown[] {
  const result: unknown[] = [];
  const objectArguments = new Map<unknown, string>();
  for (const chunk of chunks) {
    const parts = chunk.choices?.[0]?.delta?.tool_calls;
    if (!parts) {
      result.push(chunk);
      continue;
    }
    for (const part of parts) {
      if (quirks.sharedStreamIndex) part.index = 0;
      if (quirks.omitStreamIndex) delete part.index;
      if (quirks.argumentsAsObject) {
        const fn = part.function as { arguments?: unknown };
        // Gather the halves, then send the whole object once, on the delta that names the call.
        const key = part.id ?? [...objectArguments.keys()].at(-1);
        objectArguments.set(key, (objectArguments.get(key) ?? '') + String(fn.arguments ?? ''));
        delete fn.arguments;
      }
    }
    result.push(chunk);
  }
  if (quirks.argumentsAsObject) {
    for (const chunk of result as { choices?: { delta?: { tool_calls?: Record<string, any>[] } }[] }[]) {
      for (const part of chunk.choices?.[0]?.delta?.tool_calls ?? []) {
        if (part.id && objectArguments.has(part.id)) part.function.arguments = JSON.parse(objectArguments.get(part.id)!);
      }
    }
  }
  return result;
}
