import { z } from 'zod';

/**
 * A session's lifecycle as one declared table: every state, every event, and which event moves which state
 * where. The agent service changes a session's state only through `nextSessionState` (then persists, then
 * announces); anything the table does not list is refused.
 *
 * - `finished`: the work ended with nothing to change (an explanation, or a task that needed no edit).
 * - `interrupted`: the work stopped part-way (the daemon stopped under it, or the user paused it) and can be
 *   resumed from its last checkpoint. A rewind also leaves a session here: it waits at the turn it was rewound
 *   to until the user resumes it (a rewound session never goes on by itself).
 * - `reverted`: an applied proposal was undone in the user's files (the inverse edit).
 * - `applied` / `rejected` / `cancelled` / `failed` / `finished` / `reverted` end the work; of them only
 *   `applied` has a way on (revert).
 */
export const SessionStateSchema = z.enum([
  'planning', 'awaitingPlanApproval', 'working', 'testing', 'awaitingApproval', 'interrupted',
  'applied', 'rejected', 'cancelled', 'failed', 'finished', 'reverted',
]);
export type SessionState = z.infer<typeof SessionStateSchema>;

/** What can happen to a session; each names its cause, not its target state. */
export const SessionTransitionEventSchema = z.enum([
  /** The model wrote a plan and the user must approve it. */
  'planProposed',
  /** The plan was approved (by the user, or automatically) and the tools start. */
  'planApproved',
  /** The agent said it is done and the tests run. */
  'testsStarted',
  /** The tests failed and the model repairs. */
  'repairStarted',
  /** The user sent a message (or paused) while the tests ran: the model hears it before anything is proposed. */
  'steeredAfterTests',
  /** The shadow's changes are ready for the user. */
  'proposalReady',
  /** The work ended with nothing to change. */
  'finishedWithoutChanges',
  /** The user applied the proposal. */
  'applied',
  /** The user rejected the plan or the proposal without feedback. */
  'rejected',
  /** The user rejected the plan or the proposal with feedback: back to planning, or to work. */
  'feedbackGiven',
  /** The user cancelled. */
  'cancelled',
  /** An error ended the session. */
  'failed',
  /** The work stopped part-way: the daemon stopped under it, or the user paused it. */
  'interrupted',
  /** The user resumed an interrupted session that had been working. */
  'resumed',
  /** The user resumed an interrupted session that was still writing its plan: it plans again from there. */
  'planningResumed',
  /** The user rewound the session to an earlier turn: its shadow and conversation are as they were then. */
  'rewound',
  /** The user reverted an applied proposal: the inverse edit is in their files. */
  'reverted',
]);
export type SessionTransitionEvent = z.infer<typeof SessionTransitionEventSchema>;

type TransitionTable = Record<SessionState, Partial<Record<SessionTransitionEvent, SessionState>>>;

const ENDINGS = { cancelled: 'cancelled', failed: 'failed', interrupted: 'interrupted' } as const;

/** states × events → state. A missing entry is a refused transition. */
export const sessionTransitions: TransitionTable = {
  planning: { planProposed: 'awaitingPlanApproval', planApproved: 'working', ...ENDINGS },
  awaitingPlanApproval: { planApproved: 'working', rejected: 'rejected', feedbackGiven: 'planning', ...ENDINGS },
  working: { testsStarted: 'testing', proposalReady: 'awaitingApproval', finishedWithoutChanges: 'finished', ...ENDINGS },
  testing: { repairStarted: 'working', steeredAfterTests: 'working', proposalReady: 'awaitingApproval', finishedWithoutChanges: 'finished', ...ENDINGS },
  awaitingApproval: { applied: 'applied', rejected: 'rejected', feedbackGiven: 'working', cancelled: 'cancelled', rewound: 'interrupted' },
  interrupted: { resumed: 'working', planningResumed: 'planning', cancelled: 'cancelled', failed: 'failed', rewound: 'interrupted' },
  applied: { reverted: 'reverted' },
  rejected: {},
  cancelled: {},
  failed: {},
  finished: {},
  reverted: {},
};

/**
 * States in which the session's work has ended: nothing runs, nothing waits for a decision. All but `applied`
 * are never left; an applied proposal can still be reverted (which changes the user's files, not the work).
 */
export const FINAL_SESSION_STATES: ReadonlySet<SessionState> = new Set(['applied', 'rejected', 'cancelled', 'failed', 'finished', 'reverted']);

/** States in which a session waits for the user. */
export const WAITING_SESSION_STATES: ReadonlySet<SessionState> = new Set(['awaitingPlanApproval', 'awaitingApproval', 'interrupted']);

/** The state `event` leads to from `state`, or null when the table refuses it. */
export function nextSessionState(state: SessionState, event: SessionTransitionEvent): SessionState | null {
  return sessionTransitions[state][event] ?? null;
}

/** What a task asks for; it picks the prompt and the code action that starts it. */
export const TaskKindSchema = z.enum(['fixDiagnostic', 'writeTests', 'explain', 'refactor', 'commentTask', 'prompt']);
export type TaskKind = z.infer<typeof TaskKindSchema>;

/** Kinds of entry in a session's transcript (stored, and announced in `codeloop/sessionUpdate`). */
export const SessionEventTypeSchema = z.enum(['plan', 'message', 'toolCall', 'toolResult', 'testRun', 'proposal', 'done', 'error']);

/** One transcript entry: `seq` orders a session's events from 1; `at` is an ISO 8601 time. */
export const SessionEventSchema = z.object({
  seq: z.number().int().positive(),
  type: SessionEventTypeSchema,
  data: z.unknown(),
  at: z.string(),
});
export type SessionEvent = z.infer<typeof SessionEventSchema>;

/** How a file's bytes are text (server/workspace/file-encoding.ts decides it): the encoding and whether a BOM leads. */
export const FileEncodingSchema = z.object({ name: z.enum(['utf8', 'utf16le', 'utf16be', 'latin1']), bom: z.boolean() });

/**
 * One file a proposal changes: its text when the session started (null: created) and after (null: deleted);
 * `encoding` is how `after` is written to disk (the file's own; absent means UTF-8 without BOM).
 */
export const ProposedFileSchema = z.object({
  path: z.string(),
  before: z.string().nullable(),
  after: z.string().nullable(),
  encoding: FileEncodingSchema.optional(),
});
export type ProposedFile = z.infer<typeof ProposedFileSchema>;

/** Everything stored about a session. Token counts are the endpoint's `usage` (or an estimate); cost in US dollars. */
export const SessionRecordSchema = z.object({
  sessionId: z.string(),
  root: z.string(),
  state: SessionStateSchema,
  prompt: z.string(),
  kind: TaskKindSchema,
  plan: z.string().nullable(),
  summary: z.string().nullable(),
  /** Why the session failed, or the caveat of its proposal (e.g. the tests still fail). */
  error: z.string().nullable(),
  proposal: z.array(ProposedFileSchema).nullable(),
  diff: z.string().nullable(),
  promptTokens: z.number().int().nonnegative(),
  completionTokens: z.number().int().nonnegative(),
  costUsd: z.number().nonnegative(),
  createdAt: z.string(),
  updatedAt: z.string(),
  /** The process running the session (several processes — daemon, `codeloop run` — share the store). */
  ownerPid: z.number().int(),
});
export type SessionRecord = z.infer<typeof SessionRecordSchema>;

/**
 * One point a session can be rewound to: the state after model turn `turn` (its tool calls done), with the
 * files that turn changed in the session's workspace (empty: a turn that only read or ran things). `at` is an
 * ISO 8601 time.
 */
export const CheckpointSummarySchema = z.object({
  turn: z.number().int().nonnegative(),
  files: z.array(z.string()),
  at: z.string(),
});
export type CheckpointSummary = z.infer<typeof CheckpointSummarySchema>;

/** `codeloop/getSession`'s answer: the record, its whole transcript and the turns it can be rewound to. */
export const SessionDetailSchema = SessionRecordSchema.extend({ events: z.array(SessionEventSchema), checkpoints: z.array(CheckpointSummarySchema) });
