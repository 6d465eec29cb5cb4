import { errorMessage } from '../errors.js';
import { CODELOOP_VERSION } from '../version.js';
import { WorkspaceRegistry } from '../workspace/workspace-registry.js';
import { connectionOverStreams } from './lsp-connection.js';
import { LspClientSession, type ServerContext } from './lsp-client-session.js';

/** `codeloop lsp --standalone`: the whole server in this process, over stdio, for editors or CI that want no daemon. */
export function runStandaloneServer(): Promise<number> {
  return new Promise((resolve) => {
    const registry = new WorkspaceRegistry((root, error) => process.stderr.write(`codeloop: indexing ${root} failed: ${errorMessage(error)}\n`));
    const context: ServerContext = {
      registry,
      mode: 'standalone',
      socketPath: null,
      startedAt: new Date().toISOString(),
      version: CODELOOP_VERSION,
      clients: new Set(),
      stopDaemon: () => undefined,
    };
    const finish = (code: number) => {
      void session.dispose().then(() => registry.closeAll()).finally(() => resolve(code));
    };
    const session: LspClientSession = new LspClientSession(connectionOverStreams(process.stdin, process.stdout, finish), context);
    context.clients.add(session);
    process.stdin.once('end', () => finish(1));
    session.listen();
  });
}
