import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLI_PATH = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/server/cli.js');

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** A private state, config and daemon folder: no daemon of another test (or of the user) answers this CLI. */
function cliEnvironment(stateHome: string, env?: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return {
    ...process.env, XDG_STATE_HOME: stateHome, XDG_CONFIG_HOME: path.join(stateHome, 'config'), CODELOOP_RUNTIME_DIR: path.join(stateHome, 'runtime'), ...env,
  };
}

/**
 * Runs the built `codeloop` CLI as a user would, with a private state dir. `encoding: 'latin1'` reads the output
 * byte for byte (for comparing lines that are not UTF-8 with rg's). `timeoutMs` kills a CLI that hangs (its
 * status is then null).
 */
export function runCli(args: string[], options: { cwd?: string; stateHome: string; env?: NodeJS.ProcessEnv; encoding?: BufferEncoding; timeoutMs?: number }): CliResult {
  const result = spawnSync(process.execPath, [CLI_PATH, ...args], {
    timeout: options.timeoutMs,
    cwd: options.cwd,
    env: cliEnvironment(options.stateHome, options.env),
    encoding: options.encoding ?? 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** ripgrep with the semantics codeloop's defaults mirror: hidden files searched, .git skipped. */
export function runRipgrep(args: string[], cwd: string, encoding: BufferEncoding = 'utf8'): string[] {
  const result = spawnSync('rg', ['--hidden', '-g', '!.git', '--column', '-n', '--no-heading', '--color', 'never', ...args, '.'], {
    cwd, encoding, maxBuffer: 256 * 1024 * 1024,
  });
  if (result.error) throw new Error(`ripgrep (rg) is needed for this test and could not run: ${result.error.message}`);
  if (result.status !== 0 && result.status !== 1) throw new Error(`rg failed: ${result.stderr}`);
  return sortedLines(result.stdout);
}

export function sortedLines(output: string): string[] {
  return output.split('\n').filter(Boolean).map((line) => line.replace(/^\.\//, '')).sort();
}

/** The CLI without blocking this process (for tests that serve something to it, like the fake model). */
export function runCliAsync(args: string[], options: { cwd?: string; stateHome: string; env?: NodeJS.ProcessEnv }): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI_PATH, ...args], {
      cwd: options.cwd,
      env: cliEnvironment(options.stateHome, options.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}
