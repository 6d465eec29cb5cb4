import { formatBytes } from './cli-output.js';
import { openIndexForCli } from './open-index.js';

/** `codeloop status [DIR] [--json] [--check]`: what the index of a tree holds. */
export async function statusCommand(dir: string, options: { json: boolean; check: boolean }): Promise<number> {
  const index = openIndexForCli(dir);
  try {
    const status = index.status();
    const integrity = options.check ? index.integrityCheck() : undefined;
    if (options.json) {
      process.stdout.write(`${JSON.stringify({ ...status, integrity })}\n`);
    } else {
      process.stdout.write(
        `root      ${status.root}\n`
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
