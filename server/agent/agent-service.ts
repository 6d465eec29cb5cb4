import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AgentConfig } from '../../protocol/config.js';
import type { TaskKind } from '../../protocol/lsp-methods.js';
import { FINAL_SESSION_STATES, nextSessionState, WAITING_SESSION_STATES, type CheckpointSummary, type SessionState, type SessionTransitionEvent } from '../../protocol/session-lifecycle.js';
import { unifiedDiffOffThread } from '../edits/unified-diff.js';
import { CodeloopError, errorMessage } from '../errors.js';
import type { WorkspaceIndex } from '../index/workspace-index.js';
import type { ModelClient, ModelReply } from '../model/model-client.js';
import { ModelError } from '../model/model-errors.js';
import { runCommand, type CommandResult } from '../sandbox/command-runner.js';
import { removeTreeSync } from '../sandbox/remove-tree.js';
import { chooseShadowStrategy } from '../sandbox/shadow-strategy.js';
import { ShadowWorkspace } from '../sandbox/shadow-workspace.js';
import { detectTestCommand } from '../sandbox/test-command.js';
import { runToolCall, toolSpecifications, type ToolContext } from '../tools/agent-tools.js';
import { capText, reduceCommandOutput } from '../tools/tool-output.js';
import { isAllowedCommand, mayAutoApply } from './auto-apply.js';
import { repoMapTokens } from './conversation/context-policy.js';
import { Conversation, type CompactionReport } from './conversation/conversation.js';
import type { ModelRequest } from './conversation/request-builder.js';
import type { ToolCallRecord, TranscriptData } from './conversation/transcript.js';
import { changesSince, foldCheckpoints, parseCheckpoint, snapshotEntries, storedCheckpoint, type CheckpointPhase, type SessionCheckpoint, type ShadowChanges, type StoredEntries } from './session-checkpoint.js';
import { refusedAction, workingElsewhere } from './session-refusal.js';
import { feedbackMessage, KEEP_GOING, PLAN_REQUEST, planFeedbackMessage, RESUMED_NOTE, reviewFindingsMessage, reviewRequest, rewoundNote, steeringMessage, SYSTEM_PROMPT, taskMessage, testFailureMessage } from './prompts.js';
import type { SessionEvent, SessionRecord, SessionStore } from './session-store.js';

/** What a session needs from the workspace it works on. */
export interface AgentWorkspace {
  root: string;
  index: WorkspaceIndex;
  unsavedBuffers(): Map<string, string>;
}

export interface TaskRequest {
  prompt: string;
  kind: TaskKind;
  /** Root-relative file the task is about, and its range, for context. */
  path?: string;
  range?: { start: { line: number }; end: { line: number } };
  autoApprovePlan?: boolean;
}


/** What rebuilding a session in this process needs: its workspace, configuration and model endpoint. */
export interface SessionHost {
  workspace: AgentWorkspace;
  config: AgentConfig;
  model: ModelClient;
}

/** A task as asked, with whether its plan is approved without asking decided (the request's, else the config's). */
type SettledRequest = TaskRequest & { autoApprovePlan: boolean };

/** States in which a session is at work (a process runs it): the ones pause and steer reach. */
const AT_WORK: ReadonlySet<SessionState> = new Set(['planning', 'working', 'testing']);

interface Run {
  session: SessionRecord;
  request: SettledRequest;
  workspace: AgentWorkspace;
  config: AgentConfig;
  model: ModelClient;
  shadow: ShadowWorkspace;
  conversation: Conversation;
  abort: AbortController;
  startedAt: number;
  turns: number;
  repairs: number;
  /** Set while the plan waits for the user: approved, or sent back with feedback. */
  answerPlan: ((answer: PlanAnswer) => void) | null;
  reviewed: boolean;
  /** Messages the user sent while the session works; the model hears them at its next turn. */
  steering: string[];
  /** Set by pause(): the loop stops at its next turn, checkpointed, as `interrupted`. */
  pauseRequested: boolean;
  /**
   * The newest checkpoint stored: its turn, the shadow's changes and the conversation's entries as of the
   * checkpoint before it and as of it. A checkpoint stores only what changed since the one before (see
   * session-checkpoint.ts).
   */
  checkpointed: { turn: number; before: ShadowChanges; after: ShadowChanges; entriesBefore: StoredEntries; entriesAfter: StoredEntries } | null;
}

/**
 * Runs agent sessions: plan → (approval) → tools in a shadow workspace → tests → repair → proposal. Every
 * state change is written to the store before it is announced; nothing touches the user's files.
 */
export class AgentService {
  private readonly runs = new Map<string, Run>();
  private readonly settleWaiters = new Map<string, (() => void)[]>();
  /** Transient, not stored: how much of the current model answer has arrived (streaming). */
  private readonly modelProgressListeners = new Map<string, (characters: number) => void>();

  constructor(
    private readonly store: SessionStore,
    private readonly shadowsDir: string,
    private readonly announce: (session: SessionRecord, event: SessionEvent) => void,
  ) {}

  /**
   * After a crash: sessions whose process died mid-work become `interrupted` (see recoverOrphan); plans and
   * proposals waiting for the user keep waiting (approving or answering them rebuilds the session from its last
   * checkpoint); every shadow no live process owns is removed (a resumed session rebuilds its own from the
   * checkpoint's changes).
   */
  recoverAfterRestart(): void {
    for (const session of this.store.list()) this.recoverOrphan(session);
    let shadows: string[] = [];
    try {
      shadows = fs.readdirSync(this.shadowsDir);
    } catch {
      return;
    }
    for (const name of shadows) {
      // A probe folder (`.probe-<pid>`) belongs to the process named; a session's layers to the session's owner.
      const owner = name.startsWith('.probe-') ? Number(name.slice('.probe-'.length)) : this.store.get(name)?.ownerPid;
      if (owner === undefined || !processAlive(owner) || owner === process.pid) removeTreeSync(path.join(this.shadowsDir, name));
    }
  }

  /**
   * A session at work whose process has died (a daemon or `codeloop run` killed, a machine rebooted) becomes
   * `interrupted` when it has a checkpoint to go on from, else `failed` with the reason. Checked at start-up and
   * whenever a session is acted on, so a session left by any process is found wherever it is looked at.
   */
  private recoverOrphan(session: SessionRecord): SessionRecord {
    if (!AT_WORK.has(session.state) || this.runs.has(session.sessionId) || processAlive(session.ownerPid)) return session;
    if (parseCheckpoint(this.store.latestCheckpoint(session.sessionId))) {
      this.transition(session.sessionId, 'interrupted', 'message', { interrupted: true, text: 'the process running this session stopped; resume it to go on from its last step' });
    } else {
      this.transition(session.sessionId, 'failed', 'error', { message: 'the process running this session stopped before its first step; start it again' }, { error: 'the process running this session stopped' });
    }
    return this.stored(session.sessionId);
  }

  /** Whether this process runs any session's work (a daemon does not stop for idleness while it does). */
  busy(): boolean {
    return this.runs.size > 0;
  }

  /**
   * How many of this process's sessions are at work now (planning, working, testing). One waiting for approval
   * is not: its proposal is stored, and any later process serves it.
   */
  atWork(): number {
    return [...this.runs.keys()].filter((sessionId) => AT_WORK.has(this.stored(sessionId).state)).length;
  }

  start(workspace: AgentWorkspace, config: AgentConfig, model: ModelClient, request: TaskRequest): SessionRecord {
    const strategy = chooseShadowStrategy(config.shadow, this.shadowsDir, workspace.root);
    const session = this.store.create(workspace.root, request.prompt, request.kind);
    const shadow = new ShadowWorkspace(workspace.root, path.join(this.shadowsDir, session.sessionId), workspace.unsavedBuffers(), strategy,
      { home: os.homedir(), hiddenHomePaths: config.hiddenHomePaths });
    const run: Run = {
      session, request: { ...request, autoApprovePlan: request.autoApprovePlan ?? config.autoApprovePlan },
      workspace, config, model, shadow, conversation: this.conversation(session.sessionId, config, model, shadow), abort: new AbortController(),
      startedAt: Date.now(), turns: 0, repairs: 0, answerPlan: null, reviewed: false, steering: [], pauseRequested: false, checkpointed: null,
    };
    this.runs.set(session.sessionId, run);
    // A session stopped before its first step is resumed from here: the task as asked, nothing said yet.
    this.checkpoint(run, 'planning');
    this.record(run, 'message', { shadow: strategy.kind, text: `session workspace: ${strategy.kind} (${strategy.reason})` });
    void this.plan(run).catch((error) => this.fail(run, error));
    return session;
  }

  /** The session (one whose process died is first found `interrupted`: see recoverOrphan). Errors: notFound. */
  get(sessionId: string): SessionRecord {
    return this.recoverOrphan(this.stored(sessionId));
  }

  private stored(sessionId: string): SessionRecord {
    const session = this.store.get(sessionId);
    if (!session) throw new CodeloopError('notFound', `no session ${JSON.stringify(sessionId)}`);
    return session;
  }

  /** Hears how much of each streamed model answer has arrived, until removed. */
  onModelProgress(sessionId: string, listener: (characters: number) => void): () => void {
    this.modelProgressListeners.set(sessionId, listener);
    return () => this.modelProgressListeners.delete(sessionId);
  }

  /** Resolves at the session's next move into a state where it waits for the user or has ended. */
  nextSettle(sessionId: string): Promise<SessionRecord> {
    return new Promise((resolve) => {
      const waiters = this.settleWaiters.get(sessionId) ?? [];
      waiters.push(() => resolve(this.get(sessionId)));
      this.settleWaiters.set(sessionId, waiters);
    });
  }

  /**
   * Approves the plan waiting for the user (`plan`: the user's edited version) and the work starts. A plan this
   * process does not hold (the daemon restarted since) is rebuilt from its checkpoint first, which needs `host`.
   * Errors: invalidArgument when no plan waits.
   */
  approvePlan(sessionId: string, plan?: string, host?: () => SessionHost): void {
    const session = this.get(sessionId);
    if (session.state !== 'awaitingPlanApproval') throw new CodeloopError('invalidArgument', `session ${sessionId} is ${session.state}, not awaitingPlanApproval`);
    const run = this.runs.get(sessionId);
    const restoring = run ? null : this.restorable(sessionId, host);
    if (plan) this.store.update(sessionId, { plan });
    if (run) {
      run.answerPlan?.({ approved: true });
      return;
    }
    const going = this.restore(this.get(sessionId), restoring!);
    void going.ready.then(() => this.startWork(going.run)).catch((error) => this.fail(going.run, error));
  }

  /**
   * Rejects the plan or the proposal waiting for the user; with feedback the session plans again or goes back to
   * work on it, without it the session ends as rejected. A proposal this process does not run (the daemon
   * restarted since) is rebuilt from its last checkpoint first, which needs `host`.
   */
  reject(sessionId: string, feedback?: string, host?: () => SessionHost): SessionRecord {
    const run = this.runs.get(sessionId);
    const planWaits = this.get(sessionId).state === 'awaitingPlanApproval';
    if (!feedback) {
      this.transition(sessionId, 'rejected', 'done', { rejected: true });
      // A plan still waiting settles through the abort (its wait rejects, and fail() ignores aborted runs).
      if (planWaits) run?.abort.abort();
      if (run) this.finish(run);
      return this.get(sessionId);
    }
    this.nextState(sessionId, 'feedbackGiven');
    // Rebuilt before the transition, so the session is never at work without a process that owns it.
    const going = run ? { run, ready: Promise.resolve() } : this.restore(this.get(sessionId), this.restorable(sessionId, host));
    this.transition(sessionId, 'feedbackGiven', 'message', { feedback });
    if (planWaits && run) {
      run.answerPlan?.({ feedback });
      return this.get(sessionId);
    }
    if (planWaits) {
      // The plan waited in a process that is gone: the rebuilt conversation ends with it, the feedback follows.
      void going.ready.then(() => {
        going.run.conversation.say(planFeedbackMessage(feedback));
        return this.planUntilApproved(going.run);
      }).catch((error) => this.fail(going.run, error));
      return this.get(sessionId);
    }
    void going.ready.then(() => {
      going.run.conversation.say(feedbackMessage(feedback));
      going.run.repairs = 0;
      going.run.reviewed = false;
      return this.work(going.run);
    }).catch((error) => this.fail(going.run, error));
    return this.get(sessionId);
  }

  /**
   * Goes on with an `interrupted` session from its last checkpoint: its shadow is rebuilt from the stored
   * changes; a session stopped in its tool loop is told it was interrupted (or, after a rewind, which turn it was
   * rewound to) and goes on working, one stopped while writing its plan asks for the plan again. Errors:
   * invalidArgument (worded for the user, see session-refusal.ts) when the session is not interrupted or has no
   * usable checkpoint.
   */
  resume(sessionId: string, host: SessionHost): SessionRecord {
    const session = this.get(sessionId);
    if (session.state !== 'interrupted') throw refusedAction(sessionId, session.state, 'resume');
    const restoring = this.restorable(sessionId, host);
    const { checkpoint } = restoring.restored;
    const planning = checkpoint.phase !== 'working';
    if (planning && !checkpoint.request) throw new CodeloopError('invalidArgument', `session ${sessionId} stopped before its plan, in a version that did not keep the task: start it again`);
    const rewoundTo = this.rewoundSinceResumed(sessionId);
    // Rebuilt before the transition, so the session is never at work without a process that owns it.
    const { run, ready } = this.restore(this.get(sessionId), restoring);
    const text = planning ? 'resumed: planning again from the last completed step' : rewoundTo === null ? 'resumed from the last completed step' : `resumed from turn ${rewoundTo}`;
    this.transition(sessionId, planning ? 'planningResumed' : 'resumed', 'message', { resumed: true, text });
    void ready.then(() => {
      if (!planning) {
        run.conversation.say(rewoundTo === null ? RESUMED_NOTE : rewoundNote(rewoundTo));
        return this.work(run);
      }
      // An empty conversation: the session stopped before its first step, and begins again.
      if (!checkpoint.transcript.entries.length) return this.plan(run);
      // Rewound to a plan that waited for approval: the model is asked for it again.
      if (checkpoint.phase === 'awaitingPlanApproval') run.conversation.say(PLAN_REQUEST);
      return this.planUntilApproved(run);
    }).catch((error) => this.fail(run, error));
    return this.get(sessionId);
  }

  /**
   * Asks a running session to stop at its next turn; it is checkpointed and becomes `interrupted` (resume goes on).
   * Errors: invalidArgument when the session is not at work, or is at work in another process.
   */
  pause(sessionId: string): void {
    const run = this.runAtWork(sessionId, 'pause');
    run.pauseRequested = true;
    this.record(run, 'message', { text: 'pausing at the next step' });
  }

  /**
   * Sends the user's message to a running session: the model hears it at its next turn (recorded in the
   * transcript now). A plan waiting for approval takes it too (it reaches the model once work starts).
   * Errors: invalidArgument when the session is not at work, or is at work in another process.
   */
  steer(sessionId: string, message: string): void {
    const run = this.runAtWork(sessionId, 'steer', ['awaitingPlanApproval']);
    run.steering.push(message);
    this.record(run, 'message', { steer: message, text: `your message: ${message}` });
  }

  /** This process's run of a session at work (or in one of `alsoIn`); the user's wording of why not otherwise. */
  private runAtWork(sessionId: string, action: 'pause' | 'steer', alsoIn: SessionState[] = []): Run {
    const session = this.get(sessionId);
    const run = this.runs.get(sessionId);
    if (!AT_WORK.has(session.state) && !alsoIn.includes(session.state)) throw refusedAction(sessionId, session.state, action);
    if (!run) throw AT_WORK.has(session.state) ? workingElsewhere(sessionId, session.state, session.ownerPid, action) : refusedAction(sessionId, session.state, action);
    return run;
  }

  /**
   * Takes a session back to where it stood after model turn `turn` (one of its checkpoints, listed by
   * `checkpoints`; without one, one step back: to the checkpoint before the newest one that changed files, or to
   * the newest checkpoint when a waiting proposal changed files after it, in the turn that finished): the
   * checkpoints after it are dropped, its proposal (if one waited) is withdrawn, and the session waits as
   * `interrupted` until the user resumes it, which rebuilds the shadow from the changes up to that turn and goes
   * on with the conversation as it was then. Returns the session, the turn it went back to and the files the
   * dropped turns had changed (sorted). Errors: invalidArgument when the session is at work (pause it first), has
   * ended, has no checkpoint at that turn, or (without a turn) changed nothing it could step back over, or when
   * its proposal waits in another live process (which keeps its workspace: only that process can let go of it).
   */
  rewind(sessionId: string, turn?: number): { session: SessionRecord; turn: number; undone: string[] } {
    const session = this.get(sessionId);
    if (!nextSessionState(session.state, 'rewound')) {
      const why = AT_WORK.has(session.state) ? 'pause it first (it stops at its next step), then rewind it'
        : 'only a session that is interrupted or has a proposal waiting can be rewound';
      throw new CodeloopError('invalidArgument', `session ${sessionId} is ${session.state}; ${why}`);
    }
    if (session.state === 'awaitingApproval' && !this.runs.has(sessionId) && session.ownerPid !== process.pid && processAlive(session.ownerPid)) {
      throw new CodeloopError('invalidArgument', `session ${sessionId}'s proposal is held by the process that made it (pid ${session.ownerPid}, \`codeloop run\` or a codeloop server): `
        + 'rewind it there, or once that process has stopped');
    }
    const checkpoints = this.checkpoints(sessionId);
    // A proposal may hold changes of its last turn (an edit sent with `done`) that no checkpoint has yet.
    const pending = this.uncheckpointed(session);
    const target = turn ?? (pending.length && checkpoints.length ? checkpoints.at(-1)!.turn : stepBack(checkpoints));
    if (target === null) throw new CodeloopError('invalidArgument', `session ${sessionId} changed no file at any checkpoint, so there is no step to go back over; name a turn to rewind to`);
    if (!checkpoints.some((checkpoint) => checkpoint.turn === target)) {
      throw new CodeloopError('invalidArgument', checkpoints.length
        ? `session ${sessionId} has no checkpoint at turn ${target}; it can be rewound to turn ${checkpoints.map((checkpoint) => checkpoint.turn).join(', ')}`
        : `session ${sessionId} has no checkpoints to rewind to`);
    }
    const run = this.runs.get(sessionId);
    if (run) {
      // A proposal's run waits, its shadow ready: moved aside now, a resume right after builds the new one in its place.
      this.runs.delete(sessionId);
      void run.shadow.discard().catch(() => undefined);
    }
    this.store.dropCheckpointsAfter(sessionId, target);
    this.transition(sessionId, 'rewound', 'message', { rewound: target, text: `rewound to turn ${target}; resume it to go on from there` },
      { proposal: null, diff: null, error: null, summary: null });
    const undone = new Set([...pending, ...checkpoints.filter((checkpoint) => checkpoint.turn > target).flatMap((checkpoint) => checkpoint.files)]);
    return { session: this.get(sessionId), turn: target, undone: [...undone].sort() };
  }

  /** The files of a waiting proposal whose text differs from the newest checkpoint's (changed in its last turn). */
  private uncheckpointed(session: SessionRecord): string[] {
    if (session.state !== 'awaitingApproval' || !session.proposal) return [];
    const folded = new Map(foldCheckpoints(this.store.checkpoints(session.sessionId).map((checkpoint) => checkpoint.data), session.prompt)?.checkpoint.changes ?? []);
    return session.proposal.filter((file) => (folded.has(file.path) ? folded.get(file.path) : file.before) !== file.after).map((file) => file.path);
  }

  /** The turns a session can be rewound to, oldest first, with the files each changed (see CheckpointSummary). */
  checkpoints(sessionId: string): CheckpointSummary[] {
    return this.store.checkpointSummaries(sessionId);
  }

  /** The turn the session was last rewound to, when no resume followed that rewind; else null. */
  private rewoundSinceResumed(sessionId: string): number | null {
    for (const event of this.store.events(sessionId, 'message').reverse()) {
      const data = event.data as { rewound?: number; resumed?: boolean };
      if (data.resumed) return null;
      if (typeof data.rewound === 'number') return data.rewound;
    }
    return null;
  }

  /** The checkpoints a session can be rebuilt from, folded, with what rebuilding needs; invalidArgument when it cannot. */
  private restorable(sessionId: string, host: SessionHost | (() => SessionHost) | undefined): { host: SessionHost; restored: Restored } {
    const restored = foldCheckpoints(this.store.checkpoints(sessionId).map((checkpoint) => checkpoint.data), this.get(sessionId).prompt);
    if (!restored || !host) throw new CodeloopError('invalidArgument', `session ${sessionId} has no checkpoint to go on from; reject it and start a new task`);
    return { host: typeof host === 'function' ? host() : host, restored };
  }

  /** A run rebuilt from its checkpoints: a fresh shadow with their changes written into it once ready. */
  private restore(session: SessionRecord, { host, restored: { checkpoint, before, entriesBefore } }: { host: SessionHost; restored: Restored }): { run: Run; ready: Promise<void> } {
    const { workspace, config, model } = host;
    const strategy = chooseShadowStrategy(config.shadow, this.shadowsDir, workspace.root);
    const shadow = new ShadowWorkspace(workspace.root, path.join(this.shadowsDir, session.sessionId), workspace.unsavedBuffers(), strategy,
      { home: os.homedir(), hiddenHomePaths: config.hiddenHomePaths });
    const run: Run = {
      session, request: { prompt: session.prompt, kind: session.kind, ...(checkpoint.request ?? { autoApprovePlan: config.autoApprovePlan }) },
      workspace, config, model, shadow, abort: new AbortController(),
      conversation: this.conversation(session.sessionId, config, model, shadow, checkpoint.transcript),
      startedAt: Date.now(), turns: checkpoint.turns, repairs: checkpoint.repairs, answerPlan: null, reviewed: checkpoint.reviewed,
      steering: [], pauseRequested: false, checkpointed: {
        turn: checkpoint.turns, before, after: new Map(checkpoint.changes),
        entriesBefore, entriesAfter: snapshotEntries(checkpoint.transcript.entries),
      },
    };
    this.runs.set(session.sessionId, run);
    this.store.takeOver(session.sessionId);
    // Told once rebuilt, which is after the caller's transition: the event carries the state the session goes on in.
    const ready = shadow.ready.then(() => {
      for (const [relative, text] of checkpoint.changes) shadow.write(relative, text);
      this.record(run, 'message', { shadow: strategy.kind, text: `session workspace: ${strategy.kind} (${strategy.reason}), rebuilt from the last checkpoint` });
    });
    return { run, ready };
  }

  /**
   * Stores where the session stands after its latest model turn (see session-checkpoint.ts): the changes since
   * the checkpoint before, which is the previous turn's, or — when this turn was checkpointed already (a resume,
   * feedback, a plan written again) — the one before that, since this checkpoint replaces it. `phase`: where the
   * session stands (see CheckpointPhase).
   */
  private checkpoint(run: Run, phase: CheckpointPhase): void {
    const now = run.shadow.agentChanges();
    const previous = run.checkpointed;
    const replacing = previous !== null && previous.turn === run.turns;
    const base = previous === null ? new Map() : replacing ? previous.before : previous.after;
    const baseEntries = previous === null ? [] : replacing ? previous.entriesBefore : previous.entriesAfter;
    const checkpoint: SessionCheckpoint = {
      phase, request: { path: run.request.path, range: run.request.range, autoApprovePlan: run.request.autoApprovePlan },
      transcript: run.conversation.data, changes: changesSince(base, now),
      turns: run.turns, repairs: run.repairs, reviewed: run.reviewed,
    };
    this.store.saveCheckpoint(run.session.sessionId, run.turns, storedCheckpoint(checkpoint, baseEntries, run.session.prompt));
    run.checkpointed = { turn: run.turns, before: base, after: now, entriesBefore: baseEntries, entriesAfter: snapshotEntries(checkpoint.transcript.entries) };
  }

  cancel(sessionId: string): void {
    const session = this.get(sessionId);
    if (FINAL_SESSION_STATES.has(session.state)) throw new CodeloopError('invalidArgument', `session ${sessionId} has already ended (${session.state})`);
    const run = this.runs.get(sessionId);
    this.transition(sessionId, 'cancelled', 'done', { cancelled: true });
    // Aborting also settles a plan still waiting for approval (its wait rejects, and fail() ignores aborted runs).
    run?.abort.abort();
    if (run) this.finish(run);
  }

  /** Records that the user applied the proposal (the edit itself is made by the caller: CLI or editor). */
  markApplied(sessionId: string, files: string[]): void {
    this.transition(sessionId, 'applied', 'done', { applied: files });
    const run = this.runs.get(sessionId);
    if (run) this.finish(run);
  }

  /** Records that the user reverted the applied proposal (the inverse edit is made by the caller: CLI or editor). */
  markReverted(sessionId: string, files: string[]): void {
    this.transition(sessionId, 'reverted', 'done', { reverted: files });
  }

  /** Whether the session's proposal may be applied without asking (agent.autoApply in its config). */
  autoApplyVerdict(sessionId: string): { allowed: boolean; reason: string } {
    const session = this.get(sessionId);
    const run = this.runs.get(sessionId);
    if (!run || session.state !== 'awaitingApproval' || !session.proposal || session.diff === null) return { allowed: false, reason: 'no proposal waiting in this process' };
    if (session.error) return { allowed: false, reason: session.error };
    return mayAutoApply(session.proposal, session.diff, run.config.autoApply);
  }

  list(root?: string): SessionRecord[] {
    return this.store.list(root);
  }

  events(sessionId: string): SessionEvent[] {
    return this.store.events(sessionId);
  }

  summary(session: SessionRecord) {
    return this.store.summary(session);
  }

  /**
   * The one path that changes a session's state: the lifecycle table (protocol/session-lifecycle.ts) decides the
   * next state, the store persists it with its event, and only then is it announced. A transition the table
   * refuses is an invalidArgument error naming both.
   */
  private transition(sessionId: string, cause: SessionTransitionEvent, type: SessionEvent['type'], data: unknown, extra: Partial<SessionRecord> = {}): void {
    const state = this.nextState(sessionId, cause);
    const session = this.store.update(sessionId, { state, ...extra });
    const event = this.store.addEvent(sessionId, type, data);
    const run = this.runs.get(sessionId);
    if (run) run.session = session;
    this.announce(session, event);
    if (FINAL_SESSION_STATES.has(state) || WAITING_SESSION_STATES.has(state)) {
      const waiters = this.settleWaiters.get(sessionId) ?? [];
      this.settleWaiters.delete(sessionId);
      waiters.forEach((wake) => wake());
    }
  }

  /** The state `cause` leads the session to; invalidArgument naming both when the lifecycle table refuses it. */
  private nextState(sessionId: string, cause: SessionTransitionEvent): SessionState {
    // Read as stored: get() would recover an orphan, which itself transitions.
    const from = this.stored(sessionId).state;
    const state = nextSessionState(from, cause);
    if (!state) throw new CodeloopError('invalidArgument', `session ${sessionId} is ${from}; "${cause}" is not possible now`);
    return state;
  }

  private record(run: Run, type: SessionEvent['type'], data: unknown): void {
    const event = this.store.addEvent(run.session.sessionId, type, data);
    this.announce(run.session, event);
  }

  /**
   * The session's model conversation. Its window is the default until the plan step learns the model's
   * (`begin`); the transcript is plain data and compaction rebuilds it from the shadow's diff.
   */
  private conversation(sessionId: string, config: AgentConfig, model: ModelClient, shadow: ShadowWorkspace, transcript?: TranscriptData): Conversation {
    return new Conversation(config.context, {
      summarise: async (request) => {
        try {
          return (await this.call(this.runs.get(sessionId)!, request, false)).message.content ?? null;
        } catch (error) {
          // Only the endpoint's failures fall back to the tool-call log; a spent budget still ends the session.
          if (error instanceof ModelError) return null;
          throw error;
        }
      },
      currentDiff: () => unifiedDiffOffThread(shadow.changes((relative) => this.runs.get(sessionId)?.workspace.index.readText(relative) ?? null)),
      compacted: (report) => this.compacted(sessionId, report),
    }, (request) => model.tokens.count(request.messages, request.tools), transcript);
  }

  private compacted(sessionId: string, report: CompactionReport): void {
    const run = this.runs.get(sessionId);
    if (!run) return;
    this.record(run, 'message', {
      text: `context compacted (${report.compaction}, ${report.reason}, level ${report.level}): ${report.tokensBefore} → ${report.tokensAfter} tokens, findings kept as ${report.summary === 'model' ? "the model's summary" : 'a log of tool calls'}`,
      compaction: report,
    });
  }

  private async context(run: Run, request: TaskRequest, mapTokens: number): Promise<string> {
    const parts = [`Repository map (most relevant files first):\n${await run.workspace.index.repoMap(request.prompt, mapTokens)}`];
    if (request.path) {
      const text = run.shadow.read(request.path);
      if (text !== null) {
        const lines = text.split('\n');
        const from = Math.max(0, (request.range?.start.line ?? 0) - 20);
        const to = Math.min(lines.length, (request.range?.end.line ?? 0) + 40);
        parts.push(`The task is about ${request.path}, lines ${from + 1}-${to}:\n${lines.slice(from, to).map((line, i) => `${from + i + 1}: ${line}`).join('\n')}`);
      }
    }
    return parts.join('\n\n');
  }

  /**
   * The model's next answer in the conversation: the request is made to fit the context window, and an
   * endpoint's context-overflow error compacts harder and retries until nothing can shrink further.
   */
  private async ask(run: Run, withTools: boolean): Promise<{ text: string | null; toolCalls: ToolCallRecord[]; toolCallProblems: string[]; cutAtOutputLimit: number | null }> {
    for (;;) {
      const request = await run.conversation.next(withTools ? toolSpecifications() : []);
      let reply: ModelReply;
      try {
        reply = await this.call(run, request, true);
      } catch (error) {
        if (!(error instanceof ModelError && error.kind === 'contextOverflow')) throw error;
        run.conversation.narrowWindow((await run.model.contextWindow()).tokens);
        if (!run.conversation.overflowed()) throw error;
        this.record(run, 'message', { text: `context overflow: compacting and retrying (the endpoint said: ${error.endpointMessage})` });
        continue;
      }
      return { ...run.conversation.reply(reply.message), toolCallProblems: reply.toolCallProblems, cutAtOutputLimit: reply.cutAtOutputLimit };
    }
  }

  /** One model call within the session's budget (a turn unless bookkeeping), its tokens and cost added to the session. */
  private async call(run: Run, request: ModelRequest, turn: boolean): Promise<ModelReply> {
    this.checkBudget(run);
    if (turn) run.turns++;
    const listener = this.modelProgressListeners.get(run.session.sessionId);
    const reply = await run.model.complete(request.messages, request.tools, run.abort.signal, listener);
    const session = this.store.update(run.session.sessionId, {
      promptTokens: run.session.promptTokens + reply.promptTokens,
      completionTokens: run.session.completionTokens + reply.completionTokens,
      costUsd: run.session.costUsd + reply.costUsd,
    });
    run.session = session;
    for (const warning of reply.warnings) this.record(run, 'message', { text: warning, warning: true });
    // A warning may mean the endpoint's window is smaller than assumed (a prompt cut to fit): work within it.
    if (reply.warnings.length) run.conversation.narrowWindow((await run.model.contextWindow()).tokens);
    return reply;
  }

  private checkBudget(run: Run): void {
    const { config, session } = run;
    const spent = [
      run.turns >= config.maxTurns && `${config.maxTurns} turns`,
      session.promptTokens + session.completionTokens >= config.maxTokens && `${config.maxTokens} tokens`,
      Date.now() - run.startedAt >= config.maxWallSeconds * 1000 && `${config.maxWallSeconds}s`,
      config.maxCostUsd > 0 && session.costUsd >= config.maxCostUsd && `$${config.maxCostUsd}`,
    ].find(Boolean);
    if (spent) throw new BudgetExhausted(`the session's budget is spent (${spent})`);
  }

  /** The session's first step: the conversation begins with the task and its context, and asks for a plan. */
  private async plan(run: Run): Promise<void> {
    await run.shadow.ready;
    const window = Math.min((await run.model.contextWindow()).tokens, run.config.context.workingTokens);
    run.conversation.begin(window, SYSTEM_PROMPT, taskMessage(run.request.kind, run.request.prompt), await this.context(run, run.request, repoMapTokens(window)));
    run.conversation.say(PLAN_REQUEST);
    await this.planUntilApproved(run);
  }

  /**
   * From a conversation that ends asking for a plan: the model writes it, and (unless approved without asking)
   * the user approves it or sends it back with feedback, until it is approved; then the work starts. A
   * checkpoint before each plan request and while the plan waits lets a restart go on from either.
   */
  private async planUntilApproved(run: Run): Promise<void> {
    for (;;) {
      this.checkpoint(run, 'planning');
      if (run.pauseRequested) return this.interrupt(run);
      const plan = await this.writePlan(run);
      if (run.request.autoApprovePlan) {
        this.store.update(run.session.sessionId, { plan });
        this.record(run, 'plan', { plan });
        break;
      }
      const answered = new Promise<PlanAnswer>((resolve, reject) => {
        run.answerPlan = resolve;
        run.abort.signal.addEventListener('abort', () => reject(new Error('cancelled while the plan awaited approval')), { once: true });
      });
      this.checkpoint(run, 'awaitingPlanApproval');
      this.transition(run.session.sessionId, 'planProposed', 'plan', { plan }, { plan });
      const answer = await answered;
      if ('approved' in answer) break;
      run.conversation.say(planFeedbackMessage(answer.feedback));
    }
    await this.startWork(run);
  }

  /** The model's plan; one the endpoint stopped at its output limit says so, so it is not approved as whole. */
  private async writePlan(run: Run): Promise<string> {
    const answer = await this.ask(run, false);
    const plan = answer.text?.trim() || '(the model gave no plan)';
    if (answer.cutAtOutputLimit === null) return plan;
    return `${plan}\n\n(The plan is cut off here: the model endpoint stopped it at its output limit, after ${answer.cutAtOutputLimit} tokens. Send it back asking for a shorter plan, or raise the server's output limit: max_tokens, Ollama's num_predict, llama.cpp's --n-predict.)`;
  }

  private async startWork(run: Run): Promise<void> {
    run.answerPlan = null;
    const plan = this.get(run.session.sessionId).plan;
    run.conversation.planApproved(plan ?? '', `The plan is approved:\n${plan}\n\nCarry it out now with the tools.`);
    this.transition(run.session.sessionId, 'planApproved', 'message', { text: 'plan approved' });
    if (run.session.kind === 'refactor') await this.baselineTests(run);
    await this.work(run);
  }

  /** A refactoring must keep behaviour: the tests run before any edit, and the model hears how they stand. */
  private async baselineTests(run: Run): Promise<void> {
    const result = await this.toolContext(run).runTests();
    if (!result) return;
    const passing = result.exitCode === 0 && !result.timedOut;
    this.record(run, 'testRun', { baseline: true, exitCode: result.exitCode, timedOut: result.timedOut, output: result.output });
    run.conversation.say(passing
      ? 'The tests pass before your change; they must still pass after it.'
      : `The tests already fail before any change, so they cannot show that behaviour is kept; do not change what they test:\n${reduceCommandOutput(result.output, run.conversation.toolOutputLimit)}`);
  }

  private toolContext(run: Run): ToolContext {
    const env = run.shadow.commandEnvironment();
    const limits = { timeoutMs: run.config.commandTimeoutSeconds * 1000, outputBytes: 64 * 1024, fileSizeBytes: 256 * 1024 * 1024, processes: 512 };
    const testCommand = this.testCommand(run);
    return {
      shadow: run.shadow,
      queryIndex: (query) => run.workspace.index.queryWithChanges(run.shadow.agentChanges(), query),
      get outputLimit() {
        return run.conversation.toolOutputLimit;
      },
      fullOutput: (callId) => {
        const result = this.store.events(run.session.sessionId).find((event) => event.type === 'toolResult' && (event.data as { id?: string }).id === callId);
        if (!result) return null;
        const data = result.data as { output: string; full?: string };
        return data.full ?? data.output;
      },
      runTests: async () => (testCommand ? runCommand(testCommand, run.shadow.sandbox(), env, limits, run.abort.signal) : null),
      runCommand: async (command) => {
        if (!isAllowedCommand(command, run.config.allowedCommands)) {
          return run.config.allowedCommands.length
            ? `not allowed: run_command runs only ${run.config.allowedCommands.map((c) => JSON.stringify(c)).join(', ')} (with arguments, no ; & | $ or redirections)`
            : 'not allowed: no commands are allow-listed (agent.allowedCommands in the config); use run_tests';
        }
        return runCommand(command, run.shadow.sandbox(), env, limits, run.abort.signal);
      },
    };
  }

  /** The tool loop until `done`, then tests; failures go back to the model up to maxRepairs times. */
  private async work(run: Run): Promise<void> {
    const context = this.toolContext(run);
    const id = run.session.sessionId;
    try {
      for (;;) {
        // Steering joins the transcript before the checkpoint, so a pause or a crash right after keeps it.
        for (const message of run.steering.splice(0)) run.conversation.say(steeringMessage(message));
        this.checkpoint(run, 'working');
        if (run.pauseRequested) return this.interrupt(run);
        const answer = await this.ask(run, true);
        if (answer.text) this.record(run, 'message', { text: answer.text });
        if (!answer.toolCalls.length) {
          run.conversation.say(answer.toolCallProblems.length ? answer.toolCallProblems.join('\n\n') : KEEP_GOING);
          continue;
        }
        let summary: string | null = null;
        for (const call of answer.toolCalls) {
          this.record(run, 'toolCall', { id: call.id, name: call.name, arguments: call.arguments });
          const outcome = await runToolCall(call.name, call.arguments, context);
          this.record(run, 'toolResult', { id: call.id, output: outcome.output, ...(outcome.full === undefined ? {} : { full: outcome.full }) });
          run.conversation.toolResult(call, outcome);
          if (call.name === 'run_tests') run.conversation.testRun(outcome.output);
          if (outcome.done !== undefined) summary = outcome.done;
        }
        // Calls of the same answer that could not run (miswritten, cut off) are corrected beside the results of those that did.
        if (answer.toolCallProblems.length) run.conversation.say(answer.toolCallProblems.join('\n\n'));
        if (summary === null) continue;
        this.store.update(id, { summary });
        if (run.config.review && !run.reviewed && await this.reviewFindsProblems(run)) continue;
        // An explanation that changed nothing has nothing for the tests to judge: its answer is the summary.
        const explained = run.session.kind === 'explain' && !run.shadow.changes((relative) => run.workspace.index.readText(relative)).length;
        const tests = explained ? null : await this.test(run, context);
        const passed = !tests || (tests.exitCode === 0 && !tests.timedOut);
        if (!passed && run.repairs < run.config.maxRepairs) {
          run.repairs++;
          run.conversation.say(testFailureMessage(reduceCommandOutput(tests.output, run.conversation.toolOutputLimit)));
          this.transition(id, 'repairStarted', 'message', { text: `tests failed; repair ${run.repairs} of ${run.config.maxRepairs}` });
          continue;
        }
        // A message or a pause accepted while the tests ran is honoured before anything is proposed: the loop's top
        // gives the model the message, or checkpoints and stops.
        if (run.steering.length || run.pauseRequested) {
          if (!explained) this.transition(id, 'steeredAfterTests', 'message', { text: run.steering.length ? 'your message came while the tests ran: back to work' : 'paused while the tests ran' });
          continue;
        }
        return this.propose(run, passed ? null : `the tests still fail after ${run.repairs} repairs`);
      }
    } catch (error) {
      if (error instanceof BudgetExhausted) return this.propose(run, error.message);
      throw error;
    }
  }

  /** The optional reviewer pass (once per work phase): its findings go back to the model. */
  private async reviewFindsProblems(run: Run): Promise<boolean> {
    run.reviewed = true;
    const files = run.shadow.changes((relative) => run.workspace.index.readText(relative));
    if (!files.length) return false;
    // The reviewer sees the diff alone, bounded like the rest of the context.
    const diff = capText(await unifiedDiffOffThread(files), 3 * run.conversation.toolOutputLimit);
    const review = await this.call(run, run.conversation.standalone(SYSTEM_PROMPT, reviewRequest(diff)), true);
    const verdict = review.message.content?.trim() ?? '';
    this.record(run, 'message', { review: verdict });
    if (/^APPROVE\b/i.test(verdict)) return false;
    run.conversation.say(reviewFindingsMessage(verdict));
    return true;
  }

  /** The configured test command, or the one the project's files suggest (null: none found). */
  private testCommand(run: Run): string | null {
    return run.config.testCommand ?? detectTestCommand(run.workspace.root);
  }

  private async test(run: Run, context: ToolContext): Promise<CommandResult | null> {
    const command = this.testCommand(run);
    this.transition(run.session.sessionId, 'testsStarted', 'message', { text: command ? `running the tests (${command})` : 'no test command found' });
    const result = await context.runTests();
    this.record(run, 'testRun', result ? { command, exitCode: result.exitCode, timedOut: result.timedOut, output: result.output, durationMs: Math.round(result.durationMs) } : { skipped: 'no test command' });
    if (result) {
      const status = result.timedOut ? 'timed out' : `exit code ${result.exitCode}`;
      run.conversation.testRun(`${status}\n${reduceCommandOutput(result.output, run.conversation.toolOutputLimit)}`);
    }
    return result;
  }

  /**
   * Ends the work phase with the shadow's changes as a proposal (or fails when there is nothing to propose). The
   * diff of large files is made on the diffing thread; a session cancelled meanwhile proposes nothing.
   */
  private async propose(run: Run, caveat: string | null): Promise<void> {
    const id = run.session.sessionId;
    const files = run.shadow.changes((relative) => run.workspace.index.readText(relative));
    if (!files.length) {
      const summary = this.get(id).summary;
      if (caveat) this.transition(id, 'failed', 'error', { message: caveat }, { error: caveat });
      else this.transition(id, 'finishedWithoutChanges', 'done', { summary, note: run.session.kind === 'explain' ? 'explained' : 'no changes were needed' });
      this.finish(run);
      return;
    }
    const diff = await unifiedDiffOffThread(files);
    if (run.abort.signal.aborted) return;
    this.transition(id, 'proposalReady', 'proposal', { files: files.map((file) => file.path), diff, caveat }, { proposal: files, diff, error: caveat });
  }

  /**
   * Whatever stops a session early (an endpoint that died, a conversation that cannot fit): the changes already
   * in the shadow become a proposal with the reason as its caveat; with no changes the session fails.
   */
  private async fail(run: Run, error: unknown): Promise<void> {
    if (run.abort.signal.aborted) return;
    await this.propose(run, errorMessage(error));
  }

  /** Ends this process's part of the session at a checkpoint, as `interrupted` (the user paused it). */
  private interrupt(run: Run): void {
    this.transition(run.session.sessionId, 'interrupted', 'message', { interrupted: true, paused: true, text: 'paused; resume it to go on' });
    this.finish(run);
  }

  private finish(run: Run): void {
    // Layers that cannot be removed now are reclaimed when the daemon next starts (recoverAfterRestart).
    void run.shadow.remove().catch(() => undefined);
    this.runs.delete(run.session.sessionId);
  }
}

class BudgetExhausted extends Error {}

/** Whether process `pid` is running (this one always is): a session's owner that is not has stopped. */
export function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

type PlanAnswer = { approved: true } | { feedback: string };

/** The turn one step back rewinds to: the checkpoint before the newest one that changed files (null: none did). */
function stepBack(checkpoints: CheckpointSummary[]): number | null {
  for (let newest = checkpoints.length - 1; newest > 0; newest--) if (checkpoints[newest].files.length) return checkpoints[newest - 1].turn;
  return null;
}

/** A session's checkpoints folded (see foldCheckpoints): what a run is rebuilt from. */
type Restored = NonNullable<ReturnType<typeof foldCheckpoints>>;
