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

/**
 * Secret stores that live where an environment variable says, when it is set (the tools read them there, not in
 * the home's default place): each variable's value is a folder (`paths` inside it) or the store itself (`['']`);
 * a list variable (`KUBECONFIG`) holds several. Sources: the XDG Base Directory specification as gh, git, 1Password,
 * hub, doctl, fish and GNOME Keyring follow it; GH_CONFIG_DIR (gh), GNUPGHOME (GnuPG), AWS_SHARED_CREDENTIALS_FILE
 * and AWS_CONFIG_FILE (AWS CLI), CLOUDSDK_CONFIG (gcloud), AZURE_CONFIG_DIR (Azure CLI), KUBECONFIG (kubectl),
 * DOCKER_CONFIG (Docker), NETRC (curl), HISTFILE (bash/zsh), PASSWORD_STORE_DIR (pass), CARGO_HOME (cargo's
 * registry tokens), NPM_CONFIG_USERCONFIG (npm).
 */
export const SECRET_ENV_PATHS: readonly { variable: string; paths: readonly string[] }[] = [
  { variable: 'XDG_CONFIG_HOME', paths: ['gh', 'gcloud', 'git/credentials', 'op', '1Password', 'hub', 'doctl', 'codeloop', 'google-chrome', 'chromium', 'BraveSoftware', 'microsoft-edge'] },
  { variable: 'XDG_DATA_HOME', paths: ['keyrings', 'fish/fish_history'] },
  { variable: 'GH_CONFIG_DIR', paths: [''] },
  { variable: 'GNUPGHOME', paths: [''] },
  { variable: 'AWS_SHARED_CREDENTIALS_FILE', paths: [''] },
  { variable: 'AWS_CONFIG_FILE', paths: [''] },
  { variable: 'CLOUDSDK_CONFIG', paths: [''] },
  { variable: 'AZURE_CONFIG_DIR', paths: [''] },
  { variable: 'KUBECONFIG', paths: [''] },
  { variable: 'DOCKER_CONFIG', paths: ['config.json'] },
  { variable: 'NETRC', paths: [''] },
  { variable: 'HISTFILE', paths: [''] },
  { variable: 'PASSWORD_STORE_DIR', paths: [''] },
  { variable: 'CARGO_HOME', paths: ['credentials', 'credentials.toml'] },
  { variable: 'NPM_CONFIG_USERCONFIG', paths: [''] },
  { variable: 'npm_config_userconfig', paths: [''] },
];

/** The secret stores the environment places (SECRET_ENV_PATHS), as absolute paths; relative values are ignored. */
function secretEnvPaths(env: NodeJS.ProcessEnv): string[] {
  return SECRET_ENV_PATHS.flatMap(({ variable, paths }) => (env[variable] ?? '').split(path.delimiter)
    .filter((value) => path.isAbsolute(value))
    .flatMap((value) => paths.map((relative) => path.join(value, relative))));
}

/** A path the sandbox hides: folders are covered by an empty tmpfs, files by /dev/null. */
export interface HiddenPath {
  path: string;
  folder: boolean;
}

/**
 * The secret stores that exist under `home` (built-in list plus `extra`, home-relative) and where `env` places
 * them (SECRET_ENV_PATHS), plus `alsoHidden` (absolute: codeloop's own state), resolved to real paths so a
 * symlinked store is hidden where it really is. Paths that do not exist need no hiding (nothing to read) and
 * could not be mounted over in a read-only tree.
 */
export function hiddenPaths(home: string, extra: readonly string[], alsoHidden: readonly string[], env: NodeJS.ProcessEnv = process.env): HiddenPath[] {
  const candidates = [...[...SECRET_HOME_PATHS, ...extra].map((relative) => path.resolve(home, relative)), ...secretEnvPaths(env)];
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
