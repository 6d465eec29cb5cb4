import { createAgentService } from '../agent/agent-host.js';
import { CODELOOP_VERSION } from '../version.js';
import { WorkspaceRegistry } from '../workspace/workspace-registry.js';
import { EventLoopMonitor } from './event-loop-monitor.js';
import type { ServerContext } from './lsp-client-session.js';

/**
 * What every connection of one process shares — workspaces, the agent and its session store — for the daemon
 * and for standalone mode alike. Session updates go to every client attached to the session's workspace.
 */
export function createServerContext(options: {
  mode: ServerContext['mode'];
  socketPath: string | null;
  stopDaemon: () => void;
  onIndexError: (root: string, error: unknown) => void;
  /** Where the process logs what no client is told: event-loop stalls and the requests behind them. */
  log: (line: string) => void;
}): { context: ServerContext; close(): Promise<void> } {
  const registry = new WorkspaceRegistry(options.onIndexError);
  const loop = new EventLoopMonitor(options.log);
  loop.start();
  const { agent, store } = createAgentService((session, event) => {
    for (const workspace of registry.list()) {
      if (workspace.root !== session.root) continue;
      workspace.broadcast('codeloop/sessionUpdate', { sessionId: session.sessionId, state: session.state, event: { type: event.type, data: event.data } });
    }
  });
  const context: ServerContext = {
    registry,
    agent,
    mode: options.mode,
    socketPath: options.socketPath,
    startedAt: new Date().toISOString(),
    version: CODELOOP_VERSION,
    clients: new Set(),
    loop,
    stopDaemon: options.stopDaemon,
  };
  return {
    context,
    async close() {
      for (const client of [...context.clients]) await client.dispose();
      await registry.closeAll();
      store.close();
      loop.stop();
    },
  };
}
