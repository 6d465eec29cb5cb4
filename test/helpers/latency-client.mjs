// A latency-measuring editor in its own process (so the test process's own work cannot delay it): connects to the
// daemon socket given as argv[2], opens the folder argv[3], then asks workspace/symbol for argv[4] every 10 ms.
// Each line on stdin names a phase ("baseline", "during"); "stop" prints {phase: [latencies in ms]} as JSON and exits.
import net from 'node:net';
import { pathToFileURL } from 'node:url';
import readline from 'node:readline';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';

const [socketPath, root, query] = process.argv.slice(2);
const socket = net.connect(socketPath);
await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
const connection = createMessageConnection(new StreamMessageReader(socket), new StreamMessageWriter(socket));
connection.onRequest('window/workDoneProgress/create', () => null);
connection.listen();
const folder = pathToFileURL(root).href;
await connection.sendRequest('initialize', { processId: null, clientInfo: { name: 'latency' }, rootUri: folder, workspaceFolders: [{ uri: folder, name: 'latency' }], capabilities: {} });
await connection.sendNotification('initialized', {});

const samples = {};
let phase = null;
let stopping = false;
readline.createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'stop') stopping = true;
  else phase = line;
});
process.stdout.write('ready\n');
while (!stopping) {
  if (phase) {
    const sent = performance.now();
    const symbols = await connection.sendRequest('workspace/symbol', { query });
    if (!symbols.length) throw new Error(`workspace/symbol ${query} found nothing`);
    (samples[phase] ??= []).push(performance.now() - sent);
  }
  await new Promise((resolve) => setTimeout(resolve, 10));
}
connection.dispose();
socket.end();
process.stdout.write(`${JSON.stringify(samples)}\n`, () => process.exit(0));
