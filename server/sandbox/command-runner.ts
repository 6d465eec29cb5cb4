import { spawn, spawnSync } from 'node:child_process';
import os from 'node:os';

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
  /** bubblewrap works: everything outside the command's folder is read-only, home and /tmp hidden, no network. */
  filesystem: boolean;
  /** A private network namespace (bubblewrap or `unshare -rn`): only loopback. */
  network: boolean;
  /** `prlimit` is present: process and file-size limits apply. */
  limits: boolean;
}

let cachedIsolation: IsolationReport | null = null;

/** What this machine allows, probed once; `codeloop doctor` and sessions say when isolation is weaker. */
export function probeIsolation(): IsolationReport {
  if (!cachedIsolation) {
    const filesystem = spawnSync('bwrap', ['--ro-bind', '/', '/', '--dev', '/dev', '--unshare-net', 'true'], { stdio: 'ignore' }).status === 0;
    cachedIsolation = {
      filesystem,
      network: filesystem || spawnSync('unshare', ['-rn', 'true'], { stdio: 'ignore' }).status === 0,
      limits: spawnSync('prlimit', ['--version'], { stdio: 'ignore' }).status === 0,
    };
  }
  return cachedIsolation;
}

/** One line for `codeloop doctor` and session transcripts: what the sandbox does on this machine. */
export function describeIsolation(report: IsolationReport = probeIsolation()): string {
  const parts = [
    report.filesystem ? 'read-only system, home and /tmp hidden (bubblewrap)' : 'NO filesystem isolation (install bubblewrap): commands can write anywhere the user can',
    report.network ? 'no network' : 'NETWORK AVAILABLE (no user namespaces)',
    report.limits ? 'file-size limit (prlimit)' : 'no prlimit',
  ];
  return parts.join('; ');
}

/** Only what builds and tests need: no API keys, tokens or the user's other secrets. */
export function scrubbedEnvironment(home: string, source: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { HOME: home, CI: 'true', TERM: 'dumb', NO_COLOR: '1' };
  for (const key of ['PATH', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR']) if (source[key]) env[key] = source[key];
  return env;
}

/**
 * Runs a shell command in `cwd` with a wall-time limit (the whole process group is killed), an output cap,
 * process and file-size limits, and — where the machine allows it — no network and nothing writable but `cwd`
 * and a private /tmp.
 */
export function runCommand(command: string, cwd: string, env: NodeJS.ProcessEnv, limits: CommandLimits = DEFAULT_LIMITS, signal?: AbortSignal): Promise<CommandResult> {
  const isolation = probeIsolation();
  const argv: string[] = [];
  if (isolation.limits) {
    // CPU seconds as a second line of defence behind the wall-clock limit (a busy loop that ignores signals).
    const cpuSeconds = Math.max(1, Math.ceil(limits.timeoutMs / 1000));
    argv.push('prlimit', `--nproc=${limits.processes}`, `--fsize=${limits.fileSizeBytes}`, `--cpu=${cpuSeconds}`, '--core=0', '--');
  }
  if (isolation.filesystem) {
    // The user's home (keys, tokens, shell history) is hidden behind an empty tmpfs, and so is /tmp. Both come
    // first: the folder itself may live under either, and its bind must land on top.
    const home = os.homedir();
    const hideHome = home !== '/' && !home.startsWith('/tmp') ? ['--tmpfs', home] : [];
    argv.push('bwrap', '--ro-bind', '/', '/', '--tmpfs', '/tmp', ...hideHome, '--bind', cwd, cwd, '--dev', '/dev', '--proc', '/proc',
      '--unshare-net', '--die-with-parent', '--chdir', cwd, '--');
  } else if (isolation.network) {
    argv.push('unshare', '-rn', '--');
  }
  argv.push('bash', '-c', command);
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const half = Math.floor(limits.outputBytes / 2);
    let head = '';
    let tail = '';
    let dropped = 0;
    const collect = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      if (head.length < half) {
        const take = text.slice(0, half - head.length);
        head += take;
        tail = (tail + text.slice(take.length)).slice(-half);
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
      resolve({ exitCode, signal: exitSignal, timedOut, output, droppedBytes: dropped, durationMs: performance.now() - started });
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', killGroup);
      resolve({ exitCode: null, signal: null, timedOut: false, output: `could not start the command: ${error.message}`, droppedBytes: 0, durationMs: 0 });
    });
  });
}
