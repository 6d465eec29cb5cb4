import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';

/** `$XDG_STATE_HOME/codeloop`, falling back to `~/.local/state/codeloop` as the XDG spec says. */
export function stateHome(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_STATE_HOME && path.isAbsolute(env.XDG_STATE_HOME)
    ? env.XDG_STATE_HOME
    : path.join(os.homedir(), '.local', 'state');
  return path.join(base, 'codeloop');
}

export function configHome(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME && path.isAbsolute(env.XDG_CONFIG_HOME)
    ? env.XDG_CONFIG_HOME
    : path.join(os.homedir(), '.config');
  return path.join(base, 'codeloop');
}

/** Per-workspace state folder: keyed by a hash of the real root path so two spellings of a root share one index. */
export function workspaceStateDir(realRoot: string, env: NodeJS.ProcessEnv = process.env): string {
  const digest = createHash('sha256').update(realRoot).digest('hex').slice(0, 16);
  return path.join(stateHome(env), `${path.basename(realRoot) || 'root'}-${digest}`);
}
