import { loadUserConfig } from '../config/load-config.js';
import { daemonRpc } from '../daemon/daemon-client.js';
import { daemonPaths } from '../daemon/daemon-paths.js';
import { runStdioProxy } from '../daemon/stdio-proxy.js';

const stamp = () => new Date().toISOString();

/** `codeloop daemon`: run the shared daemon in the foreground (editors start it through `codeloop lsp`). */
export async function daemonCommand(options: { idleSeconds?: number }): Promise<number> {
  const idleSeconds = options.idleSeconds ?? loadUserConfig().daemon.idleSeconds;
  // A second daemon finding one already running is not an error: editors may start several at once.
  const { runDaemon } = await import('../daemon/daemon-server.js');
  await runDaemon({ paths: daemonPaths(), idleSeconds, log: (line) => process.stderr.write(`${stamp()} ${line}\n`) });
  // Sockets of clients that never hung up would keep the process alive after a stop: leave explicitly.
  process.stderr.write('', () => process.exit(0));
  return 0;
}

/** `codeloop daemon stop`: ask a running daemon to stop cleanly. */
export async function daemonStopCommand(): Promise<number> {
  const rpc = await daemonRpc(daemonPaths());
  if (!rpc) {
    process.stdout.write('no codeloop daemon is running\n');
    return 0;
  }
  try {
    // The daemon may hang up before its answer arrives: either way it is stopping.
    await Promise.race([rpc.connection.sendRequest('codeloop/stopDaemon', {}), rpc.closed]);
    process.stdout.write('codeloop daemon stopping\n');
    return 0;
  } finally {
    rpc.close();
  }
}

/** `codeloop lsp [--standalone]`: the command editors configure. Exits once the editor is gone. */
export async function lspCommand(options: { standalone: boolean }): Promise<number> {
  const code = options.standalone
    ? await (await import('../lsp/standalone-server.js')).runStandaloneServer()
    : await runStdioProxy(daemonPaths());
  // stdin stays referenced by the stream reader even after the editor closed it: leave explicitly.
  process.stdout.write('', () => process.exit(code));
  return code;
}
