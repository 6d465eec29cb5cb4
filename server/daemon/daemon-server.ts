import fs from 'node:fs';
import net from 'node:net';
import { errorMessage } from '../errors.js';
import { connectionOverStreams } from '../lsp/lsp-connection.js';
import { LspClientSession } from '../lsp/lsp-client-session.js';
import { createServerContext } from '../lsp/server-context.js';
import { loadHttpClient } from '../model/model-client.js';
import { acquireDaemonLock } from './daemon-lock.js';
import { ensurePrivateDirectory, type DaemonPaths } from './daemon-paths.js';
import { CODELOOP_VERSION } from '../version.js';

export interface DaemonOptions {
  paths: DaemonPaths;
  /** Exit after this long with no clients and no indexing; 0 = never. */
  idleSeconds: number;
  log: (line: string) => void;
}

/**
 * The per-user daemon: a Unix socket (0600 in a 0700 folder), one LSP session per connection, one registry of
 * workspaces shared by all. A connection that misbehaves or vanishes takes nothing down with it.
 */
export async function runDaemon(options: DaemonOptions): Promise<'stopped' | 'already-running'> {
  const { paths, log } = options;
  ensurePrivateDirectory(paths.directory);
  const lock = acquireDaemonLock(paths.lock);
  if (!lock.acquired) {
    log(`a codeloop daemon is already running (pid ${lock.holder})`);
    return 'already-running';
  }
  fs.rmSync(paths.socket, { force: true }); // the lock proves no live daemon owns it

  let stop: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => {
    stop = resolve;
  });
  const { context, close } = createServerContext({
    mode: 'daemon',
    socketPath: paths.socket,
    stopDaemon: () => stop(),
    onIndexError: (root, error) => log(`indexing ${root} failed: ${errorMessage(error)}`),
    log,
  });
  const registry = context.registry;

  let idleTimer: NodeJS.Timeout | null = null;
  const scheduleIdleExit = () => {
    if (idleTimer) clearTimeout(idleTimer);
    idleTimer = null;
    if (options.idleSeconds <= 0 || context.clients.size > 0) return;
    idleTimer = setTimeout(() => {
      // A session at work (resumed from the command line, say) keeps the daemon up as indexing does.
      if (context.clients.size === 0 && !registry.isBusy() && !context.agent.busy()) {
        log(`no clients for ${options.idleSeconds}s: stopping`);
        stop();
      } else {
        scheduleIdleExit();
      }
    }, options.idleSeconds * 1000);
  };

  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    const session: LspClientSession = new LspClientSession(connectionOverStreams(socket, socket, {
      onExit: () => socket.end(),
      onBrokenFraming: (reason) => {
        log(`client #${session.id} (${session.name}) sent ${reason}: connection closed`);
        socket.destroy();
      },
      monitor: context.loop,
      clientLabel: () => `client #${session.id} (${session.name})`,
    }), context);
    context.clients.add(session);
    scheduleIdleExit();
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      void session.dispose().catch((error) => log(`closing client ${session.id} failed: ${errorMessage(error)}`)).finally(scheduleIdleExit);
    });
    session.listen();
  });
  loadHttpClient();
  const previousMask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(paths.socket, () => resolve());
    });
  } finally {
    process.umask(previousMask);
  }
  fs.chmodSync(paths.socket, 0o600);
  log(`codeloop daemon ${CODELOOP_VERSION} listening on ${paths.socket} (pid ${process.pid})`);
  scheduleIdleExit();

  const onSignal = () => stop();
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  // Last line of defence: a bug in one client's handling is logged, and every other client keeps its daemon.
  const onStray = (error: unknown) => log(`unexpected error (daemon continues): ${error instanceof Error ? error.stack : String(error)}`);
  process.on('unhandledRejection', onStray);
  process.on('uncaughtException', onStray);
  await stopped;
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
  process.off('unhandledRejection', onStray);
  process.off('uncaughtException', onStray);
  if (idleTimer) clearTimeout(idleTimer);
  server.close();
  await close();
  // Let answers already written (to `codeloop/stopDaemon` above all) reach their clients before the process ends.
  await Promise.all([...sockets].map((socket) => new Promise<void>((resolve) => {
    socket.once('close', () => resolve());
    socket.end();
    setTimeout(() => {
      socket.destroy();
      resolve();
    }, 1000).unref();
  })));
  fs.rmSync(paths.socket, { force: true });
  lock.release();
  log('codeloop daemon stopped');
  return 'stopped';
}
