import fs from 'node:fs';
import path from 'node:path';
import { createTwoFilesPatch } from 'diff';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { AgentConfig } from '../../protocol/config.js';
import type { SessionState, TaskKind } from '../../protocol/lsp-methods.js';
import { CodeloopError, errorMessage } from '../errors.js';
import type { WorkspaceIndex } from '../index/workspace-index.js';
import type { ModelClient } from '../model/model-client.js';
import { runCommand, scrubbedEnvironment, type CommandResult } from '../sandbox/command-runner.js';
import { ShadowWorkspace } from '../sandbox/shadow-workspace.js';
import { detectTestCommand } from '../sandbox/test-command.js';
import { runToolCall, toolSpecifications, type ToolContext } from '../tools/agent-tools.js';
import { isAllowedCommand, mayAutoApply } from './auto-apply.js';
import { feedbackMessage, KEEP_GOING, PLAN_REQUEST, planFeedbackMessage, reviewFindingsMessage, reviewRequest, SYSTEM_PROMPT, taskMessage, testFailureMessage } from './prompts.js';
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

const FINAL_STATES = new Set<SessionState>(['applied', 'finished', 'rejected', 'cancelled', 'failed']);
/** States in which a session waits for the user or has ended. */
const SETTLED_STATES = new Set<SessionState>([...FINAL_STATES, 'awaitingPlanApproval', 'awaitingApproval']);
const REPO_MAP_TOKENS = 1500;

interface Run {
  session: SessionRecord;
  workspace: AgentWorkspace;
  config: AgentConfig;
  model: ModelClient;
  shadow: ShadowWorkspace;
  messages: ChatCompletionMessageParam[];
  abort: AbortController;
  startedAt: number;
  turns: number;
  repairs: number;
  /** Set while the plan waits for the user: approved, sent back with feedback, or the session ended. */
  answerPlan: ((answer: PlanAnswer) => void) | null;
  reviewed: boolean;
}

type PlanAnswer = { approved: true } | { feedback: string } | { ended: true };

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
      if (FINAL_STATES.has(session.state) || session.state === 'awaitingApproval' || alive(session.ownerPid)) continue;
      this.transition(session.sessionId, 'failed', 'error', { message: 'the daemon stopped during this session; start it again' }, { error: 'the daemon stopped during this session' });
    }
    let shadows: string[] = [];
    try {
      shadows = fs.readdirSync(this.shadowsDir);
    } catch {
      return;
    }
    for (const name of shadows) {
      const owner = this.store.get(name)?.ownerPid;
      if (owner === undefined || !alive(owner) || owner === process.pid) fs.rmSync(path.join(this.shadowsDir, name), { recursive: true, force: true });
    }
  }

  start(workspace: AgentWorkspace, config: AgentConfig, model: ModelClient, request: TaskRequest): SessionRecord {
    const session = this.store.create(workspace.root, request.prompt, request.kind);
    const shadow = new ShadowWorkspace(workspace.root, path.join(this.shadowsDir, session.sessionId), workspace.unsavedBuffers());
    const run: Run = {
      session, workspace, config, model, shadow, messages: [], abort: new AbortController(),
      startedAt: Date.now(), turns: 0, repairs: 0, answerPlan: null, reviewed: false,
    };
    this.runs.set(session.sessionId, run);
    // Every client of the workspace hears of the session from its start (status lines show it planning).
    this.record(run, 'message', { text: 'planning' });
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
    run.answerPlan?.({ approved: true });
  }

  /**
   * Rejects the plan or the proposal waiting for the user; with feedback the session goes back to planning or
   * to work on it, without it the session ends as rejected.
   */
  reject(sessionId: string, feedback?: string): SessionRecord {
    const session = this.get(sessionId);
    const run = this.runs.get(sessionId);
    if (session.state === 'awaitingPlanApproval' && run?.answerPlan) {
      if (feedback) {
        run.answerPlan({ feedback });
        return this.get(sessionId);
      }
      run.answerPlan({ ended: true });
      this.transition(sessionId, 'rejected', 'done', { rejected: true });
      this.finish(run);
      return this.get(sessionId);
    }
    if (session.state !== 'awaitingApproval') throw new CodeloopError('invalidArgument', `session ${sessionId} is ${session.state}: there is no plan or proposal waiting to reject`);
    if (!feedback || !run) {
      if (feedback) throw new CodeloopError('invalidArgument', `session ${sessionId} was started before the daemon restarted and cannot take feedback; reject it and start a new task`);
      this.transition(sessionId, 'rejected', 'done', { rejected: true });
      if (run) this.finish(run);
      return this.get(sessionId);
    }
    run.messages.push({ role: 'user', content: feedbackMessage(feedback) });
    run.repairs = 0;
    run.reviewed = false;
    this.transition(sessionId, 'working', 'message', { feedback });
    void this.work(run).catch((error) => this.fail(run, error));
    return this.get(sessionId);
  }

  cancel(sessionId: string): void {
    const session = this.get(sessionId);
    if (FINAL_STATES.has(session.state)) throw new CodeloopError('invalidArgument', `session ${sessionId} has already ended (${session.state})`);
    const run = this.runs.get(sessionId);
    run?.abort.abort();
    run?.answerPlan?.({ ended: true });
    this.transition(sessionId, 'cancelled', 'done', { cancelled: true });
    if (run) this.finish(run);
  }

  /** Records that the user applied the proposal (the edit itself is made by the caller: CLI or editor). */
  markApplied(sessionId: string, files: string[]): void {
    const state = this.get(sessionId).state;
    if (state !== 'awaitingApproval') throw new CodeloopError('invalidArgument', `session ${sessionId} is ${state}, not awaitingApproval`);
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

  private transition(sessionId: string, state: SessionState, type: SessionEvent['type'], data: unknown, extra: Partial<SessionRecord> = {}): void {
    const session = this.store.update(sessionId, { state, ...extra });
    const event = this.store.addEvent(sessionId, type, data);
    const run = this.runs.get(sessionId);
    if (run) run.session = session;
    this.announce(session, event);
    if (SETTLED_STATES.has(state)) {
      const waiters = this.settleWaiters.get(sessionId) ?? [];
      this.settleWaiters.delete(sessionId);
      waiters.forEach((wake) => wake());
    }
  }

  private record(run: Run, type: SessionEvent['type'], data: unknown): void {
    const event = this.store.addEvent(run.session.sessionId, type, data);
    this.announce(run.session, event);
  }

  private context(run: Run, request: TaskRequest): string {
    const parts = [`Repository map (most relevant files first):\n${run.workspace.index.repoMap(request.prompt, REPO_MAP_TOKENS)}`];
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

  /** One model call within the session's budget, its tokens and cost added to the session. */
  private async ask(run: Run, withTools: boolean, messages: ChatCompletionMessageParam[] = run.messages) {
    this.checkBudget(run);
    run.turns++;
    const listener = this.modelProgressListeners.get(run.session.sessionId);
    const reply = await run.model.complete(messages, withTools ? toolSpecifications() : [], run.abort.signal, listener);
    const session = this.store.update(run.session.sessionId, {
      promptTokens: run.session.promptTokens + reply.promptTokens,
      completionTokens: run.session.completionTokens + reply.completionTokens,
      costUsd: run.session.costUsd + reply.costUsd,
    });
    run.session = session;
    return reply.message;
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
    run.messages.push({ role: 'system', content: SYSTEM_PROMPT }, { role: 'user', content: taskMessage(request.kind, request.prompt, this.context(run, request)) });
    run.messages.push({ role: 'user', content: PLAN_REQUEST });
    let plan = await this.writePlan(run);
    const autoApprove = request.autoApprovePlan ?? run.config.autoApprovePlan;
    if (!autoApprove) {
      for (;;) {
        const answered = new Promise<PlanAnswer>((resolve) => {
          run.answerPlan = resolve;
        });
        this.transition(run.session.sessionId, 'awaitingPlanApproval', 'plan', { plan }, { plan });
        const answer = await answered;
        if ('ended' in answer) return;
        if ('approved' in answer) break;
        run.messages.push({ role: 'user', content: planFeedbackMessage(answer.feedback) });
        this.transition(run.session.sessionId, 'planning', 'message', { feedback: answer.feedback });
        plan = await this.writePlan(run);
      }
      await this.startWork(run);
      return;
    }
    this.store.update(run.session.sessionId, { plan });
    this.record(run, 'plan', { plan });
    await this.startWork(run);
  }

  private async writePlan(run: Run): Promise<string> {
    const planMessage = await this.ask(run, false);
    const plan = planMessage.content?.trim() || '(the model gave no plan)';
    run.messages.push({ role: 'assistant', content: plan });
    return plan;
  }

  private async startWork(run: Run): Promise<void> {
    run.answerPlan = null;
    const plan = this.get(run.session.sessionId).plan;
    run.messages.push({ role: 'user', content: `The plan is approved:\n${plan}\n\nCarry it out now with the tools.` });
    this.transition(run.session.sessionId, 'working', 'message', { text: 'plan approved' });
    if (run.session.kind === 'refactor') await this.baselineTests(run);
    await this.work(run);
  }

  /** A refactoring must keep behaviour: the tests run before any edit, and the model hears how they stand. */
  private async baselineTests(run: Run): Promise<void> {
    const result = await this.toolContext(run).runTests();
    if (!result) return;
    const passing = result.exitCode === 0 && !result.timedOut;
    this.record(run, 'testRun', { baseline: true, exitCode: result.exitCode, timedOut: result.timedOut, output: result.output });
    run.messages.push({
      role: 'user',
      content: passing
        ? 'The tests pass before your change; they must still pass after it.'
        : `The tests already fail before any change, so they cannot show that behaviour is kept; do not change what they test:\n${result.output}`,
    });
  }

  private toolContext(run: Run): ToolContext {
    const env = scrubbedEnvironment(path.join(run.shadow.dir, '.codeloop-home'));
    const limits = { timeoutMs: run.config.commandTimeoutSeconds * 1000, outputBytes: 64 * 1024, fileSizeBytes: 256 * 1024 * 1024, processes: 512 };
    const testCommand = this.testCommand(run);
    return {
      shadow: run.shadow,
      index: run.workspace.index,
      runTests: async () => (testCommand ? runCommand(testCommand, run.shadow.dir, env, limits, run.abort.signal) : null),
      runCommand: async (command) => {
        if (!isAllowedCommand(command, run.config.allowedCommands)) {
          return run.config.allowedCommands.length
            ? `not allowed: run_command runs only ${run.config.allowedCommands.map((c) => JSON.stringify(c)).join(', ')} (with arguments, no ; & | $ or redirections)`
            : 'not allowed: no commands are allow-listed (agent.allowedCommands in the config); use run_tests';
        }
        return runCommand(command, run.shadow.dir, env, limits, run.abort.signal);
      },
    };
  }

  /** The tool loop until `done`, then tests; failures go back to the model up to maxRepairs times. */
  private async work(run: Run): Promise<void> {
    const context = this.toolContext(run);
    const id = run.session.sessionId;
    try {
      for (;;) {
        const message = await this.ask(run, true);
        run.messages.push(message as ChatCompletionMessageParam);
        if (message.content) this.record(run, 'message', { text: message.content });
        const calls = message.tool_calls ?? [];
        if (!calls.length) {
          run.messages.push({ role: 'user', content: KEEP_GOING });
          continue;
        }
        let summary: string | null = null;
        for (const call of calls) {
          if (call.type !== 'function') continue;
          this.record(run, 'toolCall', { id: call.id, name: call.function.name, arguments: call.function.arguments });
          const outcome = await runToolCall(call.function.name, call.function.arguments, context);
          this.record(run, 'toolResult', { id: call.id, output: outcome.output });
          run.messages.push({ role: 'tool', tool_call_id: call.id, content: outcome.output });
          if (outcome.done !== undefined) summary = outcome.done;
        }
        if (summary === null) continue;
        this.store.update(id, { summary });
        if (run.config.review && !run.reviewed && await this.reviewFindsProblems(run)) continue;
        // An explanation that changed nothing has nothing for the tests to judge: its answer is the summary.
        if (run.session.kind === 'explain' && !run.shadow.changes((relative) => run.workspace.index.readText(relative)).length) return this.propose(run, null);
        const tests = await this.test(run, context);
        if (!tests || (tests.exitCode === 0 && !tests.timedOut)) return this.propose(run, null);
        if (run.repairs >= run.config.maxRepairs) return this.propose(run, `the tests still fail after ${run.repairs} repairs`);
        run.repairs++;
        run.messages.push({ role: 'user', content: testFailureMessage(tests.output) });
        this.transition(id, 'working', 'message', { text: `tests failed; repair ${run.repairs} of ${run.config.maxRepairs}` });
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
    const review = await this.ask(run, false, [{ role: 'system', content: SYSTEM_PROMPT }, { role: 'user', content: reviewRequest(unifiedDiff(files)) }]);
    const verdict = review.content?.trim() ?? '';
    this.record(run, 'message', { review: verdict });
    if (/^APPROVE\b/i.test(verdict)) return false;
    run.messages.push({ role: 'user', content: reviewFindingsMessage(verdict) });
    return true;
  }

  /** The configured test command, or the one the project's files suggest (null: none found). */
  private testCommand(run: Run): string | null {
    return run.config.testCommand ?? detectTestCommand(run.shadow.dir);
  }

  private async test(run: Run, context: ToolContext): Promise<CommandResult | null> {
    const command = this.testCommand(run);
    this.transition(run.session.sessionId, 'testing', 'message', { text: command ? `running the tests (${command})` : 'no test command found' });
    const result = await context.runTests();
    this.record(run, 'testRun', result ? { command, exitCode: result.exitCode, timedOut: result.timedOut, output: result.output, durationMs: Math.round(result.durationMs) } : { skipped: 'no test command' });
    return result;
  }

  /** Ends the work phase with the shadow's changes as a proposal (or fails when there is nothing to propose). */
  private propose(run: Run, caveat: string | null): void {
    const id = run.session.sessionId;
    const files = run.shadow.changes((relative) => run.workspace.index.readText(relative));
    if (!files.length) {
      const summary = this.get(id).summary;
      if (caveat) this.transition(id, 'failed', 'error', { message: caveat }, { error: caveat });
      else this.transition(id, 'finished', 'done', { summary, note: run.session.kind === 'explain' ? 'explained' : 'no changes were needed' });
      this.finish(run);
      return;
    }
    const diff = unifiedDiff(files);
    this.transition(id, 'awaitingApproval', 'proposal', { files: files.map((file) => file.path), diff, caveat }, { proposal: files, diff, error: caveat });
  }

  private fail(run: Run, error: unknown): void {
    if (run.abort.signal.aborted) return;
    const message = errorMessage(error);
    this.transition(run.session.sessionId, 'failed', 'error', { message }, { error: message });
    this.finish(run);
  }

  private finish(run: Run): void {
    // A copy that cannot be removed now is reclaimed when the daemon next starts (recoverAfterRestart).
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
