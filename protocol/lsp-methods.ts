import { z } from 'zod';
import { LIMITS, overLimit } from './limits.js';
import { CliIndexParamsSchema, CliIndexResultSchema, CliSearchParamsSchema, IndexProblemSchema, IndexStatusSchema, SearchModeSchema, SearchResultSchema } from './search.js';
import { SessionDetailSchema, SessionEventTypeSchema, SessionStateSchema, TaskKindSchema } from './session-lifecycle.js';

/**
 * Every `codeloop/*` method, notification and command: the single source of truth for the daemon's handlers,
 * the editor clients and the protocol reference (protocol/REFERENCE.md is checked against these maps).
 */

const PositionSchema = z.object({ line: z.number().int().nonnegative(), character: z.number().int().nonnegative() });
export const RangeSchema = z.object({ start: PositionSchema, end: PositionSchema });

export { TaskKindSchema, type TaskKind } from './session-lifecycle.js';

export { SessionStateSchema, type SessionState } from './session-lifecycle.js';

const SessionIdSchema = z.string().min(1, 'sessionId is empty').max(LIMITS.pathCharacters, overLimit('pathCharacters'));
/** A URI or workspace-relative path sent by a client. */
const PathSchema = z.string().max(LIMITS.pathCharacters, overLimit('pathCharacters'));
/** Optional workspace selector: a folder URI the client opened; the first folder when absent. */
const WorkspaceUriSchema = PathSchema.min(1).optional();

export const StartTaskParamsSchema = z.object({
  prompt: z.string().min(1, 'prompt is empty').max(LIMITS.promptCharacters, overLimit('promptCharacters')),
  kind: TaskKindSchema.default('prompt'),
  uri: PathSchema.optional(),
  range: RangeSchema.optional(),
  autoApprovePlan: z.boolean().optional(),
}).strict();
export const SessionParamsSchema = z.object({ sessionId: SessionIdSchema }).strict();
export const ApprovePlanParamsSchema = z.object({
  sessionId: SessionIdSchema,
  plan: z.string().max(LIMITS.feedbackCharacters, overLimit('feedbackCharacters')).optional(),
}).strict();
export const RejectParamsSchema = z.object({
  sessionId: SessionIdSchema,
  feedback: z.string().max(LIMITS.feedbackCharacters, overLimit('feedbackCharacters')).optional(),
}).strict();
/** A message for a running session's model; it arrives at the model's next turn. */
export const SteerParamsSchema = z.object({
  sessionId: SessionIdSchema,
  message: z.string().min(1, 'the message is empty').max(LIMITS.feedbackCharacters, overLimit('feedbackCharacters')),
}).strict();
export const ApplyProposalParamsSchema = z.object({
  sessionId: SessionIdSchema,
  files: z.array(PathSchema).max(LIMITS.listItems, overLimit('listItems')).optional(),
}).strict();

/**
 * What a proposal's tests showed, for every place the user decides to apply it: `passed`, `failed` (with the
 * command and the tail of its last output) or `notRun` (no test command found, or the session ended before
 * testing); `caveat` is why the session stopped short (tests still failing after the repairs, budget spent).
 * `text` is the one-line wording clients show as is.
 */
export const VerdictSchema = z.object({
  tests: z.enum(['passed', 'failed', 'notRun']),
  command: z.string().nullable(),
  lastFailure: z.string().nullable(),
  caveat: z.string().nullable(),
  text: z.string(),
});
export type Verdict = z.infer<typeof VerdictSchema>;

export const SessionSummarySchema = z.object({
  sessionId: z.string(),
  root: z.string(),
  state: SessionStateSchema,
  prompt: z.string(),
  kind: TaskKindSchema,
  createdAt: z.string(),
  updatedAt: z.string(),
  proposal: z.object({ files: z.number().int(), added: z.number().int(), removed: z.number().int() }).nullable(),
  /** The proposal's test verdict; null while there is no proposal. */
  verdict: VerdictSchema.nullable(),
});
export type SessionSummary = z.infer<typeof SessionSummarySchema>;

export const LspSearchParamsSchema = z.object({
  query: z.string().min(1, 'the search query is empty').max(LIMITS.searchQueryCharacters, overLimit('searchQueryCharacters')),
  mode: SearchModeSchema.default('literal'),
  caseInsensitive: z.boolean().default(false),
  limit: z.number().int().positive().max(10_000).default(200),
  workspaceUri: WorkspaceUriSchema,
}).strict();

export const WorkspaceParamsSchema = z.object({ workspaceUri: WorkspaceUriSchema }).strict();

export const DaemonStatusSchema = z.object({
  pid: z.number().int(),
  version: z.string(),
  mode: z.enum(['daemon', 'standalone']),
  startedAt: z.string(),
  socketPath: z.string().nullable(),
  /** The serving process's memory: resident set and V8 heap in use. */
  memory: z.object({ rssBytes: z.number().int(), heapUsedBytes: z.number().int() }),
  /**
   * How late the serving process's event loop has run since it started, in ms (Node's monitorEventLoopDelay):
   * every client waits while one request holds it. `stalls` counts delays of 250 ms or more, each logged with the
   * requests being served.
   */
  eventLoop: z.object({ p50Ms: z.number(), p99Ms: z.number(), maxMs: z.number(), stalls: z.number().int() }),
  clients: z.array(z.object({ id: z.number().int(), name: z.string(), workspaces: z.array(z.string()) })),
  workspaces: z.array(z.object({
    root: z.string(),
    clients: z.number().int(),
    indexing: z.boolean(),
    index: IndexStatusSchema,
    /** What the user should know about this index: watching stopped, files left out (and what to do). */
    problems: z.array(IndexProblemSchema),
  })),
  sessions: z.array(SessionSummarySchema),
});
export type DaemonStatus = z.infer<typeof DaemonStatusSchema>;

export const IndexUpdateSchema = z.object({
  root: z.string(),
  files: z.number().int(),
  /** Root-relative paths whose index rows changed in this update (capped at 100). */
  changedPaths: z.array(z.string()),
});
export type IndexUpdate = z.infer<typeof IndexUpdateSchema>;

export const SessionUpdateSchema = z.object({
  sessionId: z.string(),
  state: SessionStateSchema,
  event: z.object({ type: SessionEventTypeSchema, data: z.unknown() }),
});
export type SessionUpdate = z.infer<typeof SessionUpdateSchema>;

const DiagnosticSchema = z.looseObject({
  range: RangeSchema,
  message: z.union([z.string(), z.object({ kind: z.enum(['plaintext', 'markdown']), value: z.string() })]),
  source: z.string().optional(),
});
export type LspDiagnostic = z.infer<typeof DiagnosticSchema>;

/**
 * The standard LSP requests codeloop answers, as far as it reads their params: validated before use, so a
 * malformed request is InvalidParams, never an internal error. Fields codeloop does not read pass through.
 */
export const lspRequests = {
  'workspace/symbol': z.looseObject({ query: z.string().max(LIMITS.symbolQueryCharacters, overLimit('symbolQueryCharacters')) }),
  'textDocument/codeAction': z.looseObject({
    textDocument: z.looseObject({ uri: PathSchema }),
    range: RangeSchema,
    context: z.looseObject({
      diagnostics: z.array(DiagnosticSchema).max(LIMITS.listItems, overLimit('listItems')),
      only: z.array(z.string()).max(LIMITS.listItems, overLimit('listItems')).optional(),
    }),
  }),
  'workspace/executeCommand': z.looseObject({ command: z.string(), arguments: z.array(z.unknown()).optional() }),
};
export type LspRequestParams<M extends keyof typeof lspRequests> = z.infer<(typeof lspRequests)[M]>;

/** Client → server requests: method → [params schema, result schema]. */
export const clientRequests = {
  'codeloop/startTask': [StartTaskParamsSchema, z.object({ sessionId: z.string() })],
  'codeloop/approvePlan': [ApprovePlanParamsSchema, z.null()],
  'codeloop/reject': [RejectParamsSchema, z.null()],
  'codeloop/cancel': [SessionParamsSchema, z.null()],
  'codeloop/resume': [SessionParamsSchema, z.null()],
  'codeloop/pause': [SessionParamsSchema, z.null()],
  'codeloop/steer': [SteerParamsSchema, z.null()],
  'codeloop/applyProposal': [ApplyProposalParamsSchema, z.object({ applied: z.boolean(), conflicts: z.array(z.string()) })],
  'codeloop/listSessions': [z.object({}).strict(), z.object({ sessions: z.array(SessionSummarySchema) })],
  'codeloop/getSession': [SessionParamsSchema, SessionDetailSchema.extend({ verdict: VerdictSchema.nullable() })],
  'codeloop/search': [LspSearchParamsSchema, SearchResultSchema],
  'codeloop/indexStatus': [WorkspaceParamsSchema, IndexStatusSchema],
  'codeloop/status': [z.object({}).strict(), DaemonStatusSchema],
  'codeloop/stopDaemon': [z.object({}).strict(), z.null()],
  'codeloop/cliSearch': [CliSearchParamsSchema, SearchResultSchema],
  'codeloop/cliIndex': [CliIndexParamsSchema, CliIndexResultSchema],
  'codeloop/sessionTranscript': [SessionParamsSchema, z.object({ text: z.string() })],
  'codeloop/cliResume': [SessionParamsSchema, SessionSummarySchema],
  'codeloop/cliPause': [SessionParamsSchema, z.null()],
  'codeloop/cliSteer': [SteerParamsSchema, z.null()],
} as const;

/** Server → client notifications: method → params schema. */
export const serverNotifications = {
  'codeloop/sessionUpdate': SessionUpdateSchema,
  'codeloop/indexUpdate': IndexUpdateSchema,
} as const;

/**
 * A command's arguments may leave out what the server can find itself, since some clients send none (Helix's
 * `:lsp-workspace-command` picker): without a sessionId the command acts on the newest session of the
 * workspace in a state where it applies; without a prompt, startTask runs the newest `codeloop:` comment.
 */
const anySession = { sessionId: true } as const;

/** Command ids for code actions and `workspace/executeCommand`; arguments[0] is the object (or, for Helix, a string). */
export const commands = {
  'codeloop.startTask': StartTaskParamsSchema.partial({ prompt: true }),
  'codeloop.approvePlan': ApprovePlanParamsSchema.partial(anySession),
  'codeloop.showPlan': SessionParamsSchema.partial(anySession),
  'codeloop.rejectPlan': RejectParamsSchema.partial(anySession),
  'codeloop.applyProposal': ApplyProposalParamsSchema.partial(anySession),
  'codeloop.showProposal': SessionParamsSchema.partial(anySession),
  'codeloop.rejectProposal': RejectParamsSchema.partial(anySession),
  'codeloop.cancelTask': SessionParamsSchema.partial(anySession),
  'codeloop.resumeSession': SessionParamsSchema.partial(anySession),
  'codeloop.pauseSession': SessionParamsSchema.partial(anySession),
  'codeloop.steerSession': SteerParamsSchema.partial(anySession),
} as const;

export type ClientRequestMethod = keyof typeof clientRequests;
export type RequestParams<M extends ClientRequestMethod> = z.infer<(typeof clientRequests)[M][0]>;
export type RequestResult<M extends ClientRequestMethod> = z.infer<(typeof clientRequests)[M][1]>;
export type CommandId = keyof typeof commands;
export type CommandArguments<C extends CommandId> = z.infer<(typeof commands)[C]>;

/** The string shorthand Helix's `:lsp-workspace-command` can send: a prompt for startTask, else a session id. */
export function commandArgumentsFromString(command: CommandId, value: string): unknown {
  return command === 'codeloop.startTask' ? { prompt: value } : { sessionId: value };
}
