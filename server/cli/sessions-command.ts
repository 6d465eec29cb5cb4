import fs from 'node:fs';
import path from 'node:path';
import { SessionStore } from '../agent/session-store.js';
import { sessionLine, transcriptText } from '../agent/transcript-text.js';
import { stateHome } from '../config/state-paths.js';
import { CodeloopError } from '../errors.js';

function openStore(): SessionStore {
  const file = path.join(stateHome(), 'sessions.db');
  if (!fs.existsSync(file)) throw new CodeloopError('notFound', `no sessions yet (${file} does not exist): start one with \`codeloop run "TASK"\` or a code action`);
  return new SessionStore(file);
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
  const store = openStore();
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
 * `codeloop sessions show ID [--json]`: one session's record and transcript. ID may be any unique prefix of a
 * session id. Errors: notFound (no such session), invalidArgument (the prefix names several).
 */
export function sessionsShowCommand(id: string, options: { json: boolean }): number {
  const store = openStore();
  try {
    const matches = store.list().filter((session) => session.sessionId.startsWith(id));
    if (!matches.length) throw new CodeloopError('notFound', `no session ${JSON.stringify(id)}: \`codeloop sessions list\` shows them`);
    if (matches.length > 1) throw new CodeloopError('invalidArgument', `${JSON.stringify(id)} names ${matches.length} sessions (${matches.map((s) => s.sessionId).join(', ')}); give more of the id`);
    const session = matches[0];
    const events = store.events(session.sessionId);
    process.stdout.write(options.json ? `${JSON.stringify({ ...session, events })}\n` : transcriptText(session, events));
    return 0;
  } finally {
    store.close();
  }
}
