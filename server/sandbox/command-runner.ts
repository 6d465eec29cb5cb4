import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { stateHome } from '../config/state-paths.js';
import { CodeloopError } from '../errors.js';
import { hiddenPaths, hideArguments, type HiddenPath } from './home-access.js';
import { runProbe, runProbeSync, type Probe } from './probe-commands.js';

export interface CommandLimits {
  timeoutMs: number;
  /** Bytes of output kept (head and tail halves); the rest is counted, not kept. */
  outputBytes: number;
  /** Largest file a command may write, bytes (RLIMIT_FSIZE). */
  fileSizeBytes: number;
  /** Processes for the user inside the sandbox (RLIMIT_NPROC): stops fork bombs. */
  processes: number;
}

export const DEFAULT_LIMITS: CommandLimits = {
  timeoutMs: 120_000,
  outputBytes: 64 * 1024,
  fileSizeBytes: 256 * 1024 * 1024,
  processes: 512,
};

export interface CommandResult {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  output: string;
  /** Bytes produced beyond what was kept. */
  droppedBytes: number;
  durationMs: number;
}

export interface IsolationReport {
  /** bubblewrap works: everything outside the command's folder is read-only, secret stores and /tmp hidden, no network. */
  filesystem: boolean;
  /** A private network namespace (bubblewrap or `unshare -rn`): only loopback. */
  network: boolean;
  /** `prlimit` is present: process and file-size limits apply. */
  limits: boolean;
}

/** The isolation probe's steps (probe-commands.ts runs them with or without blocking). */
function* isolationProbe(): Probe<IsolationReport> {
  const filesystem = (yield { command: 'bwrap', args: ['--ro-bind', '/', '/', '--dev', '/dev', '--unshare-net', 'true'] }).status === 0;
  const network = filesystem || (yield { command: 'unshare', args: ['-rn', 'true'] }).status === 0;
  const limits = (yield { command: 'prlimit', args: ['--version'] }).status === 0;
  return { filesystem, network, limits };
}

let cachedIsolation: IsolationReport | null = null;
let probingIsolation: Promise<IsolationReport> | null = null;

/** What this machine allows, probed once; `codeloop doctor` and sessions say when isolation is weaker. */
export function probeIsolation(): IsolationReport {
  cachedIsolation ??= runProbeSync(isolationProbe());
  return cachedIsolation;
}

/** The same, probed without blocking the event loop (the daemon's sessions run their commands through this). */
function isolation(): Promise<IsolationReport> {
  if (cachedIsolation) return Promise.resolve(cachedIsolation);
  probingIsolation ??= runProbe(isolationProbe()).then((report) => (cachedIsolation ??= report));
  return probingIsolation;
}

/** One line for `codeloop doctor` and session transcripts: what the sandbox does on this machine. */
export function describeIsolation(report: IsolationReport = probeIsolation()): string {
  const parts = [
    report.filesystem ? 'read-only system and home, secret stores and /tmp hidden (bubblewrap)' : 'NO filesystem isolation (install bubblewrap): commands can write anywhere the user can',
    report.network ? 'no network' : 'NETWORK AVAILABLE (no user namespaces)',
    report.limits ? 'file-size limit (prlimit)' : 'no prlimit',
  ];
  return parts.join('; ');
}

/**
 * Variables that say where a toolchain is installed or which version to run: without them a toolchain outside
 * its default place cannot start (rustup's proxies look in `$RUSTUP_HOME`, default `~/.rustup`; pyenv's shims in
 * `$PYENV_ROOT` for `$PYENV_VERSION`; Go finds its module cache through `$GOPATH`/`$GOMODCACHE`, offline). Each
 * names a place or a version, never a credential. Sources: rustup, Go (`go help environment`), pyenv, venv/conda,
 * nvm, volta, fnm, pnpm, bun, deno, SDKMAN, Gradle, Maven, rbenv/RubyGems, asdf, mise and .NET documentation.
 */
export const TOOLCHAIN_VARIABLES: readonly string[] = [
  'RUSTUP_HOME', 'CARGO_HOME', 'RUSTUP_TOOLCHAIN',
  'GOROOT', 'GOPATH', 'GOBIN', 'GOMODCACHE', 'GOFLAGS', 'GOTOOLCHAIN',
  'PYENV_ROOT', 'PYENV_VERSION', 'VIRTUAL_ENV', 'CONDA_PREFIX', 'CONDA_DEFAULT_ENV', 'PYTHONPATH',
  'NVM_DIR', 'NVM_BIN', 'VOLTA_HOME', 'FNM_DIR', 'FNM_MULTISHELL_PATH', 'PNPM_HOME', 'BUN_INSTALL', 'NODE_PATH', 'DENO_DIR', 'DENO_INSTALL',
  'JAVA_HOME', 'SDKMAN_DIR', 'GRADLE_USER_HOME', 'MAVEN_HOME', 'M2_HOME',
  'GEM_HOME', 'GEM_PATH', 'RBENV_ROOT', 'RBENV_VERSION',
  'ASDF_DIR', 'ASDF_DATA_DIR', 'MISE_DATA_DIR', 'DOTNET_ROOT', 'ANDROID_HOME', 'ANDROID_SDK_ROOT',
  'LD_LIBRARY_PATH', 'PKG_CONFIG_PATH',
];

/** Only what builds and tests need: the PATH, the locale and where toolchains are; no API keys, tokens or the user's other secrets. */
export function scrubbedEnvironment(home: string, source: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { HOME: home, CI: 'true', TERM: 'dumb', NO_COLOR: '1' };
  for (const key of ['PATH', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR', ...TOOLCHAIN_VARIABLES]) if (source[key]) env[key] = source[key];
  return env;
}

/** An overlay mount: `lowers` top first, writes into `upper` (`work` is overlayfs' scratch folder, same file system). */
export interface OverlayLayers {
  lowers: string[];
  upper: string;
  work: string;
}

/**
 * What a command sees. `cwd` is the folder it runs in, at the path the user knows (a session's tree appears at
 * the user's own root). Its content is the folder itself (writable, or read-only for probes), a copy bound over
 * it, or overlay layers mounted over it inside the sandbox's own user and mount namespace. The home folder is
 * readable but not writable (its writes go to `homeLayer` when overlays work), and `hidden` paths are not there.
 */
export interface SandboxSpec {
  cwd: string;
  source: { kind: 'folder'; readOnly?: boolean } | { kind: 'copy'; dir: string } | ({ kind: 'overlay' } & OverlayLayers);
  home: string;
  /** The home folder's own overlay: `upper` keeps what tools write there (caches), mounted at `mountpoint`. */
  homeLayer?: OverlayLayers & { mountpoint: string };
  hidden: readonly HiddenPath[];
  /** Extra writable folders (a private cache folder when the home cannot have an overlay). */
  writable?: readonly string[];
}

/**
 * The plain sandbox around one folder (its own content, writable): secret stores (plus `hiddenHomePaths`, home-
 * relative) and codeloop's state hidden.
 */
export function folderSandbox(cwd: string, home: string = os.homedir(), hiddenHomePaths: readonly string[] = []): SandboxSpec {
  return { cwd, source: { kind: 'folder' }, home, hidden: hiddenPaths(home, hiddenHomePaths, [stateHome()]) };
}

/**
 * Mount options for overlayfs; commas and colons would split them, and mount(8) reads a double quote as quoting
 * (`mount: … wrong fs type, bad option`), so paths with those cannot be layers.
 */
export function overlayOptions(layers: OverlayLayers): string {
  for (const dir of [...layers.lowers, layers.upper, layers.work]) {
    if (/[,:"\\\n]/.test(dir)) throw new CodeloopError('sandboxUnavailable', `the path ${JSON.stringify(dir)} contains a comma, colon, double quote, backslash or newline, which overlay mounts cannot take`);
  }
  // userxattr: inside a user namespace overlayfs may only use user.* extended attributes (kernel ≥ 5.11).
  return `lowerdir=${layers.lowers.join(':')},upperdir=${layers.upper},workdir=${layers.work},userxattr`;
}

function isInside(folder: string, file: string): boolean {
  const relative = path.relative(folder, file);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

/** The program and arguments that run `command` as `spec` says, on this machine's isolation. */
function sandboxArgv(command: string, spec: SandboxSpec, limits: CommandLimits, isolation: IsolationReport): { argv: string[]; spawnDir: string } {
  const argv: string[] = [];
  if (isolation.limits) {
    // CPU seconds as a second line of defence behind the wall-clock limit (a busy loop that ignores signals).
    const cpuSeconds = Math.max(1, Math.ceil(limits.timeoutMs / 1000));
    argv.push('prlimit', `--nproc=${limits.processes}`, `--fsize=${limits.fileSizeBytes}`, `--cpu=${cpuSeconds}`, '--core=0', '--');
  }
  const { cwd, source } = spec;
  const homeLayer = isolation.filesystem ? spec.homeLayer : undefined;
  const mounting = source.kind === 'overlay' || homeLayer !== undefined;
  if (mounting) {
    // Overlays are mounted by "root" of a private user namespace; the mounts live and die with the command.
    // The tree's overlay goes right over the user's root (commands see their files where they are); the home's
    // at a mountpoint of its own, bound over the home by bubblewrap (mounted at the home itself it would hide
    // the tree's overlay below it).
    const mounts: string[] = [];
    if (source.kind === 'overlay') mounts.push(overlayOptions(source), cwd);
    if (homeLayer) mounts.push(overlayOptions(homeLayer), homeLayer.mountpoint);
    const script = `while [ "$1" != -- ]; do mount -t overlay overlay -o "$1" "$2" || exit ${MOUNT_FAILED}; shift 2; done; shift; cd "$0" && exec "$@"`;
    argv.push('unshare', '--user', '--map-root-user', '--mount', ...(isolation.filesystem ? [] : ['--net']), '--', 'sh', '-c', script, cwd, ...mounts, '--');
  }
  if (isolation.filesystem) {
    // The home is bound again (read-only, or its overlay) in case it lies under the hidden /tmp.
    const binds: string[] = homeLayer ? ['--bind', homeLayer.mountpoint, spec.home] : spec.home === '/' ? [] : ['--ro-bind', spec.home, spec.home];
    // The tree is bound last: it may lie under the home, /tmp or a hidden folder, and must land on top.
    const tree = source.kind === 'copy' ? ['--bind', source.dir, cwd] : [source.kind === 'folder' && source.readOnly ? '--ro-bind' : '--bind', cwd, cwd];
    // Under the hidden /tmp only what is bound again is there to hide (and only there can a mount land).
    const visible = spec.hidden.filter((entry) => !isInside('/tmp', entry.path) || isInside(spec.home, entry.path) || isInside(cwd, entry.path));
    // A store inside the tree (a session on the home folder itself) is hidden after the tree is bound.
    const inTree = visible.filter((entry) => isInside(cwd, entry.path));
    // After mounting as the namespace's "root", the command gets the user's own ids back (tools that check who
    // they run as, files they create, behave as outside).
    const ids = mounting ? ['--unshare-user', '--uid', String(process.getuid?.() ?? 0), '--gid', String(process.getgid?.() ?? 0)] : [];
    argv.push('bwrap', ...ids, '--ro-bind', '/', '/', '--tmpfs', '/tmp', '--dev', '/dev', '--proc', '/proc', ...binds, ...hideArguments(visible.filter((entry) => !inTree.includes(entry))),
      ...tree, ...hideArguments(inTree), ...(spec.writable ?? []).flatMap((dir) => ['--bind', dir, dir]), '--unshare-net', '--die-with-parent', '--chdir', cwd, '--');
  } else if (source.kind !== 'overlay' && isolation.network) {
    argv.push('unshare', '-rn', '--');
  }
  argv.push('bash', '-c', command);
  // Without bubblewrap a copy cannot be bound over the user's root: the command runs in the copy itself.
  return { argv, spawnDir: source.kind === 'copy' && !isolation.filesystem ? source.dir : cwd };
}

/** The mount script's exit status when an overlay mount fails (before the command starts). */
const MOUNT_FAILED = 125;

/**
 * The sandbox's own failure to set up, told from the command's: bubblewrap reports its set-up errors as
 * "bwrap: …" and exits 1 before the command starts (so they come first), and the mount script exits MOUNT_FAILED
 * after mount(8)'s "mount: …". Null when the command ran (whatever it exited with).
 */
function setupFailure(argv: readonly string[], exitCode: number | null, output: string): string | null {
  const firstLine = output.trimStart().split('\n', 1)[0];
  if (argv.includes('bwrap') && exitCode === 1 && firstLine.startsWith('bwrap: ')) return firstLine;
  if (argv.includes('unshare') && exitCode === MOUNT_FAILED && firstLine.startsWith('mount: ')) return firstLine;
  return null;
}

/**
 * Runs a shell command with a wall-time limit (the whole process group is killed), an output cap, process and
 * file-size limits, and — where the machine allows it — no network and nothing writable but its tree and a
 * private /tmp. `sandbox` is a folder (its own content, writable) or a session's view (see SandboxSpec).
 * Resolves with how the command ended, whatever its exit status; rejects with CodeloopError `sandboxUnavailable`
 * when the sandbox itself could not be set up (the command never ran: a failing test run would be a lie, and no
 * repair by the model can fix it).
 */
export async function runCommand(command: string, sandbox: string | SandboxSpec, env: NodeJS.ProcessEnv, limits: CommandLimits = DEFAULT_LIMITS, signal?: AbortSignal): Promise<CommandResult> {
  const spec = typeof sandbox === 'string' ? folderSandbox(sandbox) : sandbox;
  const { argv, spawnDir } = sandboxArgv(command, spec, limits, await isolation());
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { cwd: spawnDir, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const half = Math.floor(limits.outputBytes / 2);
    let head = '';
    let tail = '';
    let dropped = 0;
    const collect = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      if (head.length < half) {
        const take = text.slice(0, half - head.length);
        head += take;
        tail += text.slice(take.length); // cut (and counted) below
      } else {
        tail += text;
      }
      if (tail.length > half) {
        dropped += tail.length - half;
        tail = tail.slice(-half);
      }
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    let timedOut = false;
    const killGroup = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, limits.timeoutMs);
    // Removed when the command ends: the session's one signal outlives many commands (listeners would pile up).
    signal?.addEventListener('abort', killGroup, { once: true });
    child.on('close', (exitCode, exitSignal) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', killGroup);
      killGroup(); // orphans left in the group die with it
      const output = dropped ? `${head}\n… [${dropped} bytes of output cut] …\n${tail}` : head + tail;
      const failure = timedOut ? null : setupFailure(argv, exitCode, output);
      if (failure) {
        reject(new CodeloopError('sandboxUnavailable', `the sandbox could not be set up to run ${JSON.stringify(command.slice(0, 200))}, so it did not run: ${failure}; \`codeloop doctor\` checks the sandbox`));
        return;
      }
      resolve({ exitCode, signal: exitSignal, timedOut, output, droppedBytes: dropped, durationMs: performance.now() - started });
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', killGroup);
      resolve({ exitCode: null, signal: null, timedOut: false, output: `could not start the command: ${error.message}`, droppedBytes: 0, durationMs: 0 });
    });
  });
}
