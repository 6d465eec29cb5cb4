import { pipeline } from 'node:stream';
import { createConnection, type Connection, type Logger, type WatchDog } from 'vscode-languageserver';
import { createProtocolConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-languageserver/node';
import type { EventLoopMonitor } from './event-loop-monitor.js';
import { FrameGuard } from './frame-guard.js';
import { jsonInTurnsEncoder } from './json-in-turns.js';

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

/** What a connection reports to its owner. */
export interface ConnectionEvents {
  /** `exit`, a closed stream or a dead editor: this connection is over. */
  onExit(code: number): void;
  /** The client broke the message framing (a malformed or over-long header): nothing more can be read. */
  onBrokenFraming(reason: string): void;
  /** Measures the shared event loop and learns which requests this connection is being served. */
  monitor: EventLoopMonitor;
  /** How the monitor's stall log names this client. */
  clientLabel(): string;
}

/**
 * An LSP connection over any pair of streams (a socket in the daemon, stdio standalone). Unlike
 * `vscode-languageserver/node`'s own, it never exits the process on its own: `exit`, a closed stream or a
 * dead editor end only this connection, through `onExit`. Every byte read passes a {@link FrameGuard} first, so
 * no message over the limits is ever buffered.
 */
export function connectionOverStreams(input: NodeJS.ReadableStream, output: NodeJS.WritableStream, events: ConnectionEvents): Connection {
  let shutdownReceived = false;
  const watchDog: WatchDog = {
    get shutdownReceived() {
      return shutdownReceived;
    },
    set shutdownReceived(value: boolean) {
      shutdownReceived = value;
    },
    initialize: () => undefined,
    exit: (code) => events.onExit(code),
  };
  const guard = new FrameGuard((reason) => events.onBrokenFraming(reason));
  // The input's own end or error ends the guard too, so the reader sees the close.
  pipeline(input, guard, () => undefined);
  const { reader, writer } = events.monitor.track(new StreamMessageReader(guard), new StreamMessageWriter(output, { charset: 'utf-8', contentTypeEncoder: jsonInTurnsEncoder }), events.clientLabel);
  return createConnection((logger) => createProtocolConnection(reader, writer, quietWhenGone(logger)), watchDog);
}
