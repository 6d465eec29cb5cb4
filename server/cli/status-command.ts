import type { DaemonStatus } from '../../protocol/lsp-methods.js';
import { daemonLogPath, daemonRpc } from '../daemon/daemon-client.js';
import { liveLockHolder } from '../daemon/daemon-lock.js';
import { daemonPaths } from '../daemon/daemon-paths.js';
import { formatBytes } from '../format-bytes.js';
import { STALL_LOG_MS } from '../lsp/event-loop-monitor.js';
import { openIndexForCli } from './open-index.js';

/** How long `codeloop status` waits for a daemon that holds the lock before calling it busy, in ms. */
const STATUS_WAIT_MS = Number(process.env.CODELOOP_STATUS_WAIT_MS ?? 5000);

/** A daemon that answered, one that is alive but did not answer in time, or none at all (null). */
type DaemonAnswer = DaemonStatus | { busy: { pid: number | null; waitedMs: number } } | null;

/** Asks the daemon for its status; a live lock holder that stays silent is busy, not dead. */
async function daemonStatus(): Promise<DaemonAnswer> {
  const paths = daemonPaths();
  const rpc = await daemonRpc(paths);
  const busy = () => ({ busy: { pid: liveLockHolder(paths.lock), waitedMs: STATUS_WAIT_MS } });
  if (!rpc) return liveLockHolder(paths.lock) === null ? null : busy();
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      rpc.connection.sendRequest<DaemonStatus>('codeloop/status', {}),
      new Promise<DaemonAnswer>((resolve) => {
        timer = setTimeout(() => resolve(busy()), STATUS_WAIT_MS);
      }),
      rpc.closed.then(() => (liveLockHolder(paths.lock) === null ? null : busy())),
    ]);
  } finally {
    clearTimeout(timer);
    rpc.close();
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
  const daemon = await daemonStatus();
  const index = openIndexForCli(dir);
  try {
    const status = index.status();
    const integrity = options.check ? index.integrityCheck() : undefined;
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
  } finally {
    await index.close();
  }
}
