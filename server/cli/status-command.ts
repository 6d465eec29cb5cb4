import type { DaemonStatus } from '../../protocol/lsp-methods.js';
import type { IndexStatus } from '../../protocol/search.js';
import { daemonPaths } from '../daemon/daemon-paths.js';
import { requestDaemon } from '../daemon/daemon-request.js';
import { formatBytes } from '../format-bytes.js';
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
  const root = resolveWorkspaceRoot(dir);
  const daemon = (await requestDaemon<DaemonStatus>(daemonPaths().socket, 'codeloop/status', {}))?.result ?? null;
  const { status, integrity } = await indexStatus(root, daemon, options.check);
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
