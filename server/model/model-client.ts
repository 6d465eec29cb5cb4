import OpenAI from 'openai';
import type { ChatCompletionChunk, ChatCompletionMessage, ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import type { ModelConfig } from '../../protocol/config.js';
import { CodeloopError } from '../errors.js';
import { DEFAULT_CONTEXT_WINDOW, discoverContextWindow, type ContextWindow } from './context-window.js';
import { EndpointCache } from './endpoint-cache.js';
import { classifyErrorBody, ErrorBodies, firstWords, modelError, parsesAsJson, toModelError, type EndpointContext } from './error-classifier.js';
import { isLocalEndpoint, resolveBaseURL } from './model-endpoint.js';
import { ModelError } from './model-errors.js';
import { TokenCounter } from './token-count.js';
import { decodeTextToolCallsOffThread, normalizeToolCalls, ToolCallAssembler, toPromptedMessages, type ToolMode } from './tool-call-codec.js';
import { probeToolMode, type ToolModeFinding } from './tool-mode-probe.js';

export { DEFAULT_CONTEXT_WINDOW, type ContextWindow } from './context-window.js';

/** One model turn as the agent uses it: tool calls are always in `message.tool_calls`, whatever the endpoint. */
export interface ModelReply {
  message: ChatCompletionMessage;
  /** Prompt tokens as the endpoint reported them (or as counted, when it reports no usage). */
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
  /** What the user should know about the endpoint's behaviour (e.g. it cut the prompt), for the session's events. */
  warnings: string[];
  /**
   * Tool calls written in the answer's text that could not be run, each a specific correction to send back to
   * the model (instead of a generic "keep going").
   */
  toolCallProblems: string[];
  /**
   * The answer's tokens when the endpoint stopped it at its output limit (finish_reason "length" with room left in
   * the window: a cut at a full window is thrown as a context overflow instead); null when it ended by itself.
   */
  cutAtOutputLimit: number | null;
}

/** The tool mode in use and how it was decided. */
export interface ToolModeInUse extends ToolModeFinding {
  source: 'config' | 'cache' | 'probe';
}

/** Below this many estimated tokens a low reported count is not read as truncation (chat templates vary). */
const TRUNCATION_MIN_TOKENS = 1024;
/** A reported prompt under this share of the estimate means the endpoint cut it (Ollama's num_ctx). */
const TRUNCATION_RATIO = 0.5;
/**
 * An answer cut off (`finish_reason: "length"`) with prompt + answer at this share of the window, or after fewer
 * answer tokens than ROOMLESS_ANSWER_TOKENS, ended because the window was full, not at an output cap: vLLM's
 * default max_tokens is the room the prompt leaves, llama.cpp's n_predict -1 runs to the end of n_ctx.
 */
const FULL_WINDOW_SHARE = 0.95;
const ROOMLESS_ANSWER_TOKENS = 256;

interface RawAnswer {
  message: ChatCompletionMessage;
  /** Why the answer ended (`stop`, `tool_calls`, `length` …), when the endpoint said. */
  finishReason?: string | null;
  usage?: { prompt_tokens?: number; completion_tokens?: number; prompt_tokens_details?: { cached_tokens?: number } | null } | null;
}

/**
 * A child signal for one SDK call: the SDK adds an `abort` listener to the signal it is given and never removes
 * it, so giving it the session's long-lived signal leaked one listener per request (Node's
 * MaxListenersExceededWarning after ten). The child's one link to the parent is removed when the call ends.
 */
async function withChildSignal<T>(parent: AbortSignal | undefined, run: (signal: AbortSignal | undefined) => Promise<T>): Promise<T> {
  if (!parent) return run(undefined);
  const child = new AbortController();
  const forward = () => child.abort(parent.reason);
  if (parent.aborted) forward();
  else parent.addEventListener('abort', forward, { once: true });
  try {
    return await run(child.signal);
  } finally {
    parent.removeEventListener('abort', forward);
  }
}

/**
 * Every model call goes through here and the `openai` SDK: timeouts, retries with exponential backoff and jitter
 * on 429/5xx/network errors honouring `retry-after` (the SDK's own), token and cost accounting. It also adapts to
 * the endpoint: the context window (config, else discovered, else a default), the tool mode (native or prompted,
 * probed once), `stream_options` dropped where refused — each learnt fact cached per (baseURL, model). Endpoint
 * failures are thrown as ModelError only.
 */
export class ModelClient {
  /** The endpoint in use (config, else OPENAI_BASE_URL, else OpenAI's). */
  readonly baseURL: string;
  /** Counts prompt tokens in this endpoint's tokens; calibrated from every reply's `usage`. */
  readonly tokens = new TokenCounter();
  private readonly client: OpenAI;
  private readonly errorBodies = new ErrorBodies();
  private readonly endpoint: EndpointContext;
  private window: Promise<ContextWindow> | undefined;
  private mode: Promise<ToolModeInUse> | undefined;
  private streamOptions: boolean;
  /** The last stream line the SDK could not read as JSON (its logger hears it; the SyntaxError it throws does not say it). */
  private unreadLine: string | undefined;

  constructor(
    private readonly config: ModelConfig,
    env: NodeJS.ProcessEnv = process.env,
    private readonly cache = new EndpointCache(env),
  ) {
    this.baseURL = resolveBaseURL(config, env).baseURL;
    const key = env[config.apiKeyEnv];
    if (!key && !isLocalEndpoint(this.baseURL)) {
      throw new CodeloopError('invalidConfig', `no API key: set the environment variable ${config.apiKeyEnv} (or model.apiKeyEnv in the config) for ${this.baseURL}`);
    }
    this.endpoint = { baseURL: this.baseURL, model: config.model, apiKeyEnv: config.apiKeyEnv, timeoutSeconds: config.timeoutSeconds, maxRetries: config.maxRetries, apiKey: key };
    this.client = new OpenAI({
      baseURL: this.baseURL,
      apiKey: key || 'no-key-needed-for-local-endpoints',
      timeout: config.timeoutSeconds * 1000,
      maxRetries: config.maxRetries,
      fetch: this.errorBodies.wrap(),
      // The SDK prints a stream line it cannot parse to the console; it is kept here to be shown in the error instead.
      logger: {
        error: (message: string, ...rest: unknown[]) => {
          if (message.startsWith('Could not parse message into JSON')) this.unreadLine = String(rest[0] ?? '');
          else if (!message.startsWith('From chunk')) console.error(message, ...rest);
        },
        warn: (message: string, ...rest: unknown[]) => console.warn(message, ...rest),
        info: () => undefined,
        debug: () => undefined,
      },
    });
    this.streamOptions = this.facts().streamOptions ?? true;
  }

  /**
   * The model's context window in tokens and how it was found: `model.contextWindow` from the config, else what
   * the endpoint publishes (cached per endpoint and model; `refresh` asks again), else 8192.
   */
  contextWindow(options: { refresh?: boolean } = {}): Promise<ContextWindow> {
    if (this.config.contextWindow) return Promise.resolve({ tokens: this.config.contextWindow, source: 'model.contextWindow in the config' });
    if (options.refresh || !this.window) this.window = this.findContextWindow(Boolean(options.refresh));
    return this.window;
  }

  /** How tools reach this endpoint: `model.toolCalls` when set, else the cached probe, else a probe now (`refresh` probes again). */
  toolMode(options: { refresh?: boolean } = {}): Promise<ToolModeInUse> {
    if (this.config.toolCalls !== 'auto') return Promise.resolve({ mode: this.config.toolCalls, reason: `model.toolCalls is "${this.config.toolCalls}"`, source: 'config' });
    if (options.refresh || !this.mode) {
      const cached = options.refresh ? undefined : this.facts().toolMode;
      const finding = cached ? Promise.resolve({ ...cached, source: 'cache' as const }) : this.probe();
      this.mode = finding;
      // A failed probe (endpoint down) is not remembered: the next call probes again.
      finding.catch(() => {
        if (this.mode === finding) this.mode = undefined;
      });
    }
    return this.mode;
  }

  /**
   * One model turn. With `stream`, deltas are assembled into the same message a non-streaming call returns and
   * `onProgress` hears how many characters have arrived. Tool calls come back in `tool_calls` whatever the
   * endpoint does with them. Throws ModelError for every endpoint failure (an abort passes through).
   */
  async complete(messages: ChatCompletionMessageParam[], tools: ChatCompletionTool[], signal?: AbortSignal, onProgress?: (characters: number) => void): Promise<ModelReply> {
    const mode: ToolMode = tools.length ? (await this.toolMode()).mode : 'native';
    const sent = mode === 'prompted' ? toPromptedMessages(messages, tools) : messages;
    const sentTools = mode === 'prompted' ? [] : tools;
    const estimate = await this.tokens.count(sent, sentTools);
    let answer: RawAnswer;
    try {
      answer = await this.send(sent, sentTools, this.config.stream, signal, onProgress);
    } catch (error) {
      if (error instanceof ModelError && error.kind === 'unsupportedTools' && mode === 'native' && this.config.toolCalls === 'auto') {
        // The endpoint changed (restarted without tool support): remember, and say it again as text.
        this.rememberToolMode({ mode: 'prompted', reason: `the endpoint rejects tools: ${JSON.stringify(error.endpointMessage)}` });
        return this.complete(messages, tools, signal, onProgress);
      }
      if (error instanceof ModelError && error.kind === 'contextOverflow' && error.details.contextTokens) {
        this.learnWindow({ tokens: error.details.contextTokens, source: 'the endpoint, in a context-overflow error' });
      }
      throw error;
    }
    const message = answer.message;
    const toolCallProblems: string[] = [];
    if (tools.length && !message.tool_calls?.length && message.content) {
      const decoded = await decodeTextToolCallsOffThread(message.content, tools);
      if (decoded.calls.length) {
        message.tool_calls = decoded.calls;
        message.content = decoded.text;
      }
      toolCallProblems.push(...decoded.problems);
    }
    const warnings: string[] = [];
    // OpenAI counts cached tokens inside prompt_tokens; a server that reports only the newly processed part
    // (cached_tokens beside it) is not cutting the prompt.
    const cached = answer.usage?.prompt_tokens_details?.cached_tokens ?? 0;
    const counted = answer.usage?.prompt_tokens;
    const reported = counted !== undefined && cached > 0 && counted < estimate * TRUNCATION_RATIO ? counted + cached : counted;
    if (reported && estimate >= TRUNCATION_MIN_TOKENS && reported < estimate * TRUNCATION_RATIO) {
      // The actionable part first: progress lines show only the start of a message.
      warnings.push(`the endpoint cut a prompt of about ${estimate} tokens to ${reported} (its context window): raise it (Ollama: OLLAMA_CONTEXT_LENGTH=32768, or num_ctx in a Modelfile) and set model.contextWindow. `
        + `Until then codeloop assumes ${reported} tokens for ${this.config.model} at ${this.baseURL}.`);
      this.learnWindow({ tokens: reported, source: `the endpoint, which cut a prompt of about ${estimate} tokens to ${reported} (Ollama's num_ctx)` });
    } else if (reported) {
      this.tokens.calibrate(estimate, reported);
    }
    const promptTokens = reported ?? estimate;
    const completionTokens = answer.usage?.completion_tokens
      ?? await this.tokens.countText([message.content ?? '', ...(message.tool_calls ?? []).map((call) => (call.type === 'function' ? call.function.arguments : ''))].join('\n'));
    const costUsd = (promptTokens * this.config.price.input + completionTokens * this.config.price.output) / 1_000_000;
    const cut = answer.finishReason === 'length';
    if (cut) {
      await this.checkCutAnswer(promptTokens, completionTokens);
      toolCallProblems.push(...dropCutCalls(message, completionTokens));
    }
    return { message, promptTokens, completionTokens, costUsd, warnings, toolCallProblems, cutAtOutputLimit: cut ? completionTokens : null };
  }

  /**
   * An answer the endpoint cut off because the window was full is a context overflow in disguise (a 200 with no
   * usable answer): thrown as one, so the conversation is compacted and asked again, and the window it revealed
   * is learnt. An answer cut at an output cap is left to the caller (its incomplete calls are refused as such).
   */
  private async checkCutAnswer(promptTokens: number, completionTokens: number): Promise<void> {
    const window = (await this.contextWindow()).tokens;
    const used = promptTokens + completionTokens;
    if (used < FULL_WINDOW_SHARE * window && completionTokens >= ROOMLESS_ANSWER_TOKENS) return;
    if (used < window) this.learnWindow({ tokens: used, source: 'the endpoint, which cut an answer off where its window ended' });
    throw new ModelError('contextOverflow',
      `${this.config.model} at ${this.baseURL} stopped its answer when the context window was full (${promptTokens} prompt + ${completionTokens} answer tokens, finish_reason "length"): the prompt leaves no room to answer. Set model.contextWindow to the server's real window, or raise it on the server`,
      `finish_reason "length" after ${completionTokens} answer tokens`, undefined, { promptTokens, contextTokens: Math.min(used, window) });
  }

  private facts() {
    return this.cache.get(this.baseURL, this.config.model);
  }

  private async findContextWindow(refresh: boolean): Promise<ContextWindow> {
    const cached = refresh ? undefined : this.facts().contextWindow;
    if (cached) return cached;
    const found = await discoverContextWindow(this.baseURL, this.config.model, this.endpoint.apiKey);
    if (!found) return { tokens: DEFAULT_CONTEXT_WINDOW, source: 'the default (the endpoint publishes no window; set model.contextWindow)' };
    this.cache.update(this.baseURL, this.config.model, { contextWindow: found });
    return found;
  }

  /** A smaller window the endpoint revealed in use replaces the assumed one, here and in the cache. */
  private learnWindow(window: ContextWindow): void {
    if (this.config.contextWindow) return;
    this.window = Promise.resolve(window);
    this.cache.update(this.baseURL, this.config.model, { contextWindow: window });
  }

  private async probe(): Promise<ToolModeInUse> {
    const finding = await probeToolMode(async (messages, tools) => (await this.send(messages, tools, false)).message);
    this.rememberToolMode(finding);
    return { ...finding, source: 'probe' };
  }

  private rememberToolMode(finding: ToolModeFinding): void {
    this.mode = Promise.resolve({ ...finding, source: 'probe' });
    this.cache.update(this.baseURL, this.config.model, { toolMode: finding });
  }

  /**
   * One request, retried once without `stream_options` if the endpoint refuses that field, and up to
   * `model.maxRetries` times when its stream was cut before the answer ended (the SDK retries only failures that
   * happen before the body starts).
   */
  private async send(messages: ChatCompletionMessageParam[], tools: ChatCompletionTool[], stream: boolean, signal?: AbortSignal, onProgress?: (characters: number) => void, cutRetries = this.config.maxRetries): Promise<RawAnswer> {
    const body = { model: this.config.model, messages, ...(tools.length ? { tools, tool_choice: 'auto' as const } : {}) };
    try {
      return await withChildSignal(signal, async (callSignal) => {
        if (!stream) return complete(await this.client.chat.completions.create(body, { signal: callSignal }));
        const chunks = await this.client.chat.completions.create(
          { ...body, stream: true, ...(this.streamOptions ? { stream_options: { include_usage: true } } : {}) },
          { signal: callSignal },
        );
        this.unreadLine = undefined;
        return await assemble(chunks, this.endpoint, onProgress, () => this.unreadLine);
      });
    } catch (error) {
      const failure = toModelError(error, this.endpoint, this.errorBodies);
      if (stream && this.streamOptions && failure instanceof ModelError && failure.kind === 'unsupportedParameter' && failure.details.parameter === 'stream_options') {
        this.streamOptions = false;
        this.cache.update(this.baseURL, this.config.model, { streamOptions: false });
        return this.send(messages, tools, stream, signal, onProgress, cutRetries);
      }
      if (failure instanceof StreamCut && cutRetries > 0 && !signal?.aborted) return this.send(messages, tools, stream, signal, onProgress, cutRetries - 1);
      throw failure;
    }
  }
}

/**
 * Loads Node's HTTP client (undici, which Node loads on first use: 90–120 ms of the event loop, measured with Node
 * 20) so the first model request of a daemon does not hold every editor for it; the daemon calls this before it
 * listens, when no request can wait.
 */
export function loadHttpClient(): void {
  new Response('');
}

/** A non-streamed answer, checked and with its tool calls made uniform. */
function complete(completion: { choices?: { message?: ChatCompletionMessage; finish_reason?: string | null }[]; usage?: RawAnswer['usage'] }): RawAnswer {
  const message = completion.choices?.[0]?.message;
  if (!message) throw new ModelError('malformedAnswer', `the model endpoint returned no choices: ${JSON.stringify(firstWords(JSON.stringify(completion) ?? ''))}`, 'no choices in the answer');
  const calls = normalizeToolCalls(message.tool_calls);
  return {
    message: { role: 'assistant', content: message.content ?? null, refusal: message.refusal ?? null, ...(calls.length ? { tool_calls: calls } : {}) },
    usage: completion.usage,
    finishReason: completion.choices?.[0]?.finish_reason,
  };
}

/**
 * An answer cut at the endpoint's output cap: a tool call whose arguments stopped mid-JSON cannot run; it is taken
 * out, and the model is told why (not only that the JSON is invalid), so it sends smaller steps.
 */
function dropCutCalls(message: ChatCompletionMessage, completionTokens: number): string[] {
  const cut = (message.tool_calls ?? []).filter((call) => call.type === 'function' && !parsesAsJson(call.function.arguments));
  if (!cut.length) return [];
  message.tool_calls = message.tool_calls!.filter((call) => !cut.includes(call));
  if (!message.tool_calls.length) delete message.tool_calls;
  return cut.map((call) => `Your answer was cut off after ${completionTokens} tokens (the endpoint's output limit, finish_reason "length") in the middle of your call of ${call.type === 'function' ? call.function.name : 'a tool'}, so it was not run. Send smaller steps: edit with search/replace blocks instead of whole files, and split large edits into several calls.`);
}

/** A stream that ended before its answer did: a connection cut by a proxy, a crashed or restarted server. */
class StreamCut extends ModelError {}

/**
 * Builds the final message from streamed deltas: content appended, tool calls assembled by the codec. Every
 * OpenAI-compatible server (OpenAI, vLLM, llama.cpp, Ollama, LM Studio) ends an answer with a chunk carrying
 * `finish_reason` (then, when asked, the usage chunk, then `[DONE]`); a stream that ends without either was cut,
 * and its text is not the model's answer (a plan cut mid-sentence must not be offered for approval).
 */
async function assemble(stream: AsyncIterable<ChatCompletionChunk>, endpoint: EndpointContext, onProgress?: (characters: number) => void, unreadLine?: () => string | undefined): Promise<RawAnswer> {
  let content = '';
  let characters = 0;
  let chunks = 0;
  const calls = new ToolCallAssembler();
  let usage: RawAnswer['usage'] = null;
  let finishReason: string | null = null;
  const retries = endpoint.maxRetries ? `, and again on each of ${endpoint.maxRetries} retries (model.maxRetries)` : '';
  try {
    for await (const chunk of stream) {
      chunks++;
      // vLLM reports a failure inside a stream as a chunk with its error fields at the top level.
      if ((chunk as { object?: string }).object === 'error') {
        throw modelError(classifyErrorBody(undefined, chunk), undefined, endpoint);
      }
      if (chunk.usage) usage = chunk.usage;
      finishReason = chunk.choices?.[0]?.finish_reason ?? finishReason;
      const delta = chunk.choices?.[0]?.delta;
      if (!delta) continue;
      if (delta.content) {
        content += delta.content;
        characters += delta.content.length;
      }
      characters += calls.add(delta.tool_calls ?? []);
      onProgress?.(characters);
    }
  } catch (error) {
    // A proxy or server that breaks off a stream with plain text (Envoy's "upstream connect error…"): its words, asked again.
    const line = unreadLine?.();
    if (!(error instanceof SyntaxError) || line === undefined) throw error;
    throw new StreamCut('server', `the model endpoint ${endpoint.baseURL} broke off its answer after ${characters} characters with a line that is not JSON: ${JSON.stringify(line.slice(0, 300))}${retries}`, line.slice(0, 1000));
  }
  if (!chunks) throw new ModelError('malformedAnswer', `the model endpoint ${endpoint.baseURL} sent an empty stream`, 'empty stream');
  if (!finishReason && !usage) {
    throw new StreamCut('server', `the model endpoint ${endpoint.baseURL} cut its answer off after ${characters} characters (the stream ended with no finish_reason)${retries}; check the server's log, or a proxy's read timeout`, 'the stream ended before the answer was complete');
  }
  const assembled = calls.calls();
  const message: ChatCompletionMessage = {
    role: 'assistant', content: content || null, refusal: null,
    ...(assembled.length ? { tool_calls: assembled } : {}),
  };
  return { message, usage, finishReason };
}
