import { z } from 'zod';
import type { TranscriptData } from './conversation/transcript.js';

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
 * Where a session stood after one model turn (or a planning step: see CheckpointPhase), stored at the top of the next one: the model conversation (plain
 * data), the files the agent changed in its shadow *since the previous checkpoint* (path → text, null for a
 * deletion — a turn's changes, never a copy of the tree) and the loop's counters. The shadow at turn N is the
 * user's tree with the changes of every checkpoint up to N written over it in order (`foldCheckpoints`), which is
 * how a session is resumed or rewound from disk alone.
 *
 * Version 1 stored all the changes so far at each checkpoint; folding reads it the same way (a later text of a
 * file replaces an earlier one), so those checkpoints stay usable.
 */
export interface SessionCheckpoint {
  version: 2;
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

const CheckpointSchema = z.object({
  version: z.union([z.literal(1), z.literal(2)]),
  // Checkpoints written before phases existed were all taken in the tool loop.
  phase: z.enum(['planning', 'awaitingPlanApproval', 'working']).default('working'),
  request: TaskContextSchema.optional(),
  transcript: z.looseObject({ version: z.literal(1), entries: z.array(z.unknown()) }),
  changes: z.array(z.tuple([z.string(), z.string().nullable()])),
  turns: z.number().int().nonnegative(),
  repairs: z.number().int().nonnegative(),
  reviewed: z.boolean(),
});

/** A stored checkpoint checked for its shape; null when there is none or it is not one this version can use. */
export function parseCheckpoint(stored: unknown): SessionCheckpoint | null {
  const parsed = CheckpointSchema.safeParse(stored);
  return parsed.success ? ({ ...parsed.data, version: 2 } as unknown as SessionCheckpoint) : null;
}

/** The agent's changes to its shadow: path → text, null for a deleted file. */
export type ShadowChanges = Map<string, string | null>;

/**
 * A session's checkpoints (oldest first) folded into where the newest leaves it: that checkpoint with `changes`
 * holding every change up to it, and `before`, the shadow's changes as of the checkpoint before it (what the next
 * checkpoint at the same turn is measured against). Null when there is none, or one cannot be read.
 */
export function foldCheckpoints(stored: unknown[]): { checkpoint: SessionCheckpoint; before: ShadowChanges } | null {
  const checkpoints = stored.map(parseCheckpoint);
  if (!checkpoints.length || checkpoints.some((checkpoint) => checkpoint === null)) return null;
  const before: ShadowChanges = new Map();
  for (const checkpoint of checkpoints.slice(0, -1)) for (const [relative, text] of checkpoint!.changes) before.set(relative, text);
  const all = new Map(before);
  const newest = checkpoints.at(-1)!;
  for (const [relative, text] of newest.changes) all.set(relative, text);
  return { checkpoint: { ...newest, changes: [...all] }, before };
}

/** The files whose text in `now` differs from `base` (added, changed or deleted since), as a checkpoint stores them. */
export function changesSince(base: ShadowChanges, now: ShadowChanges): [string, string | null][] {
  return [...now].filter(([relative, text]) => base.get(relative) !== text);
}

