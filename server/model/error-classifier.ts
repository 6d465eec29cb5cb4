import OpenAI from 'openai';
import { ModelError, type ModelErrorKind } from './model-errors.js';
import { lineAligned } from './line-aligned-stream.js';

/**
 * What an endpoint's error body says, whatever its shape. The shapes come from the servers' own code and
 * trackers:
 * - OpenAI (and Ollama's, LM Studio's and llama.cpp's OpenAI routes): `{"error": {"message", "type", "param", "code"}}`,
 *   e.g. `code: "context_length_exceeded"`;
 * - vLLM: the same fields at the top level, `{"object": "error", "message", "type": "BadRequestError", "code": 400}`
 *   (the openai SDK finds no `error` key there and reports "400 status code (no body)");
 * - llama.cpp server: `{"error": {"code": 400, "message": "request (4476 tokens) exceeds the available context size
 *   (4096 tokens)…", "type": "exceed_context_size_error", "n_prompt_tokens": 4476, "n_ctx": 4096}}` (older builds
 *   answer 500 with `type: "server_error"`);
 * - Ollama's native routes and LM Studio: `{"error": "…does not support tools"}`, `{"error": "Trying to keep the
 *   first 15857 tokens when context the overflows…"}` — a bare string, sometimes inside a 200 stream;
 * - FastAPI-style servers: `{"detail": "…"}` or `{"detail": [{"loc", "msg", "type"}]}`;
 * - a proxy's or web server's HTML page (nginx's "502 Bad Gateway", Cloudflare's 524, a web UI at the wrong path):
 *   its title and text, without the markup; anything else: plain text.
 */
export interface ErrorBody {
  /** The endpoint's own words (never empty: falls back to the raw body, then to the status). */
  message: string;
  type?: string;
  code?: string | number;
  param?: string;
  /** Prompt size and window the endpoint reported (llama.cpp fields, or parsed from vLLM/OpenAI wording). */
  promptTokens?: number;
  contextTokens?: number;
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() || undefined;
  if (Array.isArray(value)) {
    // FastAPI/pydantic validation lists: [{loc: ['body', 'stream_options'], msg: 'Extra inputs are not permitted'}]
    const parts = value.map((item) => (isObject(item) ? [text(item.msg) ?? text(item.message), Array.isArray(item.loc) ? `(${item.loc.join('.')})` : ''].filter(Boolean).join(' ') : text(item)));
    return parts.filter(Boolean).join('; ') || undefined;
  }
  if (isObject(value)) return text(value.message) ?? text(value.msg) ?? text(value.detail);
  return undefined;
}

function number(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** Characters of an HTML page read for its words (after any leading comments); the rest is not looked at. */
const HTML_READ_LIMIT = 64 * 1024;

const HTML_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

/**
 * The words of an HTML page: its title, then its visible text (scripts, styles and tags dropped, entities decoded,
 * the title not repeated), at most 300 characters, read from the page's first 64 KiB. Undefined when the text is
 * not an HTML page.
 *
 * The body is the endpoint's (or a proxy's), of any size and shape, read on the loop every editor shares: every
 * step is a forward scan (an element is looked for from where the last one ended, and once a kind of element has
 * no end, not again), never a pattern that can backtrack — the patterns used before took 0.6 s for 25 empty
 * comments before the page (exponential), and 23 s for 100,000 `<` (quadratic).
 */
export function htmlPageText(body: string): string | undefined {
  let at = 0;
  for (;;) {
    while (at < body.length && /\s/.test(body[at])) at++;
    if (!body.startsWith('<!--', at)) break;
    const end = body.indexOf('-->', at + 4);
    if (end < 0) return undefined;
    at = end + 3;
  }
  if (!/^<(!doctype\s+html|html|head|body)\b/i.test(body.slice(at, at + 64))) return undefined;
  // A summary of 300 characters is in the page's first kilobytes (nginx's, Cloudflare's and LiteLLM's pages are
  // under 10 KB): reading at most HTML_READ_LIMIT keeps a 10 MB page from costing the shared loop 0.3 s.
  const cut = at + HTML_READ_LIMIT < body.length;
  body = body.slice(at, at + HTML_READ_LIMIT);
  // A tag the limit cut in two is not text.
  if (cut && body.lastIndexOf('<') > body.lastIndexOf('>')) body = body.slice(0, body.lastIndexOf('<'));
  const words = (html: string) => withoutTags(withoutElements(html, ['script', 'style']))
    .replace(/&(#x[0-9a-f]+|#\d+|\w+);/gi, (entity, name: string) => (name[0] === '#' ? String.fromCodePoint(Number(name[1] === 'x' || name[1] === 'X' ? `0${name.slice(1)}` : name.slice(1))) : HTML_ENTITIES[name.toLowerCase()] ?? entity))
    .replace(/\s+/g, ' ')
    .trim();
  const titled = firstElement(body, 'title', /<title/gi);
  const title = words(titled ? body.slice(titled.contentStart, titled.contentEnd) : '');
  const head = firstElement(body, 'head', /<head\b/gi);
  const page = words(head ? `${body.slice(0, head.start)} ${body.slice(head.end)}` : body);
  const rest = title ? page.split(title).map((part) => part.trim()).filter(Boolean).join(' ') : page;
  const text = [title, rest].filter(Boolean).join(' — ') || 'an HTML page with no text';
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

/**
 * The first element `tag` opened by `opening` (a global, case-insensitive pattern) from `from` on, and closed by
 * `</tag>`: its start, where its content starts and ends, and its end. Null when there is none; an opening whose
 * tag never ends, or that is never closed, means no later one is either (nothing after it can close them).
 */
function firstElement(html: string, tag: string, opening: RegExp, from = 0): { start: number; contentStart: number; contentEnd: number; end: number } | null {
  opening.lastIndex = from;
  const open = opening.exec(html);
  if (!open) return null;
  const contentStart = html.indexOf('>', open.index) + 1;
  if (contentStart === 0) return null;
  const closing = new RegExp(`</${tag}\\s*>`, 'gi');
  closing.lastIndex = contentStart;
  const close = closing.exec(html);
  return close ? { start: open.index, contentStart, contentEnd: close.index, end: close.index + close[0].length } : null;
}

/** `html` with each element of `tags` (opening tag to `</tag>`) replaced by a space, in one forward pass per tag. */
function withoutElements(html: string, tags: string[]): string {
  let text = html;
  for (const tag of tags) {
    let out = '';
    let at = 0;
    for (let element = firstElement(text, tag, new RegExp(`<${tag}\\b`, 'gi')); element; element = firstElement(text, tag, new RegExp(`<${tag}\\b`, 'gi'), at)) {
      out += `${text.slice(at, element.start)} `;
      at = element.end;
    }
    text = out + text.slice(at);
  }
  return text;
}

/** `html` with each tag (`<` to the next `>`) replaced by a space; a `<` with no `>` after it is left, as is the rest. */
function withoutTags(html: string): string {
  let out = '';
  let at = 0;
  for (let open = html.indexOf('<'); open >= 0; open = html.indexOf('<', at)) {
    const close = html.indexOf('>', open);
    if (close < 0) break;
    out += `${html.slice(at, open)} `;
    at = close + 1;
  }
  return out + html.slice(at);
}

/** Parses a raw body (JSON text, or already parsed) into the endpoint's message and codes. */
export function readErrorBody(body: unknown, status?: number): ErrorBody {
  let parsed = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      parsed = htmlPageText(body) ?? body;
    }
  }
  // The fields live at the top level (vLLM, FastAPI) or under `error` (OpenAI and most others), which may be a string.
  const inner = isObject(parsed) && parsed.error !== undefined ? parsed.error : parsed;
  const fields = isObject(inner) ? inner : {};
  const outer = isObject(parsed) ? parsed : {};
  const message = text(inner) ?? text(outer.detail) ?? text(outer.message)
    ?? (typeof body === 'string' && body.trim() ? body.trim().slice(0, 2000) : undefined)
    ?? (isObject(parsed) && Object.keys(parsed).length ? JSON.stringify(parsed).slice(0, 2000) : undefined)
    ?? (status ? `HTTP ${status} with no body` : 'no details');
  const code = fields.code ?? outer.code;
  const found: ErrorBody = {
    message,
    type: text(fields.type) ?? text(outer.type) ?? text(outer.error_type),
    code: typeof code === 'string' || typeof code === 'number' ? code : undefined,
    param: text(fields.param) ?? text(outer.param),
    promptTokens: number(fields.n_prompt_tokens),
    contextTokens: number(fields.n_ctx),
  };
  // "This model's maximum context length is 16384 tokens. However, you requested 122946 tokens…" (vLLM, OpenAI)
  const maximum = /maximum context length is (\d+)/i.exec(message);
  const requested = /(?:you requested|resulted in|request \()\s*(\d+) tokens/i.exec(message);
  // "request (4476 tokens) exceeds the available context size (4096 tokens)" (llama.cpp), "context length of only 4096 tokens" (LM Studio)
  const available = /(?:available context size|context length of only|context size) \(?(\d+)/i.exec(message);
  found.contextTokens ??= maximum ? Number(maximum[1]) : available ? Number(available[1]) : undefined;
  found.promptTokens ??= requested ? Number(requested[1]) : undefined;
  return found;
}

const CONTEXT_CODES = new Set(['context_length_exceeded', 'exceed_context_size_error', 'string_above_max_length']);
/** Wordings of "the prompt does not fit", from OpenAI, vLLM, llama.cpp, LM Studio, Ollama, TGI and proxies. */
const CONTEXT_PATTERNS = [
  /maximum context length/i,
  /context[ _]length[ _]exceeded/i,
  /exceeds? (the )?(available |model'?s? )?context (size|length|window)/i,
  /context (size|length|window) (has been |was )?exceeded/i,
  /context the overflows/i, // LM Studio's wording, verbatim
  /reached context length/i,
  /(prompt|input) (is )?too (long|big|large)/i,
  /too many (input )?tokens/i,
  /reduce the length of the (messages|prompt|input)/i,
  /compared to (the )?kv size/i,
  /tokens? \+ `?max_new_tokens`? must be <=/i,
];
/** "tools are not accepted": Ollama, vLLM without --enable-auto-tool-choice, llama.cpp without --jinja, others. */
const TOOL_PATTERNS = [
  /does not support tools/i,
  /tool[ _]choice.*requires.*--enable-auto-tool-choice/i,
  /--enable-auto-tool-choice/i,
  /tools? (param(eter)? )?requires? (the )?--jinja/i,
  /\btools?\b.*\b(are|is) not supported/i,
  /(function|tool)[ _-]?call(ing|s)? (is |are )?not supported/i,
  /not support (function|tool)[ _-]?call/i,
];
/** "that request field is not known here" (pydantic's extra_forbidden, Azure, zod-style validators). */
const PARAMETER_PATTERNS = [
  /unrecognized request argument/i,
  /extra inputs are not permitted/i,
  /extra_forbidden/i,
  /unrecogni[sz]ed key/i,
  /unknown (field|parameter|argument|key)/i,
  /unsupported (parameter|field|argument)/i,
  /stream options can only be defined/i,
  /(parameter|field|argument) .{0,40}(is )?not (supported|allowed|permitted)/i,
];
const AUTH_PATTERNS = [/invalid (api[ _-]?)?key/i, /incorrect api key/i, /unauthori[sz]ed/i, /authentication/i];

/** Failures the same request will meet again, whatever its status says. */
const FINAL_KINDS = new Set<ModelErrorKind>(['contextOverflow', 'unsupportedTools', 'unsupportedParameter']);

/** Request fields the client may drop and retry without, when an endpoint names them as unknown. */
const DROPPABLE_PARAMETERS = ['stream_options'];

export interface Classification {
  kind: ModelErrorKind;
  body: ErrorBody;
  /** For `unsupportedParameter`: the request field the endpoint named, when it is one we can drop. */
  parameter?: string;
}

/**
 * Decides what kind of failure an HTTP error (or an error event inside a 2xx stream, `status` undefined) is,
 * from its status and body. The wording checks come first: llama.cpp's older builds report an overflow as 500,
 * LM Studio as a stream event without a status.
 */
export function classifyErrorBody(status: number | undefined, rawBody: unknown): Classification {
  const body = readErrorBody(rawBody, status);
  const haystack = [body.message, body.type, body.code, body.param].filter((part) => part !== undefined).join(' ');
  const code = String(body.code ?? '').toLowerCase();
  const type = String(body.type ?? '').toLowerCase();
  if (CONTEXT_CODES.has(code) || CONTEXT_CODES.has(type) || CONTEXT_PATTERNS.some((pattern) => pattern.test(body.message))) {
    return { kind: 'contextOverflow', body };
  }
  if (status === 401 || status === 403 || (status === undefined && AUTH_PATTERNS.some((pattern) => pattern.test(haystack)))) {
    return { kind: 'authentication', body };
  }
  if (status === 429) return { kind: 'rateLimit', body };
  if (TOOL_PATTERNS.some((pattern) => pattern.test(body.message)) || ((status === 400 || status === 422) && ['tools', 'tool_choice'].includes(body.param ?? ''))) {
    return { kind: 'unsupportedTools', body };
  }
  if (PARAMETER_PATTERNS.some((pattern) => pattern.test(body.message))) {
    const parameter = DROPPABLE_PARAMETERS.find((name) => haystack.includes(name));
    return { kind: 'unsupportedParameter', body, ...(parameter ? { parameter } : {}) };
  }
  if (status === 408 || status === 504) return { kind: 'timeout', body };
  if (status !== undefined && status >= 500) return { kind: 'server', body };
  return { kind: 'badRequest', body };
}

/** The endpoint a failure came from, for messages that name it and say what to change. */
export interface EndpointContext {
  baseURL: string;
  model: string;
  apiKeyEnv: string;
  timeoutSeconds: number;
  maxRetries: number;
  /** The API key, only to blank it out of the endpoint's words (some echo a prefix of a refused key). */
  apiKey?: string;
}

function quoted(message: string, apiKey?: string): string {
  const clean = apiKey && apiKey.length >= 8 ? message.split(apiKey).join('***') : message;
  return JSON.stringify(clean.length > 1000 ? `${clean.slice(0, 1000)}…` : clean);
}

/** The user-facing message for a classified failure: where it came from, the endpoint's words, what to do. */
export function describeFailure(kind: ModelErrorKind, body: ErrorBody, status: number | undefined, endpoint: EndpointContext, parameter?: string): string {
  const at = `the model endpoint ${endpoint.baseURL}`;
  const said = quoted(body.message, endpoint.apiKey);
  const answered = status ? ` (${status})` : '';
  switch (kind) {
    case 'contextOverflow': {
      const sizes = body.promptTokens && body.contextTokens ? ` (${body.promptTokens} tokens for a window of ${body.contextTokens})` : body.contextTokens ? ` (a window of ${body.contextTokens} tokens)` : '';
      return `the prompt does not fit the context window of ${endpoint.model} at ${endpoint.baseURL}${sizes}: ${said}. Set model.contextWindow to the server's real window, or raise it on the server (vLLM --max-model-len, llama.cpp -c, Ollama OLLAMA_CONTEXT_LENGTH or num_ctx, LM Studio's context length)`;
    }
    case 'authentication': return `${at} refused the API key from ${endpoint.apiKeyEnv}${answered}: ${said}`;
    case 'rateLimit': return `${at} is rate-limiting${answered} after ${endpoint.maxRetries} retries: ${said}; wait a little, or raise model.maxRetries`;
    case 'server': return `${at} failed${answered} after ${endpoint.maxRetries} retries: ${said}`;
    case 'timeout': return `${at} did not answer within ${endpoint.timeoutSeconds}s (model.timeoutSeconds)${status ? `: ${said}` : ''}`;
    case 'unreachable': return `cannot reach the model endpoint ${endpoint.baseURL}: ${body.message}`;
    case 'unsupportedParameter': return `${at} rejects the request field ${parameter ?? body.param ?? '(unnamed)'}${answered}: ${said}`;
    case 'unsupportedTools': return `${at} does not accept tools for ${endpoint.model}${answered}: ${said}; set model.toolCalls to "prompted" to describe the tools in the prompt instead`;
    case 'malformedAnswer': return `${at} sent an answer codeloop cannot use: ${body.message}`;
    case 'badRequest': return `${at} refused the request${answered}: ${said}${status === 404 ? `; check model.model (${JSON.stringify(endpoint.model)}) against the models \`codeloop doctor\` lists` : ''}`;
  }
}

/**
 * Keeps the raw body of every failed HTTP answer, keyed by its headers object (which the openai SDK hands on to
 * the error it throws): the SDK keeps only a body's `error` field, so a vLLM body (fields at the top level) or a
 * plain-text one would otherwise be lost.
 */
export class ErrorBodies {
  private readonly bodies = new WeakMap<Headers, string>();

  /**
   * A `fetch` for the SDK that reads failed answers' bodies and hands the SDK the same answer — marked
   * `x-should-retry: false` (a header the SDK obeys) when it is a 5xx that retrying cannot cure, like llama.cpp's
   * older builds reporting a context overflow as 500.
   */
  wrap(inner: typeof fetch = fetch): typeof fetch {
    return async (input, init) => {
      const response = await inner(input, init);
      if (response.ok) return answerOfTheApi(response, typeof init?.body === 'string' && init.body.includes('"stream":true'));
      const body = await response.text().catch(() => '');
      const headers = new Headers(response.headers);
      if (response.status >= 500 && FINAL_KINDS.has(classifyErrorBody(response.status, body).kind)) headers.set('x-should-retry', 'false');
      const copy = new Response(body, { status: response.status, statusText: response.statusText, headers });
      this.bodies.set(copy.headers, body);
      return copy;
    };
  }

  /** The raw body of the answer these headers came with, if it failed. */
  of(headers: Headers | undefined): string | undefined {
    return headers ? this.bodies.get(headers) : undefined;
  }
}

/**
 * A 2xx answer as the SDK can read it: an event stream, or JSON (a streamed request's JSON-typed answer is left
 * unread). What is neither — a web page where the API should be (a web UI, a login portal), a proxy's plain text,
 * a non-streamed answer that does not parse — is thrown as a malformedAnswer ModelError whose message says what came
 * and whose endpoint message holds its first words: the SDK would read it as an empty stream, an answer with no
 * choices, or a SyntaxError without the body. Thrown here, it reaches toModelError as an APIConnectionError's cause.
 * `streamed`: the request asked for a stream.
 */
async function answerOfTheApi(response: Response, streamed: boolean): Promise<Response> {
  const type = response.headers.get('content-type') ?? '';
  if (/\bevent-stream\b/i.test(type) || (streamed && !/\btext\/(html|plain)\b/i.test(type))) {
    return response.body ? new Response(lineAligned(response.body), { status: response.status, statusText: response.statusText, headers: response.headers }) : response;
  }
  const text = await response.text().catch(() => '');
  const page = htmlPageText(text) ?? (/\bhtml\b/i.test(type) ? 'an HTML page' : undefined);
  if (page !== undefined) throw new ModelError('malformedAnswer', 'a web page', page, response.status);
  // A stream sent as text/plain is still a stream; a JSON answer sent under another type is still JSON.
  if (streamed ? /^\s*(data|event|id|retry)?:/.test(text) : parsesAsJson(text)) {
    return new Response(text, { status: response.status, statusText: response.statusText, headers: response.headers });
  }
  throw new ModelError('malformedAnswer', streamed ? 'text, not an event stream' : 'a body that is not JSON', firstWords(text), response.status);
}

/** Whether `text` parses as JSON. */
export function parsesAsJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** The start of a body as a user reads it: whitespace runs as one space, at most 300 characters; "an empty body" when blank. */
export function firstWords(text: string): string {
  const words = text.slice(0, 2000).replace(/\s+/g, ' ').trim();
  return words ? words.slice(0, 300) : 'an empty body';
}

/** The ModelError for a classified failure: the user's message, the endpoint's words, and the facts its body gave. */
export function modelError({ kind, body, parameter }: Classification, status: number | undefined, endpoint: EndpointContext): ModelError {
  return new ModelError(kind, describeFailure(kind, body, status, endpoint, parameter), body.message, status, {
    ...(parameter ? { parameter } : {}),
    ...(body.promptTokens ? { promptTokens: body.promptTokens } : {}),
    ...(body.contextTokens ? { contextTokens: body.contextTokens } : {}),
  });
}

/**
 * Turns whatever a model call threw into a ModelError (an abort is passed through untouched: the session was
 * cancelled). `bodies` supplies the raw error body the SDK dropped.
 */
export function toModelError(error: unknown, endpoint: EndpointContext, bodies?: ErrorBodies): unknown {
  if (error instanceof ModelError || error instanceof OpenAI.APIUserAbortError) return error;
  const make = (kind: ModelErrorKind, body: ErrorBody, status?: number, parameter?: string) => modelError({ kind, body, parameter }, status, endpoint);
  if (error instanceof OpenAI.APIConnectionTimeoutError) return make('timeout', { message: error.message });
  if (error instanceof OpenAI.APIConnectionError && error.cause instanceof ModelError && error.cause.kind === 'malformedAnswer') {
    return make('malformedAnswer', { message: `it answered ${error.cause.status} with ${error.cause.message}, not the API: ${JSON.stringify(error.cause.endpointMessage)}; is model.baseURL the API's address (usually ending in /v1, e.g. http://localhost:11434/v1 for Ollama)?` });
  }
  if (error instanceof OpenAI.APIConnectionError) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return make('unreachable', { message: `${error.message}${cause}` });
  }
  if (error instanceof OpenAI.APIError) {
    const raw = bodies?.of(error.headers) ?? (error.error === undefined ? undefined : JSON.stringify({ error: error.error }));
    const classified = classifyErrorBody(error.status, raw ?? '');
    return make(classified.kind, classified.body, error.status, classified.parameter);
  }
  if (error instanceof SyntaxError || (error instanceof Error && error.name === 'OpenAIError')) {
    return make('malformedAnswer', { message: error.message });
  }
  return error;
}
