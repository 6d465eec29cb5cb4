import { TokenCounter } from '../../server/model/token-count.js';

/**
 * The scripted model's context window: prompts are counted with the same tokenizer codeloop counts with
 * (uncalibrated o200k), reported as `usage.prompt_tokens`, and a prompt over the window is refused with the
 * error body a real server sends.
 */
export interface ContextWindowOptions {
  tokens: number;
  /** Whose overflow error to answer with (default OpenAI's). */
  provider?: 'openai' | 'vllm' | 'llamacpp';
}

const counter = new TokenCounter();

/** Prompt tokens of a chat-completions request body (messages and tools). */
export function promptTokens(body: { messages?: unknown[]; tools?: unknown[] }): number {
  return counter.count((body.messages ?? []) as Parameters<TokenCounter['count']>[0], (body.tools ?? []) as Parameters<TokenCounter['count']>[1]);
}

/**
 * The HTTP answer of a server whose window the prompt does not fit, null when it fits. Bodies as the servers
 * send them: OpenAI (`context_length_exceeded`), vLLM (`{"object":"error",…}` at the top level), llama.cpp
 * server (`exceed_context_size_error` with `n_prompt_tokens` and `n_ctx`).
 */
export function overflowAnswer(tokens: number, window: ContextWindowOptions): { status: number; body: unknown } | null {
  if (tokens <= window.tokens) return null;
  switch (window.provider ?? 'openai') {
    case 'openai': return {
      status: 400,
      body: { error: {
        message: `This model's maximum context length is ${window.tokens} tokens. However, your messages resulted in ${tokens} tokens. Please reduce the length of the messages.`,
        type: 'invalid_request_error', param: 'messages', code: 'context_length_exceeded',
      } },
    };
    case 'vllm': return {
      status: 400,
      body: {
        object: 'error', type: 'BadRequestError', param: null, code: 400,
        message: `This model's maximum context length is ${window.tokens} tokens. However, you requested ${tokens} tokens in the messages, Please reduce the length of the messages.`,
      },
    };
    case 'llamacpp': return {
      status: 400,
      body: { error: { code: 400, type: 'exceed_context_size_error', message: 'the request exceeds the available context size, try increasing it', n_prompt_tokens: tokens, n_ctx: window.tokens } },
    };
  }
}
