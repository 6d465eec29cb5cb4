/**
 * The conversation with the model as plain, JSON-serialisable data: what was said, in order, independent of any
 * SDK's message classes, so it can be stored and a session resumed from it.
 */

/** One tool call the model made. `arguments` is the JSON text as the model sent it. */
export interface ToolCallRecord {
  id: string;
  name: string;
  arguments: string;
}

/**
 * One entry of the transcript.
 * - `system`: the standing instructions;
 * - `user`: a message from codeloop to the model (task, plan request, test failure, correction…);
 * - `assistant`: the model's answer: text and/or tool calls;
 * - `toolResult`: the answer to one tool call. `output` is what the model saw first (already capped at the
 *   source); `placeholder`, once set, replaces it in requests (the output is elided, the entry kept).
 */
export type TranscriptEntry =
  | { kind: 'system'; text: string }
  | { kind: 'user'; text: string }
  | { kind: 'assistant'; text: string | null; toolCalls: ToolCallRecord[] }
  | { kind: 'toolResult'; callId: string; name: string; arguments: string; output: string; placeholder?: string };

/** The transcript and the anchors compaction rebuilds from. Version 1; every field is plain JSON. */
export interface TranscriptData {
  version: 1;
  /** The model's context window in tokens as the policy uses it (0 until the conversation begins; an overflow lowers it). */
  windowTokens: number;
  /** The task as given (instruction and prompt) and the workspace context sent with it (repository map, …). */
  task: { text: string; context: string };
  /** The approved plan, once there is one. */
  plan: string | null;
  /** The latest test run as the model saw it, for the state anchor. */
  lastTest: string | null;
  /** How often the conversation was compacted, and the latest summary of findings it was rebuilt with. */
  compactions: number;
  summary: string | null;
  /** One line per tool call that compaction removed from `entries` (name, arguments, first line of the result). */
  log: string[];
  entries: TranscriptEntry[];
}

export function emptyTranscript(): TranscriptData {
  return { version: 1, windowTokens: 0, task: { text: '', context: '' }, plan: null, lastTest: null, compactions: 0, summary: null, log: [], entries: [] };
}

/** Index of the first entry of the newest `turns` model turns (a turn: an assistant entry and what follows it). */
export function newestTurnsStart(entries: TranscriptEntry[], turns: number): number {
  if (turns <= 0) return entries.length;
  let seen = 0;
  for (let i = entries.length - 1; i >= 0; i--) {
    if (entries[i].kind === 'assistant' && ++seen === turns) return i;
  }
  const first = entries.findIndex((entry) => entry.kind === 'assistant');
  return first === -1 ? entries.length : first;
}
