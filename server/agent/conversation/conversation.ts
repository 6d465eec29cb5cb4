import type { ChatCompletionMessage, ChatCompletionTool } from 'openai/resources/chat/completions';
import { CodeloopError } from '../../errors.js';
import { SUMMARY_REQUEST } from '../prompts.js';
import { COMPACTION_LEVELS, compactedEntries, elideOldest, repoMapTokens, toolOutputLimit, type ContextSettings } from './context-policy.js';
import { toMessages, type ModelRequest } from './request-builder.js';
import { emptyTranscript, type ToolCallRecord, type TranscriptData, type TranscriptEntry } from './transcript.js';

/** What the conversation asks of the session that owns it. */
export interface ConversationHost {
  /** One model call for a summary of findings; null when it failed (the conversation then uses its tool-call log). */
  summarise(request: ModelRequest): Promise<string | null>;
  /** The shadow workspace's current diff against the user's files. */
  currentDiff(): Promise<string>;
  /** Told after each compaction (for the session's events). Token counts are estimates of the request size. */
  compacted(report: CompactionReport): void;
}

/**
 * Counts the prompt tokens a request will take at the endpoint (the model client's calibrated counter, which
 * counts on its own thread: hence a promise).
 */
export type RequestTokenCounter = (request: ModelRequest) => Promise<number>;

export interface CompactionReport {
  compaction: number;
  level: number;
  reason: 'threshold' | 'overflow';
  tokensBefore: number;
  tokensAfter: number;
  summary: 'model' | 'tool-call log';
}

/** Longest summary kept from the model (characters): the anchor must stay small. */
const MAX_SUMMARY_CHARACTERS = 2000;
/** After an overflow the window is taken to be at most this share of the request that overflowed. */
const OVERFLOW_WINDOW_SHARE = 0.9;
const LAST_LEVEL = COMPACTION_LEVELS.length - 1;
/**
 * Past `compactAt`, the conversation is compacted again only once it has grown by this share of the window
 * since the last compaction: a compaction costs a model call, and one that could not shrink below the
 * threshold (a large task or newest turn) must not repeat on every turn.
 */
const COMPACTION_GROWTH_SHARE = 0.25;

/**
 * The model conversation of one session: holds the transcript, applies the context policy (elide, compact,
 * recover from overflow) and produces the next request. The agent loop hands it replies and tool results.
 */
export class Conversation {
  readonly data: TranscriptData;
  /** The level the next compaction uses (raised by overflows, never lowered). */
  private level = 0;
  /** Set by an overflow: the next request is compacted whatever its size. */
  private forceCompaction = false;
  /** Size and compaction level of the last request produced (the level is null when it was not compacted). */
  private lastRequest: { tokens: number; compactedAt: number | null } = { tokens: 0, compactedAt: null };
  /** Tokens of the request right after the last compaction (null before any). */
  private sizeAfterCompaction: number | null = null;

  constructor(
    private readonly settings: ContextSettings,
    private readonly host: ConversationHost,
    private readonly countTokens: RequestTokenCounter,
    data: TranscriptData = emptyTranscript(),
  ) {
    this.data = data;
  }

  private get windowTokens(): number {
    return this.data.windowTokens;
  }

  /** The context window the policy works with (tokens); it shrinks when the endpoint reports an overflow. */
  get window(): number {
    return this.windowTokens;
  }

  /** Characters one tool output may take in this conversation. */
  get toolOutputLimit(): number {
    return toolOutputLimit(this.windowTokens);
  }

  /** Tokens of repository map the task message may carry. */
  get repoMapTokens(): number {
    return repoMapTokens(this.windowTokens);
  }

  /**
   * Opens the conversation for a model with this context window (tokens): the system prompt and the task
   * (`context`, e.g. the repository map, is what compaction drops first).
   */
  begin(windowTokens: number, system: string, task: string, context: string): void {
    this.data.windowTokens = windowTokens;
    this.data.task = { text: task, context };
    this.push({ kind: 'system', text: system }, { kind: 'user', text: `${task}\n\n${context}` });
  }

  say(text: string): void {
    this.push({ kind: 'user', text });
  }

  /** Records the approved plan (it anchors every compaction). */
  planApproved(plan: string, message: string): void {
    this.data.plan = plan;
    this.say(message);
  }

  /** Takes the model's answer into the transcript; returns its text and tool calls as plain data. */
  reply(message: ChatCompletionMessage): { text: string | null; toolCalls: ToolCallRecord[] } {
    const toolCalls = (message.tool_calls ?? []).flatMap((call) => call.type === 'function'
      ? [{ id: call.id, name: call.function.name, arguments: call.function.arguments }] : []);
    const text = message.content ?? null;
    this.push({ kind: 'assistant', text, toolCalls });
    return { text, toolCalls };
  }

  /**
   * The answer to one tool call. When the tool shortened its output, the model is told the full output is kept
   * and how to read it.
   */
  toolResult(call: ToolCallRecord, outcome: { output: string; full?: string }): void {
    const note = outcome.full === undefined ? ''
      : `\n[shortened from ${outcome.full.split('\n').length} lines; the full output: read_output {"id":${JSON.stringify(call.id)}}]`;
    this.push({ kind: 'toolResult', callId: call.id, name: call.name, arguments: call.arguments, output: `${outcome.output}${note}` });
  }

  /** Remembers the latest test run as the model saw it (for the state anchor). */
  testRun(text: string): void {
    this.data.lastTest = text;
  }

  /** A request outside the conversation (e.g. the reviewer's), in the same message format. */
  standalone(system: string, text: string): ModelRequest {
    return { messages: toMessages([{ kind: 'system', text: system }, { kind: 'user', text }]), tools: [] };
  }

  /**
   * The next request, made to fit: old tool results elided past `elideAt` of the window, the conversation
   * compacted past `compactAt` (or after an overflow), harder until it is under `maxRequestShare`.
   * Throws a CodeloopError when even the hardest compaction does not fit.
   */
  async next(tools: ChatCompletionTool[]): Promise<ModelRequest> {
    let tokens = await this.measure(tools);
    if (tokens > this.settings.elideAt * this.windowTokens) {
      // Down to well under the threshold in one go, so elision happens rarely and the prefix stays stable.
      tokens -= elideOldest(this.data.entries, tokens - 0.6 * this.settings.elideAt * this.windowTokens);
      tokens = await this.measure(tools);
    }
    let compactedAt: number | null = null;
    const limit = Math.floor(this.settings.maxRequestShare * this.windowTokens);
    const grown = this.sizeAfterCompaction === null || tokens - this.sizeAfterCompaction >= COMPACTION_GROWTH_SHARE * this.windowTokens;
    if (this.forceCompaction || tokens > limit || (grown && tokens > this.settings.compactAt * this.windowTokens)) {
      compactedAt = await this.compact(tools, tokens);
      tokens = await this.measure(tools);
      this.sizeAfterCompaction = tokens;
    }
    if (tokens > limit) {
      throw new CodeloopError('invalidConfig', `the conversation does not fit the model's context window of ${this.windowTokens} tokens even compacted `
        + `(${tokens} tokens; at most ${limit} are sent); set model.contextWindow if the window is larger, or use a model with a larger window`);
    }
    this.lastRequest = { tokens, compactedAt };
    return { messages: toMessages(this.data.entries), tools };
  }

  /** The endpoint turned out to have a smaller window (it said so, or cut a prompt): the policy works within it. */
  narrowWindow(tokens: number): void {
    this.data.windowTokens = Math.min(this.windowTokens, tokens);
  }

  /**
   * After the endpoint refused the last request as too long: the window is taken to be smaller than that
   * request, and the next one is compacted one level harder. False when the last request was already
   * compacted as hard as it can be.
   */
  overflowed(): boolean {
    if (this.lastRequest.compactedAt === LAST_LEVEL) return false;
    this.data.windowTokens = Math.min(this.windowTokens, Math.floor(this.lastRequest.tokens * OVERFLOW_WINDOW_SHARE));
    if (this.lastRequest.compactedAt !== null) this.level = Math.max(this.level, this.lastRequest.compactedAt + 1);
    this.forceCompaction = true;
    return true;
  }

  /** The transcript as stored (plain JSON). */
  toJSON(): TranscriptData {
    return this.data;
  }

  private push(...entries: TranscriptEntry[]): void {
    this.data.entries.push(...entries);
  }

  private measure(tools: ChatCompletionTool[]): Promise<number> {
    return this.countTokens({ messages: toMessages(this.data.entries), tools });
  }

  /** Compacts at the current level, harder while the result is over the request limit; returns the level used. */
  private async compact(tools: ChatCompletionTool[], tokensBefore: number): Promise<number> {
    const reason = this.forceCompaction ? 'overflow' : 'threshold';
    this.forceCompaction = false;
    const summary = await this.summary(tools);
    const diff = await this.host.currentDiff();
    const limit = this.settings.maxRequestShare * this.windowTokens;
    let level = this.level;
    let rebuilt = compactedEntries(this.data, level, { summary, diff, windowTokens: this.windowTokens });
    while (level < LAST_LEVEL && await this.countTokens({ messages: toMessages(rebuilt.entries), tools }) > limit) {
      rebuilt = compactedEntries(this.data, ++level, { summary, diff, windowTokens: this.windowTokens });
    }
    this.data.entries = rebuilt.entries;
    this.data.log.push(...rebuilt.droppedLog);
    this.data.summary = summary;
    this.data.compactions++;
    this.level = level;
    this.host.compacted({
      compaction: this.data.compactions, level, reason, tokensBefore,
      tokensAfter: await this.measure(tools), summary: summary === null ? 'tool-call log' : 'model',
    });
    return level;
  }

  /**
   * The model's summary of findings: the conversation as it stands (or, when that is too long, as the first
   * compaction level would rebuild it) with a request to summarise. Null when no form fits or the call fails.
   */
  private async summary(tools: ChatCompletionTool[]): Promise<string | null> {
    const limit = this.settings.maxRequestShare * this.windowTokens;
    const ask = { kind: 'user' as const, text: SUMMARY_REQUEST };
    const candidates = [
      [...this.data.entries, ask],
      ...COMPACTION_LEVELS.map((_shape, level) => [...compactedEntries(this.data, level, { summary: this.data.summary, diff: '', windowTokens: this.windowTokens }).entries, ask]),
    ];
    // Measured with the tools, as the real requests are: a summary request must fit wherever they do.
    let fitting: TranscriptEntry[] | undefined;
    for (const entries of candidates) {
      if (await this.countTokens({ messages: toMessages(entries), tools }) > limit) continue;
      fitting = entries;
      break;
    }
    if (!fitting) return null;
    const text = (await this.host.summarise({ messages: toMessages(fitting), tools: [] }))?.trim();
    return text ? text.slice(0, MAX_SUMMARY_CHARACTERS) : null;
  }
}
