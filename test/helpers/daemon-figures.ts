import fs from 'node:fs';
import type { MessageConnection } from 'vscode-jsonrpc';

/** What test/RELIABILITY.md records per suite: the daemon's event-loop delay and memory, from `codeloop/status`. */
export interface DaemonFigures {
  eventLoop: { p50Ms: number; p99Ms: number; maxMs: number; stalls: number };
  rssMB: number;
  heapMB: number;
}

export async function daemonFigures(connection: MessageConnection): Promise<DaemonFigures> {
  const status = await connection.sendRequest<any>('codeloop/status', {});
  return { eventLoop: status.eventLoop, rssMB: Math.round(status.memory.rssBytes / 1e6), heapMB: Math.round(status.memory.heapUsedBytes / 1e6) };
}

/**
 * Prints a suite's figures before and after its run (event-loop delay since the daemon started) and, when
 * FIGURES_REPORT names a file, appends them to it as one JSON line.
 */
export function reportFigures(suite: string, before: DaemonFigures, after: DaemonFigures): void {
  const line = JSON.stringify({ suite, before, after });
  process.stdout.write(`figures: ${line}\n`);
  if (process.env.FIGURES_REPORT) fs.appendFileSync(process.env.FIGURES_REPORT, `${line}\n`);
}
