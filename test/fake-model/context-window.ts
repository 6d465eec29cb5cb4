import type http from 'node:http';
import { promptTokens, PROVIDER_ERRORS, type Provider } from './endpoint-quirks.js';

/**
 * The scripted model's context window: a prompt over it (counted as the scripted server counts for `usage`,
 * ≈4 characters a token) is refused with the overflow error a real server of that provider sends.
 */
export interface ContextWindowOptions {
  tokens: number;
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
