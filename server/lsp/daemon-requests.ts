import type { DaemonHello, DaemonStatus } from '../../protocol/lsp-methods.js';
import { BUILD_INFO } from '../build-info.js';
import { CodeloopError } from '../errors.js';
import type { ServerContext } from './server-context.js';

/** How many recent sessions `codeloop/status` lists. */
const STATUS_SESSION_LIMIT = 50;

/** `codeloop/status`: the serving process, its clients, workspaces and recent sessions. */
export function daemonStatus(server: ServerContext): DaemonStatus {
  const registry = server.registry;
  const memory = process.memoryUsage();
  return {
    pid: process.pid,
    version: server.version,
    mode: server.mode,
    startedAt: server.startedAt,
    socketPath: server.socketPath,
    memory: { rssBytes: memory.rss, heapUsedBytes: memory.heapUsed },
    eventLoop: server.loop.delay(),
    clients: [...server.clients].map(({ client }) => ({ id: client.id, name: client.name, workspaces: registry.of(client).map((w) => w.root) })),
    workspaces: registry.list().map((workspace) => ({
      root: workspace.root, clients: workspace.clients.size, indexing: workspace.indexing, index: workspace.index.status(), problems: workspace.index.problems(),
    })),
    // Every workspace's recent sessions, open or not: what `codeloop status` shows the user.
    sessions: server.agent.list().slice(0, STATUS_SESSION_LIMIT).map((session) => server.agent.summary(session)),
  };
}

/** `codeloop/hello`: this process's build, and whether stopping it now would cut work short. */
export function daemonHello(server: ServerContext): DaemonHello {
  return {
    build: BUILD_INFO, pid: process.pid, cliPath: process.argv[1] ?? '', sessionsAtWork: server.agent.atWork(),
    indexing: server.registry.isBusy(), clients: server.clients.size,
  };
}

/** `codeloop/stopDaemon`: answered first, then the daemon stops; refused in standalone mode. */
export function stopDaemon(server: ServerContext): null {
  if (server.mode !== 'daemon') throw new CodeloopError('invalidArgument', 'this codeloop runs standalone; there is no daemon to stop');
  setImmediate(() => server.stopDaemon());
  return null;
}
