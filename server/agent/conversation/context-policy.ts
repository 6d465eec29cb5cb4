import type { AgentConfig } from '../../../protocol/config.js';
import { capText } from '../../tools/tool-output.js';
import { compactionAnchor } from '../prompts.js';
import { newestTurnsStart, type ToolCallRecord, type TranscriptData, type TranscriptEntry } from './transcript.js';

/**
 * The thresholds of the context policy (`agent.context` in the config), as shares of the model's context
 * window: old tool results are elided past `elideAt`, the conversation is compacted past `compactAt`, and no
 * request is sent above `maxRequestShare`.
 */
export type ContextSettings = AgentConfig['context'];

/** ≈ characters per token, to turn token shares of the window into character limits. */
const CHARACTERS_PER_TOKEN = 4;
/** One tool output never takes more than this, however large the window (the old fixed cap). */
const MAX_TOOL_OUTPUT_CHARACTERS = 12_000;
const MAX_REPO_MAP_TOKENS = 1500;
/** Outputs and arguments this short are kept when eliding: a placeholder would not be much shorter. */
const ELIDE_MIN_CHARACTERS = 300;
const ELIDE_ARGUMENTS_MIN_CHARACTERS = 600;
/** Lines of the mechanical tool-call log kept in the state anchor (the newest). */
const LOG_LINES = 60;

/** Characters one tool output may take: 15 % of the window, at most 12 000. */
export function toolOutputLimit(windowTokens: number): number {
  return Math.floor(Math.min(MAX_TOOL_OUTPUT_CHARACTERS, 0.15 * windowTokens * CHARACTERS_PER_TOKEN));
}

/** Tokens of repository map sent with the task: 5 % of the window, at most 1500. */
export function repoMapTokens(windowTokens: number): number {
  return Math.floor(Math.min(MAX_REPO_MAP_TOKENS, 0.05 * windowTokens));
}

/**
 * How hard each compaction level shrinks: newest model turns kept verbatim, the share of the window the diff
 * and each kept tool output may take (null: as they are), and whether the task's workspace context (repository
 * map) is kept. A context-overflow error moves to the next level; past the last, nothing can shrink further.
 */
export const COMPACTION_LEVELS = [
  { keepTurns: 2, diffShare: 0.15, outputShare: null, taskContext: true },
  { keepTurns: 1, diffShare: 0.1, outputShare: 0.08, taskContext: false },
  { keepTurns: 1, diffShare: 0.05, outputShare: 0.03, taskContext: false },
  { keepTurns: 0, diffShare: 0.02, outputShare: 0, taskContext: false },
] as const;

/** What the one-line placeholder of an elided tool result says: what was read or run, and how to get it again. */
export function placeholderFor(result: Extract<TranscriptEntry, { kind: 'toolResult' }>): string {
  const firstLine = result.output.split('\n', 1)[0].slice(0, 120);
  const lines = result.output.split('\n').length;
  const again = result.name === 'read_file'
    ? `read_file ${result.arguments} shows the file as it is now`
    : `read_output {"id":${JSON.stringify(result.callId)}} shows this output again`;
  return `[elided to save context: ${result.name} ${capText(result.arguments, 200)} gave ${lines} lines, starting "${firstLine}"; ${again}]`;
}

/** A long argument text (an edit's whole content) shortened to its path and what it was. */
export function shortenedArguments(call: ToolCallRecord): string {
  let target: unknown;
  try {
    target = (JSON.parse(call.arguments) as { path?: unknown }).path;
  } catch {
    target = undefined;
  }
  return JSON.stringify({
    ...(typeof target === 'string' ? { path: target } : {}),
    elided: `${call.arguments.length} characters of arguments, elided to save context; their effect is in the workspace`,
  });
}

/** One line per tool call (name, arguments, first line of the result): the summary used when the model's fails. */
export function toolCallLog(entries: TranscriptEntry[]): string[] {
  const results = new Map<string, string>();
  for (const entry of entries) if (entry.kind === 'toolResult') results.set(entry.callId, entry.output.split('\n', 1)[0]);
  return entries.flatMap((entry) => entry.kind !== 'assistant' ? [] : entry.toolCalls.map((call) =>
    `- ${call.name} ${capText(call.arguments, 120)} → ${capText(results.get(call.id) ?? '(no result)', 120)}`));
}

/**
 * Elides tool results and long tool-call arguments, oldest first, outside the newest model turn, until about
 * `tokensToSave` tokens are saved. Returns the tokens saved (estimated from the characters removed).
 * Elision is sticky: an elided entry stays elided, so the start of the conversation stays stable.
 */
export function elideOldest(entries: TranscriptEntry[], tokensToSave: number): number {
  const end = newestTurnsStart(entries, 1);
  let saved = 0;
  for (let i = 0; i < end && saved < tokensToSave * CHARACTERS_PER_TOKEN; i++) {
    const entry = entries[i];
    if (entry.kind === 'toolResult' && entry.placeholder === undefined && entry.output.length > ELIDE_MIN_CHARACTERS) {
      entry.placeholder = placeholderFor(entry);
      saved += entry.output.length - entry.placeholder.length;
    } else if (entry.kind === 'assistant') {
      for (const call of entry.toolCalls) {
        if (call.arguments.length <= ELIDE_ARGUMENTS_MIN_CHARACTERS) continue;
        const shorter = shortenedArguments(call);
        saved += call.arguments.length - shorter.length;
        call.arguments = shorter;
      }
    }
  }
  return Math.floor(saved / CHARACTERS_PER_TOKEN);
}

/** What a compaction needs besides the transcript: the model's summary (null when it could not be had), the diff. */
export interface CompactionInputs {
  summary: string | null;
  diff: string;
  windowTokens: number;
}

/**
 * The conversation rebuilt from ground truth at a compaction level: the system prompt, the task, one state
 * anchor (plan, summary of findings, log of tool calls, the workspace's current diff, the last test run, all
 * bounded), then the newest turns verbatim. Returns the new entries and the log lines of the turns dropped.
 */
export function compactedEntries(data: TranscriptData, level: number, inputs: CompactionInputs): { entries: TranscriptEntry[]; droppedLog: string[] } {
  const shape = COMPACTION_LEVELS[level];
  const characters = (share: number) => Math.floor(share * inputs.windowTokens * CHARACTERS_PER_TOKEN);
  const keepFrom = newestTurnsStart(data.entries, shape.keepTurns);
  const dropped = data.entries.slice(0, keepFrom);
  const droppedLog = toolCallLog(dropped);
  const kept = data.entries.slice(keepFrom).map((entry): TranscriptEntry => {
    if (entry.kind !== 'toolResult' || shape.outputShare === null) return { ...entry };
    return { ...entry, output: capText(entry.placeholder ?? entry.output, characters(shape.outputShare)), placeholder: undefined };
  });
  const system = data.entries.find((entry) => entry.kind === 'system');
  const task = shape.taskContext && data.task.context ? `${data.task.text}\n\n${data.task.context}` : data.task.text;
  const anchor = compactionAnchor({
    compaction: data.compactions + 1,
    plan: data.plan,
    summary: inputs.summary,
    log: [...data.log, ...droppedLog].slice(-LOG_LINES).join('\n'),
    diff: capText(inputs.diff, characters(shape.diffShare)),
    lastTest: data.lastTest === null ? null : capText(data.lastTest, characters(shape.diffShare)),
  });
  return {
    // Task and anchor in one message: some local chat templates refuse two user messages in a row.
    entries: [...(system ? [system] : []), { kind: 'user', text: `${task}\n\n${anchor}` }, ...kept],
    droppedLog,
  };
}
