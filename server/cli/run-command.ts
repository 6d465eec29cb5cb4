import readline from 'node:readline/promises';
import { loadConfig } from '../config/load-config.js';
import { createAgentService } from '../agent/agent-host.js';
import type { AgentService } from '../agent/agent-service.js';
import type { SessionEvent, SessionRecord, SessionStore } from '../agent/session-store.js';
import { verdictLines } from '../agent/session-verdict.js';
import { applyProposalToDisk } from '../edits/apply-proposal.js';
import { WorkspaceIndex } from '../index/workspace-index.js';
import { resolveWorkspaceRoot } from '../workspace/workspace-root.js';
import { ModelClient } from '../model/model-client.js';

export interface RunOptions {
  json: boolean;
  yes: boolean;
  planOnly: boolean;
  maxTurns?: number;
}

function describe(event: SessionEvent): string | null {
  const data = event.data as Record<string, unknown>;
  switch (event.type) {
    case 'plan': return `plan:\n${data.plan}`;
    case 'toolCall': return `→ ${data.name} ${String(data.arguments).slice(0, 120)}`;
    case 'testRun': return data.skipped ? 'tests: no test command found' : `tests${data.command ? ` (${data.command})` : ''}: ${data.exitCode === 0 && !data.timedOut ? 'passed' : `failed (exit ${data.exitCode}${data.timedOut ? ', timed out' : ''})`}`;
    case 'message': return typeof data.text === 'string' ? `· ${data.text.slice(0, 200)}` : null;
    case 'error': return `error: ${data.message}`;
    default: return null;
  }
}

async function confirm(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) return false;
  const prompt = readline.createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await prompt.question(question)).trim());
  } finally {
    prompt.close();
  }
}

/** What a session in this terminal runs with: its workspace's root, index and config, and this process's agent. */
interface TerminalSession {
  root: string;
  index: WorkspaceIndex;
  agent: AgentService;
  store: SessionStore;
  config: ReturnType<typeof loadConfig>;
}

/** Opens the workspace holding `dir` for a session in this process (events told on stderr), runs `work`, closes. */
async function inTerminal(dir: string, options: { json: boolean }, work: (terminal: TerminalSession) => Promise<number>): Promise<number> {
  const root = resolveWorkspaceRoot(dir);
  const config = loadConfig(root);
  const index = WorkspaceIndex.open(root, config.index);
  const { agent, store } = createAgentService((_session, event) => {
    const line = options.json ? null : describe(event);
    if (line) process.stderr.write(`${line}\n`);
  });
  try {
    await index.sync();
    return await work({ root, index, agent, store, config });
  } finally {
    store.close();
    await index.close();
  }
}

/** `codeloop run "task"`: a session from the terminal, in this process; nothing is written without --yes or a yes. */
export async function runCommandLine(task: string, options: RunOptions): Promise<number> {
  return inTerminal('.', options, async ({ root, index, agent, store, config }) => {
    const agentConfig = { ...config.agent, ...(options.maxTurns ? { maxTurns: options.maxTurns } : {}) };
    const session = agent.start({ root, index, unsavedBuffers: () => new Map() }, agentConfig, new ModelClient(config.model),
      { prompt: task, kind: 'prompt', autoApprovePlan: !options.planOnly });
    return untilSettled({ root, index, agent, store, config }, session.sessionId, { ...options, notApplied: 'run again with --yes to apply without asking' });
  });
}

/**
 * `codeloop sessions resume ID` with no daemon running: the interrupted session goes on in this process, in the
 * workspace it belongs to, and ends as `codeloop run` does (the diff shown, applied with --yes or a yes).
 * Errors: the agent's refusal when the session is not interrupted.
 */
export async function resumeInTerminal(session: SessionRecord, options: Omit<RunOptions, 'planOnly' | 'maxTurns'>): Promise<number> {
  return inTerminal(session.root, options, async (terminal) => {
    const { root, index, agent, config } = terminal;
    agent.resume(session.sessionId, { workspace: { root, index, unsavedBuffers: () => new Map() }, config: config.agent, model: new ModelClient(config.model) });
    return untilSettled(terminal, session.sessionId, { ...options, planOnly: false, notApplied: 'it waits for you: apply it from your editor (code action "Apply proposal")' });
  });
}

/**
 * Waits for the session to stop for the user or end; shows and (with --yes or a yes) applies its proposal; reports.
 * `notApplied` is what to tell the user when a proposal stays unapplied.
 */
async function untilSettled({ root, agent, store }: TerminalSession, sessionId: string, options: RunOptions & { notApplied: string }): Promise<number> {
  let settled: SessionRecord = await agent.nextSettle(sessionId);
  if (options.planOnly && settled.state === 'awaitingPlanApproval') {
    agent.cancel(sessionId);
    settled = agent.get(sessionId);
  }
  let outcome = { applied: [] as string[], conflicts: [] as string[] };
  if (settled.state === 'awaitingApproval' && settled.proposal) {
    const verdict = agent.summary(settled).verdict;
    if (!options.json) {
      process.stdout.write(settled.diff ?? '');
      // The verdict is the last thing read before answering the question below.
      if (verdict) process.stderr.write(`${verdictLines(verdict).join('\n')}\n`);
    }
    const auto = agent.autoApplyVerdict(sessionId);
    if (auto.allowed && !options.json) process.stderr.write(`auto-applying (${auto.reason})\n`);
    if (options.yes || auto.allowed || (!options.json && await confirm('apply this change? [y/N] '))) {
      outcome = applyProposalToDisk(root, settled.proposal);
      if (outcome.conflicts.length === 0) agent.markApplied(sessionId, outcome.applied);
    }
  }
  const final = agent.get(sessionId);
  const events = store.events(sessionId);
  const testRuns = events.filter((event) => event.type === 'testRun' && !(event.data as { baseline?: boolean }).baseline)
    .map((event) => event.data as { exitCode?: number; timedOut?: boolean; skipped?: string });
  const lastTest = testRuns.at(-1);
  const report = {
    sessionId: final.sessionId,
    state: final.state,
    plan: final.plan,
    summary: final.summary,
    diff: final.diff,
    // How the session's workspace was made (overlay, clone or copy), as its events say.
    shadow: (events.find((event) => event.type === 'message' && (event.data as { shadow?: string }).shadow)?.data as { shadow?: string } | undefined)?.shadow ?? null,
    testsPassed: lastTest ? (lastTest.skipped ? null : lastTest.exitCode === 0 && !lastTest.timedOut) : null,
    verdict: final.proposal ? agent.summary(final).verdict : null,
    iterations: testRuns.length,
    tokens: { prompt: final.promptTokens, completion: final.completionTokens },
    costUsd: final.costUsd,
    applied: outcome.applied,
    conflicts: outcome.conflicts,
    error: final.error,
  };
  if (options.json) process.stdout.write(`${JSON.stringify(report)}\n`);
  else {
    process.stderr.write(`session ${final.sessionId}: ${final.state}${final.error ? ` (${final.error})` : ''}; `
      + `${report.tokens.prompt + report.tokens.completion} tokens, $${final.costUsd.toFixed(4)}\n`);
    if (outcome.conflicts.length) process.stderr.write(`not applied:\n${outcome.conflicts.map((conflict) => `  ${conflict}\n`).join('')}`);
    else if (final.state === 'awaitingApproval') process.stderr.write(`not applied; ${options.notApplied}\n`);
  }
  return final.state === 'failed' || outcome.conflicts.length ? 1 : 0;
}
