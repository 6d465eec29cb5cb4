import { z } from 'zod';
import type { TranscriptData } from './conversation/transcript.js';

/**
 * What a session needs to go on from where it stopped, stored after every completed step: the model
 * conversation (plain data), the agent's changes to its shadow (path → text, null for a deletion — the changes,
 * never a copy of the tree) and the loop's counters. A session is rebuilt from this and the user's tree alone.
 */
export interface SessionCheckpoint {
  version: 1;
  transcript: TranscriptData;
  changes: [string, string | null][];
  turns: number;
  repairs: number;
  reviewed: boolean;
}

const CheckpointSchema = z.object({
  version: z.literal(1),
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
