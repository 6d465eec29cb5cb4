import type http from 'node:http';
import { promptTokens, PROVIDER_ERRORS, type Provider } from './endpoint-quirks.js';

/**
 * The scripted model's context window: a prompt over it (counted as the scripted server counts for `usage`,
 * ≈4 characters a token) is refused with the overflow error a real server of that provider sends.
 */
export interface ContextWindowOptions {
  tokens: number;
  /**
   * The tokens each scripted answer needs: a prompt that fits but leaves less room than this gets its answer cut
   * where the window ends — a 200 with `finish_reason: "length"` and no usable answer, as vLLM (whose default
   * max_tokens is the room left) and llama.cpp (n_predict -1 runs to the end of n_ctx) do. The step is not used.
   */
  answerRoom?: number;
  /** Whose overflow error to answer with (default OpenAI's `context_length_exceeded`). */
  provider?: Provider;
}

/**
 * The provider's overflow body with this request's numbers: the recorded bodies (endpoint-quirks.ts) say 8192
 * for the window and 9013 for the prompt.
 */
export function overflowBody(provider: Provider, tokens: number, window: number): { status: number; body: unknown } {
  const { status, body } = PROVIDER_ERRORS[provider].contextOverflow;
  return { status, body: JSON.parse(JSON.stringify(body).replaceAll('9013', String(tokens)).replaceAll('8192', String(window))) };
}

/** Answers a request whose prompt does not fit the window with the overflow error; false when it fits. */
export function refuseOverWindow(parsed: { messages?: unknown; tools?: unknown }, window: ContextWindowOptions, response: http.ServerResponse): boolean {
  const tokens = promptTokens(parsed, {});
  if (tokens <= window.tokens) return false;
  const { status, body } = overflowBody(window.provider ?? 'openai', tokens, window.tokens);
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
  return true;
}

/**
 * Answers a request whose prompt fits but leaves less than `answerRoom` tokens with an answer cut where the
 * window ends (prompt + answer tokens = the window); false when there is room.
 */
export function cutAnswerAtWindow(parsed: { messages?: unknown; tools?: unknown; stream?: boolean }, window: ContextWindowOptions, response: http.ServerResponse): boolean {
  const tokens = promptTokens(parsed, {});
  if (!window.answerRoom || tokens + window.answerRoom <= window.tokens) return false;
  const usage = { prompt_tokens: tokens, completion_tokens: window.tokens - tokens, total_tokens: window.tokens };
  const base = { id: 'chatcmpl-cut', created: 0, model: 'fake-model' };
  if (!parsed.stream) {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ ...base, object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'I will now' }, finish_reason: 'length' }], usage }));
    return true;
  }
  response.writeHead(200, { 'content-type': 'text/event-stream' });
  for (const chunk of [
    { choices: [{ index: 0, delta: { role: 'assistant', content: 'I will now' }, finish_reason: null }] },
    { choices: [{ index: 0, delta: {}, finish_reason: 'length' }] },
    { choices: [], usage },
  ]) response.write(`data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', ...chunk })}\n\n`);
  response.end('data: [DONE]\n\n');
  return true;
}
