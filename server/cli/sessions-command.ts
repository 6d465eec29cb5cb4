import fs from 'node:fs';
import path from 'node:path';
import type { RequestResult, SessionSummary } from '../../protocol/lsp-methods.js';
import { createAgentService } from '../agent/agent-host.js';
import type { AgentService } from '../agent/agent-service.js';
import type { SessionRecord, SessionStore } from '../agent/session-store.js';
import { undoneText } from '../agent/session-messages.js';
import { checkpointsText, sessionLine, transcriptText } from '../agent/transcript-text.js';
import { stateHome } from '../config/state-paths.js';
import { daemonPaths } from '../daemon/daemon-paths.js';
import { requestDaemon } from '../daemon/daemon-request.js';
import { applyProposalToDisk, inverseProposal, REVERT_WORDING } from '../edits/apply-proposal.js';
import { CodeloopError } from '../errors.js';

/** How long a command waits for a running daemon's answer before saying it is busy. */
const DAEMON_WAIT_MS = 30_000;

/** The sessions database; notFound (with how to start a session) when there is none yet. */
function storeFile(): string {
  const file = path.join(stateHome(), 'sessions.db');
  if (!fs.existsSync(file)) throw new CodeloopError('notFound', `no sessions yet (${file} does not exist): start one with \`codeloop run "TASK"\` or a code action`);
  return file;
}

/** The agent service over the existing store, for a command that changes one session (nothing else recovered). */
function openAgent(): ReturnType<typeof createAgentService> {
  storeFile();
  return createAgentService(() => undefined, { recover: false });
}

/**
 * Every session, newest first, each whose process has died found `interrupted` first (see AgentService.get), as a
 * restarted daemon finds them: a listing never shows work that nothing does any more.
 */
function currentSessions(agent: AgentService, store: SessionStore): SessionRecord[] {
  return store.list().map((session) => agent.get(session.sessionId));
}

/**
 * The one session whose id starts with `id`. Errors: notFound (no such session), invalidArgument (the prefix
 * names several).
 */
function findSession(sessions: SessionRecord[], id: string): SessionRecord {
  const matches = sessions.filter((session) => session.sessionId.startsWith(id));
  if (!matches.length) throw new CodeloopError('notFound', `no session ${JSON.stringify(id)}: \`codeloop sessions list\` shows them`);
  if (matches.length > 1) throw new CodeloopError('invalidArgument', `${JSON.stringify(id)} names ${matches.length} sessions (${matches.map((s) => s.sessionId).join(', ')}); give more of the id`);
  return matches[0];
}

/** Whether `dir` lies in the workspace `root` (both real paths). */
function inWorkspace(root: string, dir: string): boolean {
  const relative = path.relative(root, dir);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

/**
 * `codeloop sessions list [DIR] [--json]`: every session, newest first, or those of the workspace holding DIR.
 * Exit 0; `--json` prints `{sessions: SessionSummary[]}`.
 */
export function sessionsListCommand(dir: string | undefined, options: { json: boolean }): number {
  const { agent, store } = openAgent();
  try {
    let sessions = currentSessions(agent, store);
    if (dir !== undefined) {
      const real = fs.realpathSync(dir);
      sessions = sessions.filter((session) => inWorkspace(session.root, real));
    }
    if (options.json) process.stdout.write(`${JSON.stringify({ sessions: sessions.map((session) => store.summary(session)) })}\n`);
    else if (!sessions.length) process.stdout.write('no sessions\n');
    else process.stdout.write(`${sessions.map(sessionLine).join('\n')}\n`);
    return 0;
  } finally {
    store.close();
  }
}

/**
 * `codeloop sessions show ID [--json]`: one session's record, transcript and the turns it can be rewound to.
 * ID may be any unique prefix of a session id. Errors: see findSession.
 */
export function sessionsShowCommand(id: string, options: { json: boolean }): number {
  const { agent, store } = openAgent();
  try {
    const session = findSession(currentSessions(agent, store), id);
    const events = store.events(session.sessionId);
    const checkpoints = store.checkpointSummaries(session.sessionId);
    process.stdout.write(options.json ? `${JSON.stringify({ ...session, events, checkpoints })}\n` : `${transcriptText(session, events)}${checkpointsText(session, checkpoints)}`);
    return 0;
  } finally {
    store.close();
  }
}

/**
 * `codeloop sessions rewind ID [TURN] [--json]`: takes the session back to where it stood after model turn TURN
 * (one `sessions show` lists; without it, one step back); it then waits, interrupted, until it is resumed (see
 * AgentService.rewind). Prints what happened, or with `--json` the session's summary with `turn` and `undone`
 * (the files the dropped turns had changed). Errors: see findSession and AgentService.rewind.
 */
export async function sessionsRewindCommand(id: string, turn: number | undefined, options: { json: boolean }): Promise<number> {
  const { agent, store } = openAgent();
  try {
    const found = findSession(store.list(), id);
    // The daemon keeps the workspaces of the proposals it made: when it runs, it rewinds (this one or any other).
    const params = { sessionId: found.sessionId, ...(turn === undefined ? {} : { turn }) };
    const answered = await requestDaemon<RequestResult<'codeloop/cliRewind'>>(daemonPaths().socket, 'codeloop/cliRewind', params, DAEMON_WAIT_MS);
    const rewound = answered ? answered.result : rewindHere(agent, store, found.sessionId, turn);
    if (options.json) process.stdout.write(`${JSON.stringify(rewound)}\n`);
    else process.stdout.write(`rewound session ${rewound.sessionId} to turn ${rewound.turn}${undoneText(rewound.undone)}; it waits (${rewound.state}) until you resume it\n`);
    return 0;
  } finally {
    store.close();
  }
}

/** A rewind in this process (no daemon runs), answered like `codeloop/cliRewind`. */
function rewindHere(agent: AgentService, store: SessionStore, sessionId: string, turn: number | undefined): RequestResult<'codeloop/cliRewind'> {
  const { session, turn: to, undone } = agent.rewind(sessionId, turn);
  return { ...store.summary(session), turn: to, undone };
}

/**
 * `codeloop sessions revert ID [--json]`: undoes an applied proposal in the files on disk (no editor involved):
 * the inverse edit, rebased and conflict-checked like Apply, so a file changed since the apply where the revert
 * would change it is reported with its lines and left alone, and every other file is reverted. The session
 * becomes `reverted` once every file is. Exit 0 when all were reverted, 1 when some were left alone. Errors:
 * invalidArgument when the session has no applied proposal.
 */
export function sessionsRevertCommand(id: string, options: { json: boolean }): number {
  const { agent, store } = openAgent();
  try {
    const session = findSession(store.list(), id);
    if (session.state !== 'applied' || !session.proposal) {
      throw new CodeloopError('invalidArgument', `session ${session.sessionId} is ${session.state}; only an applied proposal can be reverted`);
    }
    const outcome = applyProposalToDisk(session.root, inverseProposal(session.proposal), REVERT_WORDING);
    if (!outcome.conflicts.length) agent.markReverted(session.sessionId, outcome.applied);
    const state = agent.get(session.sessionId).state;
    if (options.json) process.stdout.write(`${JSON.stringify({ sessionId: session.sessionId, state, reverted: outcome.applied, conflicts: outcome.conflicts })}\n`);
    else {
      if (outcome.applied.length) process.stdout.write(`reverted ${outcome.applied.join(', ')}\n`);
      if (outcome.conflicts.length) process.stderr.write(`not reverted (the rest is; run it again once these are resolved):\n${outcome.conflicts.map((conflict) => `  ${conflict}\n`).join('')}`);
      process.stdout.write(`session ${session.sessionId}: ${state}\n`);
    }
    return outcome.conflicts.length ? 1 : 0;
  } finally {
    store.close();
  }
}

/** The session `id` names (see findSession), as it stands now (see currentSessions). */
function lookUpSession(id: string): SessionRecord {
  const { agent, store } = openAgent();
  try {
    return agent.get(findSession(store.list(), id).sessionId);
  } finally {
    store.close();
  }
}

/**
 * `codeloop sessions resume ID [--yes] [--json]`: goes on with an interrupted session from its last step. With a
 * daemon running, the daemon does the work (editors attached to the workspace see it, and apply its proposal);
 * without one it runs here in the foreground and ends as `codeloop run` does. Errors: the session's state
 * refusing it, worded for the user (e.g. "… is waiting for you to apply or reject its proposal").
 */
export async function sessionsResumeCommand(id: string, options: { json: boolean; yes: boolean }): Promise<number> {
  const session = lookUpSession(id);
  const answered = await requestDaemon<SessionSummary>(daemonPaths().socket, 'codeloop/cliResume', { sessionId: session.sessionId }, DAEMON_WAIT_MS);
  if (answered) {
    if (options.json) process.stdout.write(`${JSON.stringify(answered.result)}\n`);
    else {
      process.stdout.write(`session ${session.sessionId} resumed in the codeloop daemon: it goes on from its last step\n`
        + `  follow it: codeloop sessions show ${session.sessionId}\n`
        + `  pause it: codeloop sessions pause ${session.sessionId}\n`
        + '  its proposal is offered in your editor (code action "Apply proposal")\n');
    }
    return 0;
  }
  if (!options.json) process.stderr.write(`no codeloop daemon is running: resuming session ${session.sessionId} here (Ctrl-C stops it; resume again later)\n`);
  const { resumeInTerminal } = await import('./run-command.js');
  return resumeInTerminal(session, options);
}

/**
 * A session action only a process running the session can do (pause, steer): sent to the daemon, or, with none
 * running, done by this process's agent, which says why it cannot (no process here runs the session).
 */
async function actOnRunningSession(id: string, method: 'codeloop/cliPause' | 'codeloop/cliSteer', act: (agent: AgentService, sessionId: string) => void, params: Record<string, string>): Promise<SessionRecord> {
  const session = lookUpSession(id);
  if (await requestDaemon(daemonPaths().socket, method, { sessionId: session.sessionId, ...params }, DAEMON_WAIT_MS)) return session;
  const { agent, store } = openAgent();
  try {
    act(agent, session.sessionId);
    return session;
  } finally {
    store.close();
  }
}

/** `codeloop sessions pause ID`: the session stops at its next step, checkpointed, as `interrupted`. */
export async function sessionsPauseCommand(id: string): Promise<number> {
  const session = await actOnRunningSession(id, 'codeloop/cliPause', (agent, sessionId) => agent.pause(sessionId), {});
  process.stdout.write(`session ${session.sessionId} pauses at its next step; \`codeloop sessions resume ${session.sessionId}\` goes on from there\n`);
  return 0;
}

/** `codeloop sessions steer ID "MESSAGE"`: the message reaches the session's model at its next turn. */
export async function sessionsSteerCommand(id: string, message: string): Promise<number> {
  if (!message.trim()) throw new CodeloopError('invalidArgument', 'the message is empty: `codeloop sessions steer ID "what the agent should know"`');
  const session = await actOnRunningSession(id, 'codeloop/cliSteer', (agent, sessionId) => agent.steer(sessionId, message), { message });
  process.stdout.write(`sent to session ${session.sessionId}: the model reads it at its next turn (\`codeloop sessions show ${session.sessionId}\` shows it)\n`);
  return 0;
}
