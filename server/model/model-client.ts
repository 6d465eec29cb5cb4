import OpenAI from 'openai';
import type { ChatCompletionMessageParam, ChatCompletionTool, ChatCompletionMessage } from 'openai/resources/chat/completions';
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

  async complete(messages: ChatCompletionMessageParam[], tools: ChatCompletionTool[], signal?: AbortSignal): Promise<ModelReply> {
    let completion;
    try {
      completion = await this.client.chat.completions.create(
        { model: this.config.model, messages, ...(tools.length ? { tools, tool_choice: 'auto' as const } : {}) },
        { signal },
      );
    } catch (error) {
      if (error instanceof OpenAI.APIConnectionTimeoutError) throw new CodeloopError('notFound', `the model endpoint ${this.config.baseURL} did not answer within ${this.config.timeoutSeconds}s`);
      if (error instanceof OpenAI.APIConnectionError) throw new CodeloopError('notFound', `cannot reach the model endpoint ${this.config.baseURL}: ${error.message}`);
      if (error instanceof OpenAI.AuthenticationError) throw new CodeloopError('invalidConfig', `the model endpoint refused the API key from ${this.config.apiKeyEnv} (401)`);
      if (error instanceof OpenAI.APIError) throw new CodeloopError('notFound', `the model endpoint answered ${error.status ?? 'an error'}: ${error.message}`);
      throw error;
    }
    const message = completion.choices?.[0]?.message;
    if (!message) throw new CodeloopError('notFound', 'the model endpoint returned no choices');
    const promptTokens = completion.usage?.prompt_tokens ?? estimateTokens(messages);
    const completionTokens = completion.usage?.completion_tokens ?? estimateTokens(message);
    const costUsd = (promptTokens * this.config.price.input + completionTokens * this.config.price.output) / 1_000_000;
    return { message, promptTokens, completionTokens, costUsd };
  }
}
