import { createConnection, type Connection, type Logger, type WatchDog } from 'vscode-languageserver';
import { createProtocolConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-languageserver/node';

/**
 * The library logs its own failures (a handler whose client vanished) to that same client's console; once the
 * connection is gone that logging throws, outside any handler. Such a log line has nowhere to go: drop it.
 */
function quietWhenGone(logger: Logger): Logger {
  const guard = (write: (message: string) => void) => (message: string) => {
    try {
      write(message);
    } catch {
      // the client is gone
    }
  };
  return { error: guard((m) => logger.error(m)), warn: guard((m) => logger.warn(m)), info: guard((m) => logger.info(m)), log: guard((m) => logger.log(m)) };
}

/**
 * An LSP connection over any pair of streams (a socket in the daemon, stdio standalone). Unlike
 * `vscode-languageserver/node`'s own, it never exits the process on its own: `exit`, a closed stream or a
 * dead editor end only this connection, through `onExit`.
 */
export function connectionOverStreams(input: NodeJS.ReadableStream, output: NodeJS.WritableStream, onExit: (code: number) => void): Connection {
  let shutdownReceived = false;
  const watchDog: WatchDog = {
    get shutdownReceived() {
      return shutdownReceived;
    },
    set shutdownReceived(value: boolean) {
      shutdownReceived = value;
    },
    initialize: () => undefined,
    exit: onExit,
  };
  return createConnection(
    (logger) => createProtocolConnection(new StreamMessageReader(input), new StreamMessageWriter(output), quietWhenGone(logger)),
    watchDog,
  );
}
