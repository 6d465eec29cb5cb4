import OpenAI from 'openai';
import type { ChatCompletionChunk, ChatCompletionMessage, ChatCompletionMessageParam, ChatCompletionMessageToolCall, ChatCompletionTool } from 'openai/resources/chat/completions';
import type { ModelConfig } from '../../protocol/config.js';
import { CodeloopError } from '../errors.js';

export interface ModelReply {
  message: ChatCompletionMessage;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
}

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

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

  constructor(
    private readonly config: ModelConfig,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    const key = env[config.apiKeyEnv];
    const local = LOCAL_HOSTS.has(new URL(config.baseURL).hostname);
    if (!key && !local) {
      throw new CodeloopError('invalidConfig', `no API key: set the environment variable ${config.apiKeyEnv} (or model.apiKeyEnv in the config) for ${config.baseURL}`);
    }
    this.client = new OpenAI({
      baseURL: config.baseURL,
      apiKey: key || 'no-key-needed-for-local-endpoints',
      timeout: config.timeoutSeconds * 1000,
      maxRetries: config.maxRetries,
    });
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
      if (error instanceof OpenAI.APIConnectionTimeoutError) throw new CodeloopError('notFound', `the model endpoint ${this.config.baseURL} did not answer within ${this.config.timeoutSeconds}s`);
      if (error instanceof OpenAI.APIConnectionError) throw new CodeloopError('notFound', `cannot reach the model endpoint ${this.config.baseURL}: ${error.message}`);
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
    return { message, promptTokens, completionTokens, costUsd };
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
