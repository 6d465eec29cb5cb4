import { serveRequests } from '../threads/worker-thread.js';
import { decodeTextToolCalls } from './tool-call-codec.js';

/** Reads tool calls out of long answers off the daemon's event loop (see `decodeTextToolCallsOffThread`). */
serveRequests(({ content, tools }: { content: string; tools: Parameters<typeof decodeTextToolCalls>[1] }) => decodeTextToolCalls(content, tools));
