import fs from 'node:fs';
import path from 'node:path';

/**
 * Secret stores under the home folder that sandboxed commands never see (the rest of the home is readable, so
 * toolchains installed there — nvm, pyenv, rustup, `~/.local/bin`, the Go module cache — work). Sources: each
 * tool's documentation of where it keeps credentials (OpenSSH, AWS CLI, GnuPG, netrc(5), GitHub CLI, Docker,
 * gcloud, Azure CLI, kubectl, npm/pypi/cargo/gem tokens, git credential store, browsers' profile folders).
 */
export const SECRET_HOME_PATHS: readonly string[] = [
  '.ssh', '.aws', '.gnupg', '.netrc', '.config/gh', '.docker/config.json',
  '.config/gcloud', '.azure', '.kube', '.config/doctl', '.oci', '.terraform.d/credentials.tfrc.json',
  '.npmrc', '.pypirc', '.cargo/credentials', '.cargo/credentials.toml', '.gem/credentials', '.git-credentials',
  '.config/git/credentials', '.password-store', '.local/share/keyrings', '.pki',
  '.bash_history', '.zsh_history', '.zhistory', '.history', '.python_history', '.node_repl_history', '.psql_history',
  '.mysql_history', '.sqlite_history', '.lesshst', '.local/share/fish/fish_history', '.viminfo',
  '.mozilla', '.config/google-chrome', '.config/chromium', '.config/BraveSoftware', '.config/microsoft-edge',
  '.thunderbird', '.config/op', '.config/1Password', '.vault-token', '.config/hub', '.config/codeloop',
];

/** A path the sandbox hides: folders are covered by an empty tmpfs, files by /dev/null. */
export interface HiddenPath {
  path: string;
  folder: boolean;
}

/**
 * The secret stores that exist under `home` (built-in list plus `extra`, home-relative), plus `alsoHidden`
 * (absolute: codeloop's own state), resolved to real paths so a symlinked store is hidden where it really is.
 * Paths that do not exist need no hiding (nothing to read) and could not be mounted over in a read-only tree.
 */
export function hiddenPaths(home: string, extra: readonly string[], alsoHidden: readonly string[]): HiddenPath[] {
  const candidates = [...SECRET_HOME_PATHS, ...extra].map((relative) => path.resolve(home, relative));
  const found = new Map<string, HiddenPath>();
  for (const candidate of [...candidates, ...alsoHidden]) {
    // The real path: a mount over a symlink would land wherever the link points inside the sandbox.
    const real = realPathOrNull(candidate);
    if (!real) continue; // absent: nothing to hide
    try {
      found.set(real, { path: real, folder: fs.statSync(real).isDirectory() });
    } catch {
      // vanished meanwhile
    }
  }
  return [...found.values()];
}

function realPathOrNull(file: string): string | null {
  try {
    return fs.realpathSync(file);
  } catch {
    return null;
  }
}

/** bubblewrap arguments hiding each path (after the tree they sit in is mounted). */
export function hideArguments(hidden: readonly HiddenPath[]): string[] {
  return hidden.flatMap((entry) => (entry.folder ? ['--tmpfs', entry.path] : ['--ro-bind', '/dev/null', entry.path]));
}
