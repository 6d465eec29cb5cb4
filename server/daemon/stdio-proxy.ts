import type { DaemonPaths } from './daemon-paths.js';
import { connectOrStartDaemon } from './daemon-client.js';

/**
 * `codeloop lsp`: what editors run. Bridges stdio to the daemon's socket byte for byte, starting the daemon
 * when needed. Resolves with the exit code when either side closes.
 */
export async function runStdioProxy(paths: DaemonPaths): Promise<number> {
  const socket = await connectOrStartDaemon(paths);
  return new Promise((resolve) => {
    let editorClosed = false;
    process.stdin.pipe(socket);
    socket.pipe(process.stdout);
    process.stdin.once('end', () => {
      editorClosed = true;
      socket.end();
    });
    socket.once('close', () => {
      if (!editorClosed) process.stderr.write('codeloop: the daemon closed the connection\n');
      resolve(editorClosed ? 0 : 1);
    });
    socket.once('error', (error) => process.stderr.write(`codeloop: daemon connection failed: ${error.message}\n`));
  });
}
