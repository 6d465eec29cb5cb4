import { spawn, spawnSync } from 'node:child_process';

/** How one probe command ended: its exit status (null when killed or not started), its stderr, why it could not start. */
export interface ProbeResult {
  status: number | null;
  stderr: string;
  error?: Error;
}

/** A command a probe runs; `timeoutMs` kills it (a hung `unshare` must not hang the probe). */
export interface ProbeCommand {
  command: string;
  args: string[];
  timeoutMs?: number;
}

/**
 * A machine probe written once as a generator: it yields the commands it needs and receives their results, so
 * the same steps run synchronously (`runProbeSync`, for the CLI) or without blocking the event loop
 * (`runProbe`, for the daemon, where a synchronous spawn stalls every editor — 0.3–1.1 s on a busy machine).
 */
export type Probe<T> = Generator<ProbeCommand, T, ProbeResult>;

export function runProbeSync<T>(probe: Probe<T>): T {
  let step = probe.next(undefined as never);
  while (!step.done) {
    const { command, args, timeoutMs } = step.value;
    const result = spawnSync(command, args, { encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'ignore', 'pipe'] });
    step = probe.next({ status: result.status, stderr: result.stderr ?? '', ...(result.error ? { error: result.error } : {}) });
  }
  return step.value;
}

export async function runProbe<T>(probe: Probe<T>): Promise<T> {
  let step = probe.next(undefined as never);
  while (!step.done) step = probe.next(await runAsync(step.value));
  return step.value;
}

function runAsync({ command, args, timeoutMs }: ProbeCommand): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: timeoutMs });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.once('error', (error) => resolve({ status: null, stderr, error }));
    child.once('close', (status) => resolve({ status, stderr }));
  });
}
