import { loadConfig } from '../config/load-config.js';
import { daemonLogPath, connectToDaemon } from '../daemon/daemon-client.js';
import { daemonPaths } from '../daemon/daemon-paths.js';
import { errorMessage } from '../errors.js';
import { inotifyWatchLimit } from '../index/index-watcher.js';
import { defaultDatabasePath, WorkspaceIndex } from '../index/workspace-index.js';
import { resolveWorkspaceRoot } from '../workspace/workspace-root.js';
import { describeIsolation, folderSandbox, probeIsolation, runCommand, scrubbedEnvironment, type CommandResult } from '../sandbox/command-runner.js';
import { chooseShadowStrategy } from '../sandbox/shadow-strategy.js';
import { detectTestCommand, interpreterChecks } from '../sandbox/test-command.js';
import { stateHome } from '../config/state-paths.js';
import type { Config } from '../../protocol/config.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { modelChecks, type Check } from './doctor-model-checks.js';

/** How sessions get their workspace here (overlay, clone or copy) and why. */
function sessionWorkspaceCheck(root: string, config: Config): Check {
  try {
    const strategy = chooseShadowStrategy(config.agent.shadow, path.join(stateHome(), 'shadows'), root);
    return { name: 'shadow', ok: true, detail: `${strategy.kind}: ${strategy.reason}` };
  } catch (error) {
    return { name: 'shadow', ok: false, detail: errorMessage(error) };
  }
}

/** Starts the test command's interpreter in the sandbox (read-only tree and home, as sessions' commands see them). */
async function toolchainCheck(root: string, config: Config): Promise<Check> {
  const testCommand = config.agent.testCommand ?? detectTestCommand(root);
  if (!testCommand) return { name: 'test command', ok: true, detail: 'none detected (set agent.testCommand)' };
  const home = os.homedir();
  const spec = { ...folderSandbox(root, home, config.agent.hiddenHomePaths), source: { kind: 'folder' as const, readOnly: true } };
  const started: string[] = [];
  for (const check of interpreterChecks(root, testCommand)) {
    let result: CommandResult;
    try {
      result = await runCommand(check, spec, scrubbedEnvironment(home), { timeoutMs: 30_000, outputBytes: 4000, fileSizeBytes: 1024 * 1024, processes: 256 });
    } catch (error) {
      return { name: 'test command', ok: false, detail: `${testCommand}: ${errorMessage(error)}` };
    }
    const lines = result.output.trim().split('\n');
    if (result.exitCode !== 0 || result.timedOut) {
      const why = result.timedOut ? 'timed out' : result.exitCode === 127 ? 'not found on PATH inside the sandbox' : `exit code ${result.exitCode}`;
      return {
        name: 'test command',
        ok: false,
        detail: `${testCommand}: \`${check}\` cannot start in the sandbox (${why}): ${lines.slice(-2).join(' / ')}`
          + ' — if the tool lives in a hidden folder, see agent.hiddenHomePaths; set agent.testCommand if the detected one is wrong',
      };
    }
    started.push(`\`${check}\` (${lines[0]})`);
  }
  return { name: 'test command', ok: true, detail: `${testCommand}: starts in the sandbox: ${started.join(', ')}` };
}

/** `codeloop doctor`: what works on this machine for this workspace, and what to do about what does not. */
export async function doctorCommand(dir: string, options: { json: boolean }): Promise<number> {
  const checks: Check[] = [];
  const root = resolveWorkspaceRoot(dir);
  let config;
  try {
    config = loadConfig(root);
    checks.push({ name: 'config', ok: true, detail: 'valid' });
  } catch (error) {
    checks.push({ name: 'config', ok: false, detail: errorMessage(error) });
  }
  if (config) {
    checks.push(...await modelChecks(config.model));
    const database = defaultDatabasePath(root, config.index);
    if (fs.existsSync(database)) {
      const index = WorkspaceIndex.open(root, config.index, database);
      try {
        const status = index.status();
        const integrity = index.integrityCheck();
        checks.push({ name: 'index', ok: integrity === 'ok', detail: `${status.files} files, ${status.symbols} symbols, integrity ${integrity}` });
        const limit = inotifyWatchLimit();
        if (limit !== null) {
          const folders = index.folderCount();
          checks.push({
            name: 'file watching',
            ok: folders <= limit,
            detail: folders <= limit
              ? `${folders} folders to watch, the system allows ${limit} watches`
              : `${folders} folders to watch but the system allows ${limit} watches: raise it (sudo sysctl fs.inotify.max_user_watches=${2 ** Math.ceil(Math.log2(folders * 2))}), or editors get a rescan every index.rescanSeconds instead of watching`,
          });
        }
      } finally {
        await index.close();
      }
    } else {
      checks.push({ name: 'index', ok: true, detail: 'not built yet (codeloop index, or the first search, builds it)' });
    }
  }
  const isolation = probeIsolation();
  checks.push({ name: 'sandbox', ok: isolation.filesystem && isolation.network, detail: describeIsolation(isolation) });
  if (config) checks.push(sessionWorkspaceCheck(root, config), await toolchainCheck(root, config));
  const socket = await connectToDaemon(daemonPaths());
  socket?.end();
  checks.push({ name: 'daemon', ok: true, detail: socket ? `running at ${daemonPaths().socket}; log ${daemonLogPath()}` : `not running (editors start it with \`codeloop lsp\`); log ${daemonLogPath()}` });

  if (options.json) process.stdout.write(`${JSON.stringify({ checks })}\n`);
  else for (const check of checks) process.stdout.write(`${check.ok ? 'ok  ' : 'FAIL'} ${check.name.padEnd(15)} ${check.detail}\n`);
  return checks.every((check) => check.ok) ? 0 : 1;
}
