import type { DaemonStatus } from '../../protocol/lsp-methods.js';
import { daemonRpc } from '../daemon/daemon-client.js';
import { daemonPaths } from '../daemon/daemon-paths.js';
import { formatBytes } from '../format-bytes.js';
import { openIndexForCli } from './open-index.js';

async function daemonStatus(): Promise<DaemonStatus | null> {
  const rpc = await daemonRpc(daemonPaths());
  if (!rpc) return null;
  try {
    return await rpc.connection.sendRequest<DaemonStatus>('codeloop/status', {});
  } finally {
    rpc.close();
  }
}

function formatDaemon(daemon: DaemonStatus | null): string {
  if (!daemon) return 'daemon    not running (editors start it with `codeloop lsp`)\n';
  const lines = [
    `daemon    pid ${daemon.pid}, v${daemon.version}, since ${daemon.startedAt}, ${daemon.socketPath}`,
    `memory    ${formatBytes(daemon.memory.rssBytes)} resident, ${formatBytes(daemon.memory.heapUsedBytes)} JavaScript heap`,
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
