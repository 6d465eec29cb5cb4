import { z } from 'zod';
import { TaskKindSchema } from '../../protocol/session-lifecycle.js';
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

const TaskRequestSchema = z.object({
  prompt: z.string(),
  kind: TaskKindSchema,
  path: z.string().optional(),
  range: LinesSchema.optional(),
  autoApprovePlan: z.boolean().optional(),
});

/**
 * What a session needs to go on from where it stopped, stored after every completed step: the model
 * conversation (plain data), the agent's changes to its shadow (path → text, null for a deletion — the changes,
 * never a copy of the tree), the loop's counters, the phase, and the task as asked (with whether its plan is
 * approved without asking). A session is rebuilt from this and the user's tree alone.
 */
export interface SessionCheckpoint {
  version: 1;
  phase: CheckpointPhase;
  /** Absent in checkpoints written before it was stored (all of the `working` phase). */
  request?: z.infer<typeof TaskRequestSchema> & { autoApprovePlan: boolean };
  transcript: TranscriptData;
  changes: [string, string | null][];
  turns: number;
  repairs: number;
  reviewed: boolean;
}

const CheckpointSchema = z.object({
  version: z.literal(1),
  // Checkpoints written before phases existed were all taken in the tool loop.
  phase: z.enum(['planning', 'awaitingPlanApproval', 'working']).default('working'),
  request: TaskRequestSchema.extend({ autoApprovePlan: z.boolean() }).optional(),
  transcript: z.looseObject({ version: z.literal(1), entries: z.array(z.unknown()) }),
  changes: z.array(z.tuple([z.string(), z.string().nullable()])),
  turns: z.number().int().nonnegative(),
  repairs: z.number().int().nonnegative(),
  reviewed: z.boolean(),
});

/** A stored checkpoint checked for its shape; null when there is none or it is not one this version can use. */
export function parseCheckpoint(stored: unknown): SessionCheckpoint | null {
  const parsed = CheckpointSchema.safeParse(stored);
  return parsed.success ? (parsed.data as unknown as SessionCheckpoint) : null;
}
