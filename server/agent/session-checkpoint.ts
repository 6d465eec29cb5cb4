import { z } from 'zod';
import type { ToolCallRecord, TranscriptData, TranscriptEntry } from './conversation/transcript.js';

/**
 * Where the work stood at a checkpoint:
 * - `planning`: the conversation ends with a request for a plan (an empty conversation: the session had not
 *   begun); going on asks for the plan again;
 * - `awaitingPlanApproval`: the conversation ends with the plan the user is asked to approve;
 * - `working`: the tool loop, at the top of a turn.
 */
export type CheckpointPhase = 'planning' | 'awaitingPlanApproval' | 'working';

/** The lines a task is about (only the lines are used, for its context). */
const LinesSchema = z.object({ start: z.object({ line: z.number().int() }), end: z.object({ line: z.number().int() }) });

/**
 * What the task asked beyond its prompt and kind (those are in the session's record, and a prompt may be a
 * megabyte: it is not repeated in every checkpoint): the file and lines it is about, and whether its plan is
 * approved without asking.
 */
const TaskContextSchema = z.object({
  path: z.string().optional(),
  range: LinesSchema.optional(),
  autoApprovePlan: z.boolean(),
});
export type TaskContext = z.infer<typeof TaskContextSchema>;

/**
 * Where a session stood after one model turn (or a planning step: see CheckpointPhase), stored at the top of the
 * next one: the model conversation (plain data), the files the agent changed in its shadow *since the previous
 * checkpoint* (path → text, null for a deletion — a turn's changes, never a copy of the tree) and the loop's
 * counters. The shadow at turn N is the user's tree with the changes of every checkpoint up to N written over it in
 * order (`foldCheckpoints`), which is how a session is resumed or rewound from disk alone.
 *
 * As stored (`storedCheckpoint`, version 3) the conversation is kept the same way, by what changed: only the
 * entries after those it shares with the checkpoint before, and without the session's prompt (a pasted log may be
 * a megabyte, and the session's record holds it) — so a turn stores what the turn added, not the whole
 * conversation again. Version 2 stored the whole conversation, version 1 also all the changes so far at each
 * checkpoint; folding reads both (a later text of a file replaces an earlier one), so those stay usable.
 */
export interface SessionCheckpoint {
  /** Read as `working` from checkpoints written before phases were stored (those were all taken in the tool loop). */
  phase: CheckpointPhase;
  /** See TaskContextSchema (absent in checkpoints from before it was stored). */
  request?: TaskContext;
  transcript: TranscriptData;
  changes: [string, string | null][];
  /** Model turns taken so far: the checkpoint's number (a rewind names it). */
  turns: number;
  repairs: number;
  reviewed: boolean;
}

/** Where a stored text held the session's prompt: the text is `rest` with the prompt put back at `promptAt`. */
const PromptCutSchema = z.object({ promptAt: z.number().int().nonnegative(), rest: z.string() });
type PromptCut = z.infer<typeof PromptCutSchema>;

const CheckpointSchema = z.object({
  version: z.union([z.literal(1), z.literal(2), z.literal(3)]),
  // Checkpoints written before phases existed were all taken in the tool loop.
  phase: z.enum(['planning', 'awaitingPlanApproval', 'working']).default('working'),
  request: TaskContextSchema.optional(),
  transcript: z.looseObject({
    version: z.literal(1),
    task: z.looseObject({ text: z.union([z.string(), PromptCutSchema]) }).optional(),
    entries: z.array(z.unknown()),
  }),
  /** Version 3: how many entries of the checkpoint before's conversation come before `transcript.entries`. */
  entriesKept: z.number().int().nonnegative().default(0),
  changes: z.array(z.tuple([z.string(), z.string().nullable()])),
  turns: z.number().int().nonnegative(),
  repairs: z.number().int().nonnegative(),
  reviewed: z.boolean(),
});
type StoredCheckpoint = z.infer<typeof CheckpointSchema>;

/** A stored checkpoint checked for its shape; null when there is none or it is not one this version can use. */
export function parseCheckpoint(stored: unknown): StoredCheckpoint | null {
  const parsed = CheckpointSchema.safeParse(stored);
  return parsed.success ? parsed.data : null;
}

/** Prompts shorter than this (characters) are stored where they occur: a reference would save nothing. */
const PROMPT_REFERENCE_CHARACTERS = 1024;

/**
 * `text` with the session's prompt cut out where the conversation puts it: at the end of the task's text, and so
 * inside any message that starts with the task's text (the task message, and the one a compaction rebuilds).
 * Compared, never searched for, so the cost is linear in the prompt's length.
 */
function cutPrompt(text: string, taskText: string, prompt: string): string | PromptCut {
  if (prompt.length < PROMPT_REFERENCE_CHARACTERS || !taskText.endsWith(prompt)) return text;
  if (text !== taskText && !text.startsWith(taskText)) return text;
  const promptAt = taskText.length - prompt.length;
  return { promptAt, rest: text.slice(0, promptAt) + text.slice(promptAt + prompt.length) };
}

function pastePrompt(stored: string | PromptCut, prompt: string): string {
  return typeof stored === 'string' ? stored : stored.rest.slice(0, stored.promptAt) + prompt + stored.rest.slice(stored.promptAt);
}

/**
 * A copy of a conversation's entries as they were stored, to tell later which ones changed: the conversation
 * appends entries, and elision changes old ones in place (a placeholder, shortened arguments), so each entry and
 * its tool calls are copied (their strings are shared, not copied).
 */
export type StoredEntries = readonly TranscriptEntry[];

export function snapshotEntries(entries: TranscriptEntry[]): StoredEntries {
  return entries.map((entry) => (entry.kind === 'assistant' ? { ...entry, toolCalls: entry.toolCalls.map((call) => ({ ...call })) } : { ...entry }));
}

function sameEntry(a: TranscriptEntry, b: TranscriptEntry): boolean {
  const fields = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const field of fields) {
    const x = (a as Record<string, unknown>)[field];
    const y = (b as Record<string, unknown>)[field];
    if (field !== 'toolCalls') {
      if (x !== y) return false;
      continue;
    }
    const [left, right] = [x as ToolCallRecord[], y as ToolCallRecord[]];
    if (left.length !== right.length || left.some((call, i) => call.id !== right[i].id || call.name !== right[i].name || call.arguments !== right[i].arguments)) return false;
  }
  return true;
}

/**
 * The checkpoint as stored (version 3, plain JSON): its conversation's entries after those it shares with
 * `before` (the entries of the checkpoint stored before it, as `snapshotEntries` copied them; empty for a
 * session's first), and the session's `prompt` cut out of the task and the messages that carry it.
 */
export function storedCheckpoint(checkpoint: SessionCheckpoint, before: StoredEntries, prompt: string): StoredCheckpoint {
  const { transcript } = checkpoint;
  let kept = 0;
  while (kept < before.length && kept < transcript.entries.length && sameEntry(transcript.entries[kept], before[kept])) kept++;
  const taskText = transcript.task.text;
  const entries = transcript.entries.slice(kept).map((entry) => (entry.kind === 'user' ? { ...entry, text: cutPrompt(entry.text, taskText, prompt) } : entry));
  return {
    version: 3, phase: checkpoint.phase, request: checkpoint.request,
    transcript: { ...transcript, task: { ...transcript.task, text: cutPrompt(taskText, taskText, prompt) }, entries },
    entriesKept: kept, changes: checkpoint.changes, turns: checkpoint.turns, repairs: checkpoint.repairs, reviewed: checkpoint.reviewed,
  };
}

/** The agent's changes to its shadow: path → text, null for a deleted file. */
export type ShadowChanges = Map<string, string | null>;

/**
 * A session's checkpoints (oldest first, as stored) folded into where the newest leaves it, with the session's
 * `prompt` put back: that checkpoint with `changes` holding every change up to it and its whole conversation;
 * `before`, the shadow's changes as of the checkpoint before it (what the next checkpoint at the same turn is
 * measured against), and `entriesBefore`, that checkpoint's conversation entries. Null when there is none, or one
 * cannot be read (or keeps more entries than the one before it had).
 */
export function foldCheckpoints(stored: unknown[], prompt: string): { checkpoint: SessionCheckpoint; before: ShadowChanges; entriesBefore: StoredEntries } | null {
  const checkpoints = stored.map(parseCheckpoint);
  if (!checkpoints.length || checkpoints.some((checkpoint) => checkpoint === null)) return null;
  const changes: ShadowChanges = new Map();
  let before: ShadowChanges = new Map();
  let entries: TranscriptEntry[] = [];
  let entriesBefore: TranscriptEntry[] = [];
  for (const checkpoint of checkpoints as StoredCheckpoint[]) {
    if (checkpoint.entriesKept > entries.length) return null;
    before = new Map(changes);
    for (const [relative, text] of checkpoint.changes) changes.set(relative, text);
    entriesBefore = entries;
    const own = (checkpoint.transcript.entries as TranscriptEntry[]).map((entry) => (entry.kind === 'user' ? { ...entry, text: pastePrompt(entry.text as string | PromptCut, prompt) } : entry));
    entries = [...entries.slice(0, checkpoint.entriesKept), ...own];
  }
  const newest = checkpoints.at(-1)!;
  const { task, ...transcript } = newest.transcript;
  const data = { ...transcript, ...(task ? { task: { ...task, text: pastePrompt(task.text, prompt) } } : {}), entries } as unknown as TranscriptData;
  return {
    checkpoint: { phase: newest.phase, request: newest.request, transcript: data, changes: [...changes], turns: newest.turns, repairs: newest.repairs, reviewed: newest.reviewed },
    before,
    entriesBefore: snapshotEntries(entriesBefore),
  };
}

/** The files whose text in `now` differs from `base` (added, changed or deleted since), as a checkpoint stores them. */
export function changesSince(base: ShadowChanges, now: ShadowChanges): [string, string | null][] {
  return [...now].filter(([relative, text]) => base.get(relative) !== text);
}

