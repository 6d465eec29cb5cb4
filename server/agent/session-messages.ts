import type { SessionSummary, SessionUpdate } from '../../protocol/lsp-methods.js';
import type { Severity } from '../lsp/editor-channel.js';

/** Tool calls as the user would say what the agent is doing (names from server/tools/agent-tools.ts). */
function toolActivity(name: string, rawArguments: unknown): string {
  let args: Record<string, unknown> = {};
  try {
    args = typeof rawArguments === 'string' ? JSON.parse(rawArguments) as Record<string, unknown> : {};
  } catch {
    // a malformed call is reported to the model by the tool; here only the tool's name matters
  }
  const target = typeof args.path === 'string' ? ` ${args.path}` : '';
  switch (name) {
    case 'propose_edit': return `editing${target}`;
    case 'read_file': return `reading${target}`;
    case 'list_files': return 'listing files';
    case 'search_code': return `searching for ${JSON.stringify(args.query ?? '')}`;
    case 'find_symbol': return `looking up ${String(args.name ?? 'a symbol')}`;
    case 'run_tests': return 'running the tests';
    case 'run_command': return `running ${String(args.command ?? 'a command')}`;
    case 'done': return 'finishing';
    default: return name;
  }
}

/**
 * What a session is doing, for a `$/progress` message: planning, waiting for you, editing a file, running the
 * tests, repair n of m. Null for events that change nothing the user would want to read.
 */
export function progressMessage(update: SessionUpdate): string | null {
  const data = (update.event.data ?? {}) as Record<string, unknown>;
  if (update.state === 'awaitingPlanApproval') return 'waiting for you: approve or reject the plan';
  if (update.state === 'awaitingApproval') return 'waiting for you: the proposal is ready';
  if (update.state === 'planning') return typeof data.feedback === 'string' ? 'planning again with your feedback' : 'planning';
  if (update.event.type === 'toolCall') return toolActivity(String(data.name), data.arguments);
  if (update.event.type === 'message' && typeof data.text === 'string' && data.text.length <= 80) return data.text;
  if (update.event.type === 'message' && typeof data.feedback === 'string') return 'revising with your feedback';
  if (update.event.type === 'testRun' && !data.skipped) return data.exitCode === 0 && !data.timedOut ? 'tests passed' : 'tests failed';
  return null;
}

/** What a rewind undid, as the end of its message: ` (undoing a.js, b.js)`, or nothing when no file changed. */
export function undoneText(undone: string[]): string {
  return undone.length ? ` (undoing ${undone.join(', ')})` : '';
}

/** A session's prompt shortened for a message. */
export function quoted(prompt: string): string {
  const oneLine = prompt.replace(/\s+/g, ' ').trim();
  return `"${oneLine.length > 50 ? `${oneLine.slice(0, 49)}…` : oneLine}"`;
}

/**
 * What to tell the user when a session stops to wait for them or ends, and how loudly: a failure is an error,
 * a proposal whose tests failed or never ran a warning. `where` names another editor when the change came
 * from one.
 */
export function settledMessage(session: SessionSummary & { error: string | null }, where = ''): { severity: Severity; text: string } {
  const what = `${quoted(session.prompt)}${where}`;
  switch (session.state) {
    case 'awaitingPlanApproval':
      return { severity: 'info', text: `plan ready for ${what} (opened as a document): code action "Approve plan" or "Reject plan"` };
    case 'awaitingApproval': {
      const verdict = session.verdict;
      const text = `proposal ready for ${what} — ${verdict?.text ?? 'no tests ran'}: code action "Apply proposal", "Show proposal" or "Reject proposal"`;
      return { severity: verdict?.tests === 'passed' && !verdict.caveat ? 'info' : 'warning', text };
    }
    case 'failed':
      return { severity: 'error', text: `session ${what} failed: ${session.error ?? 'no reason recorded'}` };
    case 'finished':
      return { severity: 'info', text: session.kind === 'explain' ? `explanation ready for ${what} (opened as a document)` : `session ${what} finished: no changes were needed` };
    default:
      return { severity: 'info', text: `session ${what} ${session.state}` };
  }
}
