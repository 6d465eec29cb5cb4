import { createConnection, type Connection, type WatchDog } from 'vscode-languageserver';
import { createProtocolConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-languageserver/node';

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
    (logger) => createProtocolConnection(new StreamMessageReader(input), new StreamMessageWriter(output), logger),
    watchDog,
  );
}
