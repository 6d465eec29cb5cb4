import { z } from 'zod';
import { LIMITS, overLimit } from './limits.js';
import {
  CliIndexParamsSchema, CliIndexResultSchema, CliSearchOutputParamsSchema, CliSearchOutputSchema, CliSearchParamsSchema, IndexProblemSchema, IndexStatusSchema, SearchModeSchema, SearchResultSchema,
} from './search.js';
import { SessionDetailSchema, SessionEventTypeSchema, SessionStateSchema, TaskKindSchema, type SessionState } from './session-lifecycle.js';

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
/**
 * Where to take a session back to: the turn of one of its checkpoints (`codeloop/getSession` lists them as
 * `checkpoints`); without one, one step back, over the newest turn that changed files (the finishing turn of a
 * waiting proposal included).
 */
export const RewindParamsSchema = z.object({
  sessionId: SessionIdSchema,
  turn: z.number().int().nonnegative().optional(),
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

/** A build of codeloop: a hash of its compiled code, when that code was first built (ms since the epoch), its version. */
export const BuildSchema = z.object({ buildId: z.string().min(1).max(100), builtAt: z.number(), version: z.string().max(100) }).strict();

/**
 * The daemon's answer to `codeloop/hello`: its own build, where it runs from (`cliPath`, its dist/server/cli.js),
 * and whether stopping it now would cut work short (`sessionsAtWork` sessions running, a workspace `indexing`).
 */
export const DaemonHelloSchema = z.object({
  build: BuildSchema,
  pid: z.number().int(),
  cliPath: z.string(),
  sessionsAtWork: z.number().int(),
  indexing: z.boolean(),
  clients: z.number().int(),
});
export type DaemonHello = z.infer<typeof DaemonHelloSchema>;

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

/** A document the server wrote (under the state folder) and asked the editor to open. */
const DocumentResultSchema = z.object({ uri: z.string() });

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
  /** Answers the turn the session went back to; it then waits, `interrupted`, until it is resumed. */
  'codeloop/rewind': [RewindParamsSchema, z.object({ turn: z.number().int() })],
  /**
   * The inverse of an applied proposal, sent to the editor like Apply: `reverted` says the editor took the edit,
   * `conflicts` names each file left alone (file and lines); the session is `reverted` once none is left.
   */
  'codeloop/revert': [SessionParamsSchema, z.object({ reverted: z.boolean(), conflicts: z.array(z.string()) })],
  'codeloop/showPlan': [SessionParamsSchema, DocumentResultSchema],
  'codeloop/showProposal': [SessionParamsSchema, DocumentResultSchema],
  'codeloop/listSessions': [z.object({}).strict(), z.object({ sessions: z.array(SessionSummarySchema) })],
  'codeloop/getSession': [SessionParamsSchema, SessionDetailSchema.extend({ verdict: VerdictSchema.nullable() })],
  'codeloop/search': [LspSearchParamsSchema, SearchResultSchema],
  'codeloop/indexStatus': [WorkspaceParamsSchema, IndexStatusSchema],
  'codeloop/status': [z.object({}).strict(), DaemonStatusSchema],
  'codeloop/stopDaemon': [z.object({}).strict(), z.null()],
  'codeloop/hello': [BuildSchema, DaemonHelloSchema],
  'codeloop/cliSearch': [CliSearchParamsSchema, SearchResultSchema],
  'codeloop/cliSearchOutput': [CliSearchOutputParamsSchema, CliSearchOutputSchema],
  'codeloop/cliIndex': [CliIndexParamsSchema, CliIndexResultSchema],
  'codeloop/sessionTranscript': [SessionParamsSchema, z.object({ text: z.string() })],
  'codeloop/cliResume': [SessionParamsSchema, SessionSummarySchema],
  'codeloop/cliPause': [SessionParamsSchema, z.null()],
  'codeloop/cliSteer': [SteerParamsSchema, z.null()],
  /** `codeloop sessions rewind` through the daemon: any session of its store; answers where it went and what that undid. */
  'codeloop/cliRewind': [RewindParamsSchema, SessionSummarySchema.extend({ turn: z.number().int(), undone: z.array(z.string()) })],
} as const;

/** Server → client notifications: method → params schema. */
export const serverNotifications = {
  'codeloop/sessionUpdate': SessionUpdateSchema,
  'codeloop/indexUpdate': IndexUpdateSchema,
} as const;

/**
 * A command (code actions, `workspace/executeCommand`) is an alias of one request: it names the request it stands
 * for and how its plain-JSON `arguments[0]` become that request's params. Its arguments may leave out what the
 * server can find itself, since some clients send none (Helix's `:lsp-workspace-command` picker):
 * - `sessionStates`: without a sessionId the command acts on the newest session of the client's workspaces in
 *   one of these states;
 * - `commentTask`: without a prompt, the newest `codeloop:` comment of the client's buffers that no session runs.
 * `stringArgument` is the field a plain string argument fills (Helix can send only a string).
 */
export interface CommandAlias {
  request: ClientRequestMethod;
  /** The plain-JSON arguments; once the missing fields are found, the request's own schema checks the result. */
  arguments: z.ZodType<Record<string, unknown>>;
  stringArgument: 'prompt' | 'sessionId';
  missing: { sessionStates: readonly SessionState[] } | { commentTask: true };
}

/** A command whose request acts on one session: the request's params with the sessionId optional. */
function sessionCommand<M extends ClientRequestMethod>(
  request: M,
  params: z.ZodObject,
  sessionStates: readonly SessionState[],
) {
  return { request, arguments: params.partial({ sessionId: true }), stringArgument: 'sessionId', missing: { sessionStates } } as const satisfies CommandAlias;
}

const RUNNING_STATES = ['planning', 'working', 'testing'] as const satisfies readonly SessionState[];

/** Command ids for code actions and `workspace/executeCommand`, each an alias of a request (see CommandAlias). */
export const commands = {
  'codeloop.startTask': {
    request: 'codeloop/startTask', arguments: StartTaskParamsSchema.partial({ prompt: true }), stringArgument: 'prompt', missing: { commentTask: true },
  },
  'codeloop.approvePlan': sessionCommand('codeloop/approvePlan', ApprovePlanParamsSchema, ['awaitingPlanApproval']),
  'codeloop.showPlan': sessionCommand('codeloop/showPlan', SessionParamsSchema, ['awaitingPlanApproval']),
  'codeloop.rejectPlan': sessionCommand('codeloop/reject', RejectParamsSchema, ['awaitingPlanApproval']),
  'codeloop.applyProposal': sessionCommand('codeloop/applyProposal', ApplyProposalParamsSchema, ['awaitingApproval']),
  'codeloop.showProposal': sessionCommand('codeloop/showProposal', SessionParamsSchema, ['awaitingApproval']),
  'codeloop.rejectProposal': sessionCommand('codeloop/reject', RejectParamsSchema, ['awaitingApproval']),
  'codeloop.cancelTask': sessionCommand('codeloop/cancel', SessionParamsSchema, [...RUNNING_STATES, 'awaitingPlanApproval', 'awaitingApproval', 'interrupted']),
  'codeloop.resumeSession': sessionCommand('codeloop/resume', SessionParamsSchema, ['interrupted']),
  'codeloop.pauseSession': sessionCommand('codeloop/pause', SessionParamsSchema, RUNNING_STATES),
  'codeloop.steerSession': sessionCommand('codeloop/steer', SteerParamsSchema, [...RUNNING_STATES, 'awaitingPlanApproval']),
  'codeloop.rewindSession': sessionCommand('codeloop/rewind', RewindParamsSchema, ['awaitingApproval', 'interrupted']),
  'codeloop.revertProposal': sessionCommand('codeloop/revert', SessionParamsSchema, ['applied']),
} as const satisfies Record<string, CommandAlias>;

export type ClientRequestMethod = keyof typeof clientRequests;
export type RequestParams<M extends ClientRequestMethod> = z.infer<(typeof clientRequests)[M][0]>;
export type RequestResult<M extends ClientRequestMethod> = z.infer<(typeof clientRequests)[M][1]>;
export type CommandId = keyof typeof commands;
