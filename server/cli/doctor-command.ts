import OpenAI from 'openai';
import { loadConfig } from '../config/load-config.js';
import { daemonLogPath, connectToDaemon } from '../daemon/daemon-client.js';
import { daemonPaths } from '../daemon/daemon-paths.js';
import { errorMessage } from '../errors.js';
import { inotifyWatchLimit } from '../index/index-watcher.js';
import { defaultDatabasePath, WorkspaceIndex } from '../index/workspace-index.js';
import { resolveWorkspaceRoot } from '../workspace/workspace-root.js';
import { describeIsolation, probeIsolation } from '../sandbox/command-runner.js';
import fs from 'node:fs';

type Check = { name: string; ok: boolean; detail: string };

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
    const { baseURL, model, apiKeyEnv } = config.model;
    const key = process.env[apiKeyEnv];
    const local = ['localhost', '127.0.0.1', '[::1]'].includes(new URL(baseURL).hostname);
    checks.push({ name: 'model key', ok: Boolean(key) || local, detail: key ? `${apiKeyEnv} is set` : local ? 'not needed for a local endpoint' : `set ${apiKeyEnv} (or model.apiKeyEnv)` });
    try {
      const client = new OpenAI({ baseURL, apiKey: key || 'no-key', timeout: 5000, maxRetries: 0 });
      const models = [];
      for await (const entry of client.models.list()) models.push(entry.id);
      const known = models.includes(model);
      checks.push({ name: 'model endpoint', ok: true, detail: `${baseURL} answers; ${known ? `model ${model} is listed` : `model ${model} is not among its ${models.length} models (it may still work)`}` });
    } catch (error) {
      checks.push({ name: 'model endpoint', ok: false, detail: `${baseURL}: ${errorMessage(error)}` });
    }
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
  const socket = await connectToDaemon(daemonPaths());
  socket?.end();
  checks.push({ name: 'daemon', ok: true, detail: socket ? `running at ${daemonPaths().socket}; log ${daemonLogPath()}` : `not running (editors start it with \`codeloop lsp\`); log ${daemonLogPath()}` });

  if (options.json) process.stdout.write(`${JSON.stringify({ checks })}\n`);
  else for (const check of checks) process.stdout.write(`${check.ok ? 'ok  ' : 'FAIL'} ${check.name.padEnd(15)} ${check.detail}\n`);
  return checks.every((check) => check.ok) ? 0 : 1;
}
