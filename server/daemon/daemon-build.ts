import type { DaemonHello, DaemonStatus } from '../../protocol/lsp-methods.js';
import { BUILD_INFO, describeBuild, type BuildInfo } from '../build-info.js';
import { BUSY_NOTICE_MS, WAITED_BEFORE_MS } from './busy-notice.js';
import { liveLockHolder } from './daemon-lock.js';
import type { DaemonPaths } from './daemon-paths.js';
import { requestDaemon } from './daemon-request.js';

/**
 * How long a daemon may take to say its build before this client goes on without knowing it (a busy daemon), in
 * ms: the time after which the user is told it is busy (BUSY_NOTICE_MS), so a loaded machine's slow answer is
 * still heard, and a stuck daemon costs no more than the wait the user is told about anyway.
 */
const HELLO_WAIT_MS = BUSY_NOTICE_MS;
/** How long an older daemon asked to stop may take to let go of its lock (it closes its workspaces first). */
const STOP_WAIT_MS = 30_000;
/** Session states in which a daemon from before `codeloop/hello` runs a session (it can only be asked for its status). */
const AT_WORK = new Set(['planning', 'working', 'testing']);

/** What meeting the running daemon came to: what to tell the user (null: nothing), and whether it was replaced. */
export interface DaemonMeeting {
  notice: string | null;
  /** The older daemon was stopped: the caller starts (or goes on without) a daemon of its own build. */
  replaced: boolean;
}

/** The daemon's build and work, from `codeloop/hello`, or from `codeloop/status` for a daemon older than it. */
async function askDaemon(paths: DaemonPaths): Promise<DaemonHello | null> {
  const hello = await requestDaemon<DaemonHello>(paths.socket, 'codeloop/hello', BUILD_INFO, HELLO_WAIT_MS);
  if (hello) return hello.result;
  // Null: no daemon, or one that does not know `codeloop/hello` (MethodNotFound) — a build from before build ids.
  const pid = liveLockHolder(paths.lock);
  if (pid === null) return null;
  const status = await requestDaemon<DaemonStatus>(paths.socket, 'codeloop/status', {}, HELLO_WAIT_MS);
  if (!status) return null;
  const before: BuildInfo = { buildId: 'from before build ids', builtAt: 0, version: status.result.version };
  return {
    build: before, pid, cliPath: '', clients: status.result.clients.length,
    sessionsAtWork: status.result.sessions.filter((session) => AT_WORK.has(session.state)).length,
    indexing: status.result.workspaces.some((workspace) => workspace.indexing),
  };
}

/** What the daemon is doing that stopping it would cut short, as words ("2 sessions at work and indexing"), or null. */
function workInProgress(hello: DaemonHello): string | null {
  const parts = [
    ...(hello.sessionsAtWork ? [`${hello.sessionsAtWork} session${hello.sessionsAtWork === 1 ? '' : 's'} at work`] : []),
    ...(hello.indexing ? ['indexing'] : []),
  ];
  return parts.length ? parts.join(' and ') : null;
}

/**
 * Meets the running daemon before a client uses it (`codeloop lsp`, `codeloop search`, `codeloop index`): the
 * same build goes on silently. A newer client than the daemon stops it when it is idle — no session running, no
 * workspace indexing; sessions and proposals are stored, so none is lost, and editors connected to it are told
 * their server stopped — waits until it has let go, and reports it replaced; when it is busy, it is left to
 * finish, and the notice says how to replace it then. An older client than the daemon is told to use the newer
 * installation. A daemon that does not answer within HELLO_WAIT_MS, or fails to, is met no further: the
 * caller's own request then tells the user it is busy, or what went wrong. So is one the native client already
 * waited on in vain (it handed over with CODELOOP_WAITED_MS; of another build, it is refused at once instead).
 */
export async function meetDaemon(paths: DaemonPaths): Promise<DaemonMeeting> {
  if (WAITED_BEFORE_MS > 0) return { notice: null, replaced: false };
  const hello = await askDaemon(paths).catch(() => null);
  if (!hello || hello.build.buildId === BUILD_INFO.buildId) return { notice: null, replaced: false };
  const ours = describeBuild(BUILD_INFO);
  const daemon = `the running daemon (pid ${hello.pid})`;
  const theirs = `${daemon} is ${describeBuild(hello.build)}`;
  if (hello.build.builtAt > BUILD_INFO.builtAt) {
    const where = hello.cliPath ? `: use the codeloop that runs ${hello.cliPath}` : ': use the newer codeloop';
    return { notice: `codeloop: this codeloop, ${ours}, is older than ${daemon}, ${describeBuild(hello.build)}${where} (this one goes on with that daemon).`, replaced: false };
  }
  const busy = workInProgress(hello);
  if (busy) {
    return {
      notice: `codeloop: ${theirs}, older than this codeloop, ${ours}; it has ${busy}, so it keeps serving for now. `
        + 'Once that is done, run `codeloop daemon stop` (sessions are kept) and the next editor or command starts this build\'s daemon.',
      replaced: false,
    };
  }
  await requestDaemon(paths.socket, 'codeloop/stopDaemon', {}, HELLO_WAIT_MS).catch(() => null); // it may hang up before answering
  for (const deadline = Date.now() + STOP_WAIT_MS; liveLockHolder(paths.lock) === hello.pid;) {
    if (Date.now() > deadline) {
      return { notice: `codeloop: ${theirs}, older than this codeloop, ${ours}; it was asked to stop but still runs after ${STOP_WAIT_MS / 1000} s. Run \`codeloop daemon stop\`.`, replaced: false };
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { notice: `codeloop: replaced the running daemon (pid ${hello.pid}, ${describeBuild(hello.build)}) with this newer build, ${ours}.`, replaced: true };
}
