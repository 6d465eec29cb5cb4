import { createAgentService } from '../agent/agent-host.js';
import { CODELOOP_VERSION } from '../version.js';
import type { AgentService } from '../agent/agent-service.js';
import { WorkspaceRegistry, type AttachedClient } from '../workspace/workspace-registry.js';
import { EventLoopMonitor } from './event-loop-monitor.js';

/** How long a closing server waits for the answers to requests in flight (most end at once: their index closed), in ms. */
const ANSWER_WAIT_MS = 2000;

/** A connection of this process: the client attached to workspaces, and how to release it. */
export interface ConnectedClient {
  readonly client: AttachedClient;
  /** Releases what the client held (its workspaces, its buffers); the connection is gone. */
  dispose(): Promise<void>;
  /** Resolves once the requests being served have been answered, or after `withinMs` ms at most. */
  answered(withinMs: number): Promise<void>;
}

/** What every client connection of one process shares. */
export interface ServerContext {
  readonly registry: WorkspaceRegistry;
  readonly mode: 'daemon' | 'standalone';
  readonly socketPath: string | null;
  readonly startedAt: string;
  readonly version: string;
  readonly clients: Set<ConnectedClient>;
  readonly agent: AgentService;
  /** The shared event loop's delay and the requests behind its stalls. */
  readonly loop: EventLoopMonitor;
  /** Stops the daemon (answered first); refused in standalone mode. */
  stopDaemon(): void;
}

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
      // Workspaces first: a sync under way stops part done, and the requests waiting on it answer so (a command
      // told the daemon stopped) before their clients' connections are disposed.
      await registry.closeAll();
      await Promise.all([...context.clients].map((client) => client.answered(ANSWER_WAIT_MS)));
      for (const client of [...context.clients]) await client.dispose();
      store.close();
      loop.stop();
    },
  };
}
