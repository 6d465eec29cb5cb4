import readline from 'node:readline/promises';
import { loadConfig } from '../config/load-config.js';
import { createAgentService } from '../agent/agent-host.js';
import type { SessionEvent, SessionRecord } from '../agent/session-store.js';
import { applyProposalToDisk } from '../edits/apply-proposal.js';
import { resolveWorkspaceRoot, WorkspaceIndex } from '../index/workspace-index.js';
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
    case 'testRun': return data.skipped ? 'tests: none configured' : `tests: ${data.exitCode === 0 && !data.timedOut ? 'passed' : `failed (exit ${data.exitCode}${data.timedOut ? ', timed out' : ''})`}`;
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

/** `codeloop run "task"`: a session from the terminal, in this process; nothing is written without --yes or a yes. */
export async function runCommandLine(task: string, options: RunOptions): Promise<number> {
  const root = resolveWorkspaceRoot('.');
  const config = loadConfig(root);
  const agentConfig = { ...config.agent, ...(options.maxTurns ? { maxTurns: options.maxTurns } : {}) };
  const model = new ModelClient(config.model);
  const index = WorkspaceIndex.open(root, config.index);
  const { agent, store } = createAgentService((_session, event) => {
    const line = options.json ? null : describe(event);
    if (line) process.stderr.write(`${line}\n`);
  });
  try {
    await index.sync();
    const session = agent.start({ root, index, unsavedBuffers: () => new Map() }, agentConfig, model,
      { prompt: task, kind: 'prompt', autoApprovePlan: !options.planOnly });
    let settled: SessionRecord = await agent.nextSettle(session.sessionId);
    if (options.planOnly && settled.state === 'awaitingPlanApproval') {
      agent.cancel(session.sessionId);
      settled = agent.get(session.sessionId);
    }
    let outcome = { applied: [] as string[], conflicts: [] as string[] };
    if (settled.state === 'awaitingApproval' && settled.proposal) {
      if (!options.json) process.stdout.write(settled.diff ?? '');
      const auto = agent.autoApplyVerdict(session.sessionId);
      if (auto.allowed && !options.json) process.stderr.write(`auto-applying (${auto.reason})\n`);
      if (options.yes || auto.allowed || (!options.json && await confirm('apply this change? [y/N] '))) {
        outcome = applyProposalToDisk(root, settled.proposal);
        if (outcome.conflicts.length === 0) agent.markApplied(session.sessionId, outcome.applied);
      }
    }
    const final = agent.get(session.sessionId);
    const events = store.events(session.sessionId);
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
      else if (final.state === 'awaitingApproval') process.stderr.write('not applied; run again with --yes to apply without asking\n');
    }
    return final.state === 'failed' || outcome.conflicts.length ? 1 : 0;
  } finally {
    store.close();
    await index.close();
  }
}
