import fs from 'node:fs';
import path from 'node:path';
import type { SessionSummary } from '../../protocol/lsp-methods.js';
import type { AgentService } from '../agent/agent-service.js';
import type { SessionRecord, SessionStore } from '../agent/session-store.js';
import { sessionLine, transcriptText } from '../agent/transcript-text.js';
import { stateHome } from '../config/state-paths.js';
import { daemonPaths } from '../daemon/daemon-paths.js';
import { requestDaemon } from '../daemon/daemon-request.js';
import { CodeloopError } from '../errors.js';

/**
 * The session store, with every session whose process died found `interrupted` first (as a restarted daemon
 * finds them), so a listing never shows work that nothing does any more.
 */
async function openStore(): Promise<SessionStore> {
  const file = path.join(stateHome(), 'sessions.db');
  if (!fs.existsSync(file)) throw new CodeloopError('notFound', `no sessions yet (${file} does not exist): start one with \`codeloop run "TASK"\` or a code action`);
  const { createAgentService } = await import('../agent/agent-host.js');
  return createAgentService(() => undefined).store;
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
export async function sessionsListCommand(dir: string | undefined, options: { json: boolean }): Promise<number> {
  const store = await openStore();
  try {
    let sessions = store.list();
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
 * The session `id` names: a whole session id or any unique prefix of one. Errors: notFound (no such session),
 * invalidArgument (the prefix names several).
 */
function findSession(store: SessionStore, id: string): SessionRecord {
  const matches = store.list().filter((session) => session.sessionId.startsWith(id));
  if (!matches.length) throw new CodeloopError('notFound', `no session ${JSON.stringify(id)}: \`codeloop sessions list\` shows them`);
  if (matches.length > 1) throw new CodeloopError('invalidArgument', `${JSON.stringify(id)} names ${matches.length} sessions (${matches.map((s) => s.sessionId).join(', ')}); give more of the id`);
  return matches[0];
}

/** The session `id` names, read from the store and closed again (see findSession). */
async function lookUpSession(id: string): Promise<SessionRecord> {
  const store = await openStore();
  try {
    return findSession(store, id);
  } finally {
    store.close();
  }
}

/**
 * `codeloop sessions show ID [--json]`: one session's record and transcript. ID may be any unique prefix of a
 * session id. Errors: notFound (no such session), invalidArgument (the prefix names several).
 */
export async function sessionsShowCommand(id: string, options: { json: boolean }): Promise<number> {
  const store = await openStore();
  try {
    const session = findSession(store, id);
    const events = store.events(session.sessionId);
    process.stdout.write(options.json ? `${JSON.stringify({ ...session, events })}\n` : transcriptText(session, events));
    return 0;
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
  const session = await lookUpSession(id);
  const answered = await requestDaemon<SessionSummary>(daemonPaths().socket, 'codeloop/cliResume', { sessionId: session.sessionId });
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
  const session = await lookUpSession(id);
  if (await requestDaemon(daemonPaths().socket, method, { sessionId: session.sessionId, ...params })) return session;
  const { createAgentService } = await import('../agent/agent-host.js');
  const { agent, store } = createAgentService(() => undefined);
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
