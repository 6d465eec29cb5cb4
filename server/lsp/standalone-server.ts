import { errorMessage } from '../errors.js';
import { connectionOverStreams } from './lsp-connection.js';
import { LspClientSession } from './lsp-client-session.js';
import { createServerContext } from './server-context.js';

/** `codeloop lsp --standalone`: the whole server in this process, over stdio, for editors or CI that want no daemon. */
export function runStandaloneServer(): Promise<number> {
  return new Promise((resolve) => {
    const { context, close } = createServerContext({
      mode: 'standalone',
      socketPath: null,
      stopDaemon: () => undefined,
      onIndexError: (root, error) => process.stderr.write(`codeloop: indexing ${root} failed: ${errorMessage(error)}\n`),
    });
    let finished = false;
    const finish = (code: number) => {
      if (finished) return;
      finished = true;
      void close().finally(() => resolve(code));
    };
    const session = new LspClientSession(connectionOverStreams(process.stdin, process.stdout, finish), context);
    context.clients.add(session);
    process.stdin.once('end', () => finish(1));
    session.listen();
  });
}
