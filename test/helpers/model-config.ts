import fs from 'node:fs';
import path from 'node:path';

/** Writes codeloop's user config where a CLI run with this private state dir (see run-cli.ts) reads it. */
export function writeUserConfig(stateHome: string, config: Record<string, unknown>): void {
  fs.mkdirSync(path.join(stateHome, 'config', 'codeloop'), { recursive: true });
  fs.writeFileSync(path.join(stateHome, 'config', 'codeloop', 'config.json'), JSON.stringify(config));
}
