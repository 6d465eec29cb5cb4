import { createRequire } from 'node:module';
import type { ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';

type CountTokens = typeof import('gpt-tokenizer/encoding/o200k_base').countTokens;
const require = createRequire(import.meta.url);
let loaded: CountTokens | undefined;

/**
 * The tokenizer, loaded on first use: its BPE ranks take about a second to load, which every CLI command and the
 * daemon's start would otherwise pay whether or not a model is ever asked anything.
 */
function countTokens(text: string, options: Parameters<CountTokens>[1]): number {
  loaded ??= (require('gpt-tokenizer/cjs/encoding/o200k_base') as { countTokens: CountTokens }).countTokens;
  return loaded(text, options);
}

/**
 * Tokens a chat message costs beyond its text (role and separators), and the tokens that prime the reply:
 * OpenAI's published counting recipe for chat models (3 per message, 3 for the reply); local chat templates
 * spend a few more, which calibration absorbs.
 */
const PER_MESSAGE = 4;
const PER_REPLY = 3;
/** Special-token text inside files (`<|endoftext|>`) is counted as text, never refused. */
const AS_TEXT = { disallowedSpecial: new Set<string>() };
/** Bounds on the calibration factor: tokenizers of open models differ from o200k by tens of percent, not more. */
const MIN_FACTOR = 0.5;
const MAX_FACTOR = 3;

/** The text a message contributes: its content (string or parts), tool calls and tool-call id. */
function messageText(message: ChatCompletionMessageParam): string {
  const parts: string[] = [message.role];
  const content = message.content;
  if (typeof content === 'string') parts.push(content);
  else if (Array.isArray(content)) {
    for (const part of content) if ('text' in part && typeof part.text === 'string') parts.push(part.text);
  }
  if (message.role === 'assistant') {
    for (const call of message.tool_calls ?? []) {
      if (call.type === 'function') parts.push(call.id, call.function.name, call.function.arguments);
    }
  }
  if (message.role === 'tool') parts.push(message.tool_call_id);
  return parts.join('\n');
}

/**
 * Counts prompt tokens before a request is sent, with the o200k BPE tokenizer (gpt-tokenizer, offline), scaled
 * by a factor learnt from the `usage.prompt_tokens` the endpoint reports — so the count is in the endpoint's
 * own tokens whatever its tokenizer (Llama, Qwen, Mistral…).
 *
 * `ModelClient` owns one per endpoint (`model.tokens`) and calibrates it from every reply; callers only count.
 */
export class TokenCounter {
  private factor = 1;

  /** Estimated prompt tokens for these messages plus tool specifications, in the endpoint's tokens. */
  count(messages: readonly ChatCompletionMessageParam[], tools: readonly ChatCompletionTool[] = []): number {
    let tokens = PER_REPLY;
    for (const message of messages) tokens += PER_MESSAGE + countTokens(messageText(message), AS_TEXT);
    if (tools.length) tokens += countTokens(JSON.stringify(tools), AS_TEXT);
    return Math.ceil(tokens * this.factor);
  }

  /** Estimated tokens of a piece of text (a tool result, a file), in the endpoint's tokens. */
  countText(text: string): number {
    return Math.ceil(countTokens(text, AS_TEXT) * this.factor);
  }

  /**
   * Learns from one request: `estimated` is what `count` returned for the prompt that was sent, `reported` the
   * endpoint's `usage.prompt_tokens` for it. The factor moves halfway towards the observed ratio each time (one
   * odd reply cannot swing it), within [0.5, 3]. Callers skip replies where the endpoint cut the prompt.
   */
  calibrate(estimated: number, reported: number): void {
    if (estimated <= 0 || reported <= 0) return;
    const observed = this.factor * (reported / estimated);
    const next = Math.sqrt(this.factor * observed);
    this.factor = Math.min(MAX_FACTOR, Math.max(MIN_FACTOR, next));
  }

  /** The current ratio of endpoint tokens to o200k tokens (1 until calibrated). */
  get calibration(): number {
    return this.factor;
  }
}
