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
      log: (line) => process.stderr.write(`codeloop: ${line}\n`),
    });
    let finished = false;
    const finish = (code: number) => {
      if (finished) return;
      finished = true;
      void close().finally(() => resolve(code));
    };
    const session: LspClientSession = new LspClientSession(connectionOverStreams(process.stdin, process.stdout, {
      onExit: finish,
      onBrokenFraming: (reason) => {
        process.stderr.write(`codeloop: the editor sent ${reason}; stopping\n`);
        finish(1);
      },
      monitor: context.loop,
      clientLabel: () => session.name,
    }), context);
    context.clients.add(session);
    process.stdin.once('end', () => finish(1));
    session.listen();
  });
}
