import type { ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import { WorkerThread } from '../threads/worker-thread.js';
import { countO200kTokens } from './o200k-count.js';

/** Counts on the process's tokenizer thread (token-count-worker.ts): BPE over a long conversation takes 0.3–0.8 s. */
const tokenizer = new WorkerThread<string[], number[]>(new URL('./token-count-worker.js', import.meta.url), (texts) => texts.map(countO200kTokens));

/**
 * Tokens a chat message costs beyond its text (role and separators), and the tokens that prime the reply:
 * OpenAI's published counting recipe for chat models (3 per message, 3 for the reply); local chat templates
 * spend a few more, which calibration absorbs.
 */
const PER_MESSAGE = 4;
const PER_REPLY = 3;
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

  /**
   * Estimated prompt tokens for these messages plus tool specifications, in the endpoint's tokens. Counted on
   * the tokenizer thread (the main thread only joins the texts), so a long conversation delays no other editor.
   */
  async count(messages: readonly ChatCompletionMessageParam[], tools: readonly ChatCompletionTool[] = []): Promise<number> {
    const factor = this.factor;
    const texts = messages.map(messageText);
    if (tools.length) texts.push(JSON.stringify(tools));
    const counts = await tokenizer.run(texts);
    let tokens = PER_REPLY;
    for (let i = 0; i < messages.length; i++) tokens += PER_MESSAGE + counts[i];
    if (tools.length) tokens += counts[messages.length];
    return Math.ceil(tokens * factor);
  }

  /** Estimated tokens of a piece of text (a tool result, a file), in the endpoint's tokens. */
  async countText(text: string): Promise<number> {
    const factor = this.factor;
    const [tokens] = await tokenizer.run([text]);
    return Math.ceil(tokens * factor);
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
