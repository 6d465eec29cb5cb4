import { liveLockHolder } from './daemon-lock.js';
import { daemonLogPath, type DaemonPaths } from './daemon-paths.js';

/**
 * How long a request may wait on the daemon before the user is told it is busy (not dead), in ms: in the editor
 * (`codeloop lsp`) and for the CLI commands the daemon answers (`search`, `index`). `CODELOOP_BUSY_NOTICE_MS`.
 */
export const BUSY_NOTICE_MS = Number(process.env.CODELOOP_BUSY_NOTICE_MS ?? 10_000);

/**
 * How long the native client (clients/cli/) already waited on the daemon before it handed this command to Node,
 * in ms (`CODELOOP_WAITED_MS`, set only by it): the notice counts from the command's start, not from Node's.
 */
export const WAITED_BEFORE_MS = Number(process.env.CODELOOP_WAITED_MS ?? 0) || 0;

/** "codeloop: the daemon (pid N) is busy: METHOD has had no answer for S s. It is still running; …" */
export function busyMessage(pid: number, method: string, waitedMs: number): string {
  return `codeloop: the daemon (pid ${pid}) is busy: ${method} has had no answer for ${Math.round(waitedMs / 1000)} s. `
    + `It is still running; what it is doing is logged in ${daemonLogPath()} (\`codeloop status\` says the same).`;
}

/**
 * For a CLI command waiting on the daemon: after BUSY_NOTICE_MS without an answer, says on stderr that the daemon
 * is busy (when its process lives; a dead one drops the connection and the command says so). Returns the
 * function that cancels the notice once the answer came.
 */
export function noticeWhenBusy(paths: DaemonPaths, method: string): () => void {
  const started = Date.now() - WAITED_BEFORE_MS;
  const timer = setTimeout(() => {
    const pid = liveLockHolder(paths.lock);
    if (pid !== null) process.stderr.write(`${busyMessage(pid, method, Date.now() - started)} Still waiting.\n`);
  }, Math.max(0, BUSY_NOTICE_MS - WAITED_BEFORE_MS));
  return () => clearTimeout(timer);
}
