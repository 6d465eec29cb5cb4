import type { Verdict } from '../../protocol/lsp-methods.js';
import type { SessionEvent, SessionRecord } from './session-store.js';

/** What a `testRun` event holds (see AgentService.test): a run's outcome, or why none ran. */
interface TestRunData {
  baseline?: boolean;
  command?: string;
  exitCode?: number | null;
  timedOut?: boolean;
  output?: string;
  skipped?: string;
}

/** The last lines of a failing run's output: enough to see what failed, short enough for a header. */
const FAILURE_LINES = 6;
const FAILURE_CHARACTERS = 600;

function failureTail(output: string): string {
  const lines = output.replace(/\s+$/, '').split('\n').filter((line) => line.trim() !== '');
  const tail = lines.slice(-FAILURE_LINES).join('\n');
  return tail.length > FAILURE_CHARACTERS ? `…${tail.slice(-FAILURE_CHARACTERS)}` : tail;
}

/**
 * The verdict on a session's proposal, from its last (non-baseline) test run and its caveat (`error` while a
 * proposal waits); null when the session has no proposal.
 */
export function proposalVerdict(session: SessionRecord, events: SessionEvent[]): Verdict | null {
  if (!session.proposal) return null;
  const run = events.filter((event) => event.type === 'testRun').map((event) => event.data as TestRunData).filter((data) => !data.baseline).at(-1);
  const caveat = session.error;
  const command = run?.command ?? null;
  let verdict: Omit<Verdict, 'text'>;
  if (!run || run.skipped) verdict = { tests: 'notRun', command, lastFailure: null, caveat };
  else if (run.exitCode === 0 && !run.timedOut) verdict = { tests: 'passed', command, lastFailure: null, caveat };
  else verdict = { tests: 'failed', command, lastFailure: failureTail(run.output ?? '') || (run.timedOut ? 'timed out' : `exit code ${run.exitCode}`), caveat };
  return { ...verdict, text: verdictText(verdict, run?.skipped) };
}

function verdictText(verdict: Omit<Verdict, 'text'>, skipped: string | undefined): string {
  const command = verdict.command ? ` (${verdict.command})` : '';
  const tests = verdict.tests === 'passed' ? `tests passed${command}`
    : verdict.tests === 'failed' ? `tests FAILED${command}`
      : skipped ? 'no tests ran: no test command found (set agent.testCommand in .codeloop.json)' : 'no tests ran';
  return verdict.caveat ? `${tests}; ${verdict.caveat}` : tests;
}

/** The shortest form, for a code action's title: "tests passed", "tests FAILED", "no tests ran". */
export function verdictTag(verdict: Verdict): string {
  return verdict.tests === 'passed' ? 'tests passed' : verdict.tests === 'failed' ? 'tests FAILED' : 'no tests ran';
}

/** The verdict as lines for a document's header (the diff of Show proposal, the CLI). */
export function verdictLines(verdict: Verdict): string[] {
  const lines = [`verdict: ${verdict.text}`];
  if (verdict.lastFailure) lines.push('last failure:', ...verdict.lastFailure.split('\n').map((line) => `  ${line}`));
  return lines;
}
