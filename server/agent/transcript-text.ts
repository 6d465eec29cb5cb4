import type { CheckpointSummary, SessionEvent, SessionRecord } from '../../protocol/session-lifecycle.js';

/** Lines of a tool result or test output shown per entry; the rest is counted, and `--json` has it whole. */
const SHOWN_LINES = 12;

function clip(text: string, lines = SHOWN_LINES): string {
  const all = text.replace(/\s+$/, '').split('\n');
  if (all.length <= lines) return all.join('\n');
  return `${all.slice(0, lines).join('\n')}\n… ${all.length - lines} more lines`;
}

function indent(text: string): string {
  return text.split('\n').map((line) => `    ${line}`).join('\n');
}

/** Tool arguments on one line, long values shortened (a whole-file edit is not a transcript line). */
function argumentsLine(raw: unknown): string {
  const text = typeof raw === 'string' ? raw : JSON.stringify(raw);
  return text.length > 160 ? `${text.slice(0, 157)}…` : text;
}

type EventData = Record<string, unknown>;

function describeEvent(event: SessionEvent): string {
  const data = (event.data ?? {}) as EventData;
  const time = event.at.slice(11, 19);
  const head = `[${event.seq}] ${time}`;
  switch (event.type) {
    case 'plan':
      return `${head} plan\n${indent(String(data.plan ?? ''))}`;
    case 'toolCall':
      return `${head} tool ${String(data.name)} ${argumentsLine(data.arguments)}`;
    case 'toolResult':
      return `${head} result\n${indent(clip(String(data.output ?? '')))}`;
    case 'testRun': {
      if (data.skipped) return `${head} tests not run: ${String(data.skipped)}`;
      const verdict = data.timedOut ? 'timed out' : data.exitCode === 0 ? 'passed' : `failed (exit ${String(data.exitCode)})`;
      const took = typeof data.durationMs === 'number' ? ` in ${(data.durationMs / 1000).toFixed(1)} s` : '';
      return `${head} ${data.baseline ? 'baseline tests' : 'tests'} ${verdict}${took}${data.output ? `\n${indent(clip(String(data.output)))}` : ''}`;
    }
    case 'proposal': {
      const files = Array.isArray(data.files) ? data.files.join(', ') : '';
      return `${head} proposal: ${files}${data.caveat ? `\n    caveat: ${String(data.caveat)}` : ''}`;
    }
    case 'message': {
      const text = data.text ?? data.feedback ?? data.review;
      const label = data.feedback !== undefined ? 'your feedback' : data.review !== undefined ? 'review' : 'message';
      return `${head} ${label}: ${clip(String(text ?? JSON.stringify(data)), 6)}`;
    }
    case 'done':
      return `${head} done ${JSON.stringify(data)}`;
    case 'error':
      return `${head} error: ${String(data.message ?? JSON.stringify(data))}`;
  }
}

/**
 * A session as a person reads it on a terminal: what was asked, where it stands, what it cost, the plan, and
 * every step (tool calls and results, test runs, the proposal) in order. Long outputs are clipped to
 * SHOWN_LINES lines with the rest counted.
 */
export function transcriptText(session: SessionRecord, events: SessionEvent[]): string {
  const header = [
    `session ${session.sessionId}: ${session.state}${session.error ? ` (${session.error})` : ''}`,
    `task (${session.kind}): ${session.prompt}`,
    `workspace: ${session.root}`,
    `started ${session.createdAt}, last change ${session.updatedAt}`,
    `tokens: ${session.promptTokens} prompt + ${session.completionTokens} completion; cost $${session.costUsd.toFixed(4)}`,
  ];
  if (session.summary) header.push(`summary: ${session.summary}`);
  return `${header.join('\n')}\n\n${events.map(describeEvent).join('\n')}\n`;
}

/** One line per session: id, state, age order as given, and the task. */
export function sessionLine(session: SessionRecord): string {
  const task = session.prompt.split('\n')[0];
  return `${session.sessionId}  ${session.state.padEnd(20)} ${session.createdAt.slice(0, 19).replace('T', ' ')}  ${task.length > 60 ? `${task.slice(0, 59)}…` : task}`;
}

/**
 * The turns a session can be rewound to, one line each with the files that turn changed, and the command that
 * rewinds it; nothing for a session without checkpoints.
 */
export function checkpointsText(session: SessionRecord, checkpoints: CheckpointSummary[]): string {
  if (!checkpoints.length) return '';
  const lines = checkpoints.map(({ turn, files }) => `  turn ${String(turn).padEnd(4)} ${files.length ? files.join(', ') : '(no file changes)'}`);
  return `\ncheckpoints (\`codeloop sessions rewind ${session.sessionId} TURN\` goes back to one):\n${lines.join('\n')}\n`;
}
