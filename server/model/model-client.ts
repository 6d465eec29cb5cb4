import OpenAI from 'openai';
import type { ChatCompletionChunk, ChatCompletionMessage, ChatCompletionMessageParam, ChatCompletionMessageToolCall, ChatCompletionTool } from 'openai/resources/chat/completions';
import type { ModelConfig } from '../../protocol/config.js';
import { CodeloopError } from '../errors.js';
import { isLocalEndpoint, resolveBaseURL } from './model-endpoint.js';
import { TokenCounter } from './token-count.js';

/** One model turn as the agent uses it: tool calls are always in `message.tool_calls`, whatever the endpoint. */
export interface ModelReply {
  message: ChatCompletionMessage;
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
}

/** The model's context window in tokens, and how it was found (config, endpoint discovery, default). */
export interface ContextWindow {
  tokens: number;
  source: string;
}

/** Assumed when neither the config nor the endpoint says: small enough for most local models. */
export const DEFAULT_CONTEXT_WINDOW = 8192;

/** A rough count (≈4 characters a token) for endpoints that do not report `usage`. */
function estimateTokens(value: unknown): number {
  return Math.ceil(JSON.stringify(value ?? '').length / 4);
}

/**
 * Every model call goes through here and the `openai` SDK: timeouts, retries with exponential backoff and
 * jitter on 429/5xx/network errors honouring `retry-after` (the SDK's own), token and cost accounting.
 */
export class ModelClient {
  private readonly client: OpenAI;
  /** The endpoint in use (config, else OPENAI_BASE_URL, else OpenAI's). */
  readonly baseURL: string;
  /** Counts prompt tokens in this endpoint's tokens; calibrated from every reply's `usage`. */
  readonly tokens = new TokenCounter();

  constructor(
    private readonly config: ModelConfig,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.baseURL = resolveBaseURL(config, env).baseURL;
    const key = env[config.apiKeyEnv];
    if (!key && !isLocalEndpoint(this.baseURL)) {
      throw new CodeloopError('invalidConfig', `no API key: set the environment variable ${config.apiKeyEnv} (or model.apiKeyEnv in the config) for ${this.baseURL}`);
    }
    this.client = new OpenAI({
      baseURL: this.baseURL,
      apiKey: key || 'no-key-needed-for-local-endpoints',
      timeout: config.timeoutSeconds * 1000,
      maxRetries: config.maxRetries,
    });
  }

  /** The model's context window: `model.contextWindow` from the config, else the default. */
  async contextWindow(): Promise<ContextWindow> {
    if (this.config.contextWindow) return { tokens: this.config.contextWindow, source: 'model.contextWindow in the config' };
    return { tokens: DEFAULT_CONTEXT_WINDOW, source: 'the default' };
  }

  /**
   * One model turn. With `stream`, deltas are assembled into the same message a non-streaming call returns and
   * `onProgress` hears how many characters have arrived.
   */
  async complete(messages: ChatCompletionMessageParam[], tools: ChatCompletionTool[], signal?: AbortSignal, onProgress?: (characters: number) => void): Promise<ModelReply> {
    try {
      const body = { model: this.config.model, messages, ...(tools.length ? { tools, tool_choice: 'auto' as const } : {}) };
      if (!this.config.stream) return this.account(messages, await this.client.chat.completions.create(body, { signal }));
      const stream = await this.client.chat.completions.create({ ...body, stream: true, stream_options: { include_usage: true } }, { signal });
      return this.account(messages, await assemble(stream, onProgress));
    } catch (error) {
      if (error instanceof OpenAI.APIConnectionTimeoutError) throw new CodeloopError('notFound', `the model endpoint ${this.baseURL} did not answer within ${this.config.timeoutSeconds}s`);
      if (error instanceof OpenAI.APIConnectionError) throw new CodeloopError('notFound', `cannot reach the model endpoint ${this.baseURL}: ${error.message}`);
      if (error instanceof OpenAI.AuthenticationError) throw new CodeloopError('invalidConfig', `the model endpoint refused the API key from ${this.config.apiKeyEnv} (401)`);
      if (error instanceof OpenAI.APIError) throw new CodeloopError('notFound', `the model endpoint answered ${error.status ?? 'an error'}: ${error.message}`);
      throw error;
    }
  }

  private account(messages: ChatCompletionMessageParam[], completion: { choices: { message: ChatCompletionMessage }[]; usage?: { prompt_tokens: number; completion_tokens: number } | null }): ModelReply {
    const message = completion.choices?.[0]?.message;
    if (!message) throw new CodeloopError('notFound', 'the model endpoint returned no choices');
    const promptTokens = completion.usage?.prompt_tokens ?? estimateTokens(messages);
    const completionTokens = completion.usage?.completion_tokens ?? estimateTokens(message);
    const costUsd = (promptTokens * this.config.price.input + completionTokens * this.config.price.output) / 1_000_000;
    return { message, promptTokens, completionTokens, costUsd, warnings: [], toolCallProblems: [] };
  }
}

/** Builds the final message from streamed deltas: content appended, tool calls assembled by index. */
async function assemble(stream: AsyncIterable<ChatCompletionChunk>, onProgress?: (characters: number) => void) {
  let content = '';
  let characters = 0;
  const calls: ChatCompletionMessageToolCall[] = [];
  let usage: ChatCompletionChunk['usage'] = null;
  for await (const chunk of stream) {
    if (chunk.usage) usage = chunk.usage;
    const delta = chunk.choices?.[0]?.delta;
    if (!delta) continue;
    if (delta.content) {
      content += delta.content;
      characters += delta.content.length;
    }
    for (const part of delta.tool_calls ?? []) {
      const call = calls[part.index] ??= { id: '', type: 'function', function: { name: '', arguments: '' } };
      if (part.id) call.id = part.id;
      if (call.type === 'function') {
        if (part.function?.name) call.function.name += part.function.name;
        if (part.function?.arguments) {
          call.function.arguments += part.function.arguments;
          characters += part.function.arguments.length;
        }
      }
    }
    onProgress?.(characters);
  }
  const message: ChatCompletionMessage = {
    role: 'assistant', content: content || null, refusal: null,
    ...(calls.length ? { tool_calls: calls.filter(Boolean) } : {}),
  };
  return { choices: [{ message }], usage };
}
