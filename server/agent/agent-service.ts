import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTwoFilesPatch } from 'diff';
import type { AgentConfig } from '../../protocol/config.js';
import type { TaskKind } from '../../protocol/lsp-methods.js';
import { FINAL_SESSION_STATES, nextSessionState, WAITING_SESSION_STATES, type SessionState, type SessionTransitionEvent } from '../../protocol/session-lifecycle.js';
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
import type { ToolCallRecord } from './conversation/transcript.js';
import { feedbackMessage, KEEP_GOING, PLAN_REQUEST, reviewFindingsMessage, reviewRequest, SYSTEM_PROMPT, taskMessage, testFailureMessage } from './prompts.js';
import type { ProposedFile, SessionEvent, SessionRecord, SessionStore } from './session-store.js';

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


interface Run {
  session: SessionRecord;
  workspace: AgentWorkspace;
  config: AgentConfig;
  model: ModelClient;
  shadow: ShadowWorkspace;
  conversation: Conversation;
  abort: AbortController;
  startedAt: number;
  turns: number;
  repairs: number;
  planApproved: (() => void) | null;
  reviewed: boolean;
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
   * After a crash: sessions whose process died mid-work become `failed` with the reason (never lost; proposals
   * stay appliable from the store), and every shadow no live process owns is removed.
   */
  recoverAfterRestart(): void {
    const alive = (pid: number) => {
      if (pid === process.pid) return true;
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    for (const session of this.store.list()) {
      if (FINAL_SESSION_STATES.has(session.state) || session.state === 'awaitingApproval' || alive(session.ownerPid)) continue;
      this.transition(session.sessionId, 'failed', 'error', { message: 'the daemon stopped during this session; start it again' }, { error: 'the daemon stopped during this session' });
    }
    let shadows: string[] = [];
    try {
      shadows = fs.readdirSync(this.shadowsDir);
    } catch {
      return;
    }
    for (const name of shadows) {
      // A probe folder (`.probe-<pid>`) belongs to the process named; a session's layers to the session's owner.
      const owner = name.startsWith('.probe-') ? Number(name.slice('.probe-'.length)) : this.store.get(name)?.ownerPid;
      if (owner === undefined || !alive(owner) || owner === process.pid) removeTreeSync(path.join(this.shadowsDir, name));
    }
  }

  start(workspace: AgentWorkspace, config: AgentConfig, model: ModelClient, request: TaskRequest): SessionRecord {
    const strategy = chooseShadowStrategy(config.shadow, this.shadowsDir, workspace.root);
    const session = this.store.create(workspace.root, request.prompt, request.kind);
    const shadow = new ShadowWorkspace(workspace.root, path.join(this.shadowsDir, session.sessionId), workspace.unsavedBuffers(), strategy,
      { home: os.homedir(), hiddenHomePaths: config.hiddenHomePaths });
    const run: Run = {
      session, workspace, config, model, shadow, conversation: this.conversation(session.sessionId, config, model, shadow), abort: new AbortController(),
      startedAt: Date.now(), turns: 0, repairs: 0, planApproved: null, reviewed: false,
    };
    this.runs.set(session.sessionId, run);
    this.record(run, 'message', { shadow: strategy.kind, text: `session workspace: ${strategy.kind} (${strategy.reason})` });
    void this.plan(run, request).catch((error) => this.fail(run, error));
    return session;
  }

  get(sessionId: string): SessionRecord {
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

  approvePlan(sessionId: string, plan?: string): void {
    const run = this.activeRun(sessionId, 'awaitingPlanApproval');
    if (plan) this.store.update(sessionId, { plan });
    run.planApproved?.();
  }

  /** Rejects the proposal; with feedback the session goes back to work on it. */
  reject(sessionId: string, feedback?: string): SessionRecord {
    const run = this.runs.get(sessionId);
    if (!feedback || !run) {
      if (feedback && this.get(sessionId).state === 'awaitingApproval') throw new CodeloopError('invalidArgument', `session ${sessionId} was started before the daemon restarted and cannot take feedback; reject it and start a new task`);
      this.transition(sessionId, 'rejected', 'done', { rejected: true });
      if (run) this.finish(run);
      return this.get(sessionId);
    }
    this.transition(sessionId, 'feedbackGiven', 'message', { feedback });
    run.conversation.say(feedbackMessage(feedback));
    run.repairs = 0;
    run.reviewed = false;
    void this.work(run).catch((error) => this.fail(run, error));
    return this.get(sessionId);
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

  private activeRun(sessionId: string, state: SessionState): Run {
    const session = this.get(sessionId);
    const run = this.runs.get(sessionId);
    if (session.state !== state || !run) throw new CodeloopError('invalidArgument', `session ${sessionId} is ${session.state}, not ${state}`);
    return run;
  }

  /**
   * The one path that changes a session's state: the lifecycle table (protocol/session-lifecycle.ts) decides the
   * next state, the store persists it with its event, and only then is it announced. A transition the table
   * refuses is an invalidArgument error naming both.
   */
  private transition(sessionId: string, cause: SessionTransitionEvent, type: SessionEvent['type'], data: unknown, extra: Partial<SessionRecord> = {}): void {
    const from = this.get(sessionId).state;
    const state = nextSessionState(from, cause);
    if (!state) throw new CodeloopError('invalidArgument', `session ${sessionId} is ${from}; "${cause}" is not possible now`);
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

  private record(run: Run, type: SessionEvent['type'], data: unknown): void {
    const event = this.store.addEvent(run.session.sessionId, type, data);
    this.announce(run.session, event);
  }

  /**
   * The session's model conversation. Its window is the default until the plan step learns the model's
   * (`begin`); the transcript is plain data and compaction rebuilds it from the shadow's diff.
   */
  private conversation(sessionId: string, config: AgentConfig, model: ModelClient, shadow: ShadowWorkspace): Conversation {
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
      currentDiff: () => unifiedDiff(shadow.changes((relative) => this.runs.get(sessionId)?.workspace.index.readText(relative) ?? null)),
      compacted: (report) => this.compacted(sessionId, report),
    }, (request) => model.tokens.count(request.messages, request.tools));
  }

  private compacted(sessionId: string, report: CompactionReport): void {
    const run = this.runs.get(sessionId);
    if (!run) return;
    this.record(run, 'message', {
      text: `context compacted (${report.compaction}, ${report.reason}, level ${report.level}): ${report.tokensBefore} → ${report.tokensAfter} tokens, findings kept as ${report.summary === 'model' ? "the model's summary" : 'a log of tool calls'}`,
      compaction: report,
    });
  }

  private context(run: Run, request: TaskRequest, mapTokens: number): string {
    const parts = [`Repository map (most relevant files first):\n${run.workspace.index.repoMap(request.prompt, mapTokens)}`];
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
  private async ask(run: Run, withTools: boolean): Promise<{ text: string | null; toolCalls: ToolCallRecord[]; toolCallProblems: string[] }> {
    for (;;) {
      const request = await run.conversation.next(withTools ? toolSpecifications() : []);
      let reply: ModelReply;
      try {
        reply = await this.call(run, request, true);
      } catch (error) {
        if (!(error instanceof ModelError && error.kind === 'contextOverflow' && run.conversation.overflowed())) throw error;
        this.record(run, 'message', { text: `the endpoint refused the request as too long (${error.endpointMessage}); compacting and retrying` });
        continue;
      }
      return { ...run.conversation.reply(reply.message), toolCallProblems: reply.toolCallProblems };
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

  private async plan(run: Run, request: TaskRequest): Promise<void> {
    await run.shadow.ready;
    const window = Math.min((await run.model.contextWindow()).tokens, run.config.context.workingTokens);
    run.conversation.begin(window, SYSTEM_PROMPT, taskMessage(request.kind, request.prompt), this.context(run, request, repoMapTokens(window)));
    run.conversation.say(PLAN_REQUEST);
    const plan = (await this.ask(run, false)).text?.trim() || '(the model gave no plan)';
    const autoApprove = request.autoApprovePlan ?? run.config.autoApprovePlan;
    if (!autoApprove) {
      const approved = new Promise<void>((resolve, reject) => {
        run.planApproved = resolve;
        run.abort.signal.addEventListener('abort', () => reject(new Error('cancelled while the plan awaited approval')), { once: true });
      });
      this.transition(run.session.sessionId, 'planProposed', 'plan', { plan }, { plan });
      await approved;
      await this.startWork(run);
      return;
    }
    this.store.update(run.session.sessionId, { plan });
    this.record(run, 'plan', { plan });
    await this.startWork(run);
  }

  private async startWork(run: Run): Promise<void> {
    run.planApproved = null;
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
    const testCommand = run.config.testCommand ?? detectTestCommand(run.workspace.root);
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
        if (summary === null) continue;
        this.store.update(id, { summary });
        if (run.config.review && !run.reviewed && await this.reviewFindsProblems(run)) continue;
        const tests = await this.test(run, context);
        if (!tests || (tests.exitCode === 0 && !tests.timedOut)) return this.propose(run, null);
        if (run.repairs >= run.config.maxRepairs) return this.propose(run, `the tests still fail after ${run.repairs} repairs`);
        run.repairs++;
        run.conversation.say(testFailureMessage(reduceCommandOutput(tests.output, run.conversation.toolOutputLimit)));
        this.transition(id, 'repairStarted', 'message', { text: `tests failed; repair ${run.repairs} of ${run.config.maxRepairs}` });
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
    const diff = capText(unifiedDiff(files), 3 * run.conversation.toolOutputLimit);
    const review = await this.call(run, run.conversation.standalone(SYSTEM_PROMPT, reviewRequest(diff)), true);
    const verdict = review.message.content?.trim() ?? '';
    this.record(run, 'message', { review: verdict });
    if (/^APPROVE\b/i.test(verdict)) return false;
    run.conversation.say(reviewFindingsMessage(verdict));
    return true;
  }

  private async test(run: Run, context: ToolContext): Promise<CommandResult | null> {
    this.transition(run.session.sessionId, 'testsStarted', 'message', { text: 'running the tests' });
    const result = await context.runTests();
    this.record(run, 'testRun', result ? { exitCode: result.exitCode, timedOut: result.timedOut, output: result.output, durationMs: Math.round(result.durationMs) } : { skipped: 'no test command' });
    if (result) {
      const status = result.timedOut ? 'timed out' : `exit code ${result.exitCode}`;
      run.conversation.testRun(`${status}\n${reduceCommandOutput(result.output, run.conversation.toolOutputLimit)}`);
    }
    return result;
  }

  /** Ends the work phase with the shadow's changes as a proposal (or fails when there is nothing to propose). */
  private propose(run: Run, caveat: string | null): void {
    const id = run.session.sessionId;
    const files = run.shadow.changes((relative) => run.workspace.index.readText(relative));
    if (!files.length) {
      const summary = this.get(id).summary;
      if (caveat) this.transition(id, 'failed', 'error', { message: caveat }, { error: caveat });
      else this.transition(id, 'finishedWithoutChanges', 'done', { summary, note: 'no changes were needed' });
      this.finish(run);
      return;
    }
    const diff = unifiedDiff(files);
    this.transition(id, 'proposalReady', 'proposal', { files: files.map((file) => file.path), diff, caveat }, { proposal: files, diff, error: caveat });
  }

  /**
   * Whatever stops a session early (an endpoint that died, a conversation that cannot fit): the changes already
   * in the shadow become a proposal with the reason as its caveat; with no changes the session fails.
   */
  private fail(run: Run, error: unknown): void {
    if (run.abort.signal.aborted) return;
    this.propose(run, errorMessage(error));
  }

  private finish(run: Run): void {
    // Layers that cannot be removed now are reclaimed when the daemon next starts (recoverAfterRestart).
    void run.shadow.remove().catch(() => undefined);
    this.runs.delete(run.session.sessionId);
  }
}

class BudgetExhausted extends Error {}

export function unifiedDiff(files: ProposedFile[]): string {
  return files.map((file) => createTwoFilesPatch(
    file.before === null ? '/dev/null' : `a/${file.path}`,
    file.after === null ? '/dev/null' : `b/${file.path}`,
    file.before ?? '', file.after ?? '', '', '', { context: 3 },
  )).join('');
}
