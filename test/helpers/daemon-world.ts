import fs from 'node:fs';
import path from 'node:path';
import { makeStateHome, makeTree, removeTree } from './fixture-tree.js';
import { startLspClient, waitUntilIndexed, type TestLspClient } from './lsp-client.js';
import { runCli } from './run-cli.js';

/** A private daemon world: its own runtime folder (socket), state and config, so tests never share a daemon. */
export interface DaemonWorld {
  state: string;
  runtime: string;
  socket: string;
  env: NodeJS.ProcessEnv;
}

export function daemonWorld(config: Record<string, unknown> = {}): DaemonWorld {
  const state = makeStateHome();
  const runtime = path.join(state, 'runtime');
  fs.mkdirSync(path.join(state, 'config', 'codeloop'), { recursive: true });
  fs.writeFileSync(path.join(state, 'config', 'codeloop', 'config.json'), JSON.stringify(config));
  const env = { ...process.env, XDG_STATE_HOME: state, XDG_CONFIG_HOME: path.join(state, 'config'), CODELOOP_RUNTIME_DIR: runtime, OPENAI_API_KEY: '' };
  return { state, runtime, env, socket: path.join(runtime, 'daemon.sock') };
}

/**
 * A workspace of `files` opened by one editor through `codeloop lsp` (which starts the world's daemon), indexed
 * and ready; `close` stops the editor and the daemon and removes everything.
 */
export async function editorOnDaemon(files: Record<string, string>, name: string, config: Record<string, unknown> = {}): Promise<DaemonWorld & { root: string; editor: TestLspClient; close(): Promise<void> }> {
  const root = makeTree(files, { git: true });
  const world = daemonWorld(config);
  const editor = startLspClient([], world.env);
  await editor.initialize(root, name);
  await waitUntilIndexed(editor.connection);
  return {
    ...world,
    root,
    editor,
    async close() {
      await editor.close();
      runCli(['daemon', 'stop'], { stateHome: world.state, env: world.env });
      removeTree(root, world.state);
    },
  };
}
