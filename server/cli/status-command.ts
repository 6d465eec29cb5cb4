import type { DaemonStatus } from '../../protocol/lsp-methods.js';
import type { IndexStatus } from '../../protocol/search.js';
import { daemonLogPath } from '../daemon/daemon-paths.js';
import { liveLockHolder } from '../daemon/daemon-lock.js';
import { daemonPaths } from '../daemon/daemon-paths.js';
import { DaemonTimeout, requestDaemon } from '../daemon/daemon-request.js';
import { formatBytes } from '../format-bytes.js';
import { STALL_LOG_MS } from '../lsp/event-loop-monitor.js';
import { resolveWorkspaceRoot } from '../workspace/workspace-root.js';

/**
 * The index's status and, with `--check`, its integrity: from the daemon when it has the workspace open (no
 * database opened here), else from the database in this process.
 */
async function indexStatus(root: string, daemon: DaemonStatus | null, check: boolean): Promise<{ status: IndexStatus; integrity?: string }> {
  const served = daemon?.workspaces.find((workspace) => workspace.root === root);
  if (served && !check) return { status: served.index };
  const { openIndexForCli } = await import('./open-index.js');
  const index = openIndexForCli(root);
  try {
    return { status: index.status(), integrity: check ? index.integrityCheck() : undefined };
  } finally {
    await index.close();
  }
}

/** How long `codeloop status` waits for a daemon that holds the lock before calling it busy, in ms. */
const STATUS_WAIT_MS = Number(process.env.CODELOOP_STATUS_WAIT_MS ?? 5000);

/** A daemon that answered, one that is alive but did not answer in time, or none at all (null). */
type DaemonAnswer = DaemonStatus | { busy: { pid: number | null; waitedMs: number } } | null;

/** Asks the daemon for its status; a live lock holder that stays silent (or hangs up) is busy, not dead. */
async function daemonStatus(): Promise<DaemonAnswer> {
  const paths = daemonPaths();
  const busy = () => ({ busy: { pid: liveLockHolder(paths.lock), waitedMs: STATUS_WAIT_MS } });
  try {
    const answer = await requestDaemon<DaemonStatus>(paths.socket, 'codeloop/status', {}, STATUS_WAIT_MS);
    if (answer) return answer.result;
    return liveLockHolder(paths.lock) === null ? null : busy();
  } catch (error) {
    if (error instanceof DaemonTimeout || liveLockHolder(paths.lock) !== null) return busy();
    throw error;
  }
}

function formatDaemon(daemon: DaemonAnswer): string {
  if (!daemon) return 'daemon    not running (editors start it with `codeloop lsp`)\n';
  if ('busy' in daemon) {
    const who = daemon.busy.pid === null ? 'the daemon' : `pid ${daemon.busy.pid}`;
    return `daemon    busy (not answering for ${daemon.busy.waitedMs / 1000} s): ${who} is alive; what it is doing is logged in ${daemonLogPath()}\n`;
  }
  const lines = [
    `daemon    pid ${daemon.pid}, v${daemon.version}, since ${daemon.startedAt}, ${daemon.socketPath}`,
    `memory    ${formatBytes(daemon.memory.rssBytes)} resident, ${formatBytes(daemon.memory.heapUsedBytes)} JavaScript heap`,
    `loop      event-loop delay p99 ${daemon.eventLoop.p99Ms} ms, max ${daemon.eventLoop.maxMs} ms, ${daemon.eventLoop.stalls} stalls over ${STALL_LOG_MS} ms (logged)`,
  ];
  for (const client of daemon.clients) lines.push(`client    #${client.id} ${client.name}: ${client.workspaces.join(', ') || '(no workspace)'}`);
  for (const workspace of daemon.workspaces) {
    lines.push(`workspace ${workspace.root}: ${workspace.clients} clients, ${workspace.index.files} files${workspace.indexing ? ', indexing' : ''}`);
    for (const problem of workspace.problems) lines.push(`${problem.severity.padEnd(9)} ${problem.message}`);
  }
  for (const session of daemon.sessions.slice(0, 10)) {
    lines.push(`session   ${session.sessionId} ${session.state.padEnd(20)} ${session.prompt.slice(0, 60)}  (${session.root})`);
  }
  if (daemon.sessions.length === 0) lines.push('sessions  none');
  return `${lines.join('\n')}\n`;
}

/** `codeloop status [DIR] [--json] [--check]`: the daemon (if running) and what the index of a tree holds. */
export async function statusCommand(dir: string, options: { json: boolean; check: boolean }): Promise<number> {
  const root = resolveWorkspaceRoot(dir);
  const daemon = await daemonStatus();
  const { status, integrity } = await indexStatus(root, daemon && !('busy' in daemon) ? daemon : null, options.check);
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ ...status, integrity, daemon })}\n`);
  } else {
    process.stdout.write(
      formatDaemon(daemon)
      + `root      ${status.root}\n`
      + `index     ${status.databasePath} (${formatBytes(status.databaseBytes)}, schema v${status.schemaVersion})\n`
      + `files     ${status.files} (${formatBytes(status.bytes)}), ${status.symbols} symbols\n`
      + `updated   ${status.lastIndexedAt ?? 'never — run `codeloop index`'}\n`
      + (integrity ? `integrity ${integrity}\n` : ''),
    );
  }
  return integrity === undefined || integrity === 'ok' ? 0 : 1;
}
