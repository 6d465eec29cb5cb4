import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { cutAnswerAtWindow, refuseOverWindow, type ContextWindowOptions } from './context-window.js';
import { answerByQuirk, shapeChunks, shapeCompletion, type EndpointQuirks } from './endpoint-quirks.js';

/**
 * A local OpenAI-compatible endpoint that tests script: each POST /v1/chat/completions takes the next step.
 * It stands in for the model only; everything on our side (the openai SDK included) is real.
 */
export type FakeStep =
  /** `cutAt`: the answer hit the server's output cap of that many tokens (finish_reason "length"). */
  | { kind: 'text'; content: string; cutAt?: number }
  | { kind: 'tools'; calls: { name: string; arguments: unknown | string }[]; content?: string; cutAt?: number }
  /** An HTTP answer: `body` JSON-encoded, or sent as it is when a string under a `content-type` header other than JSON. */
  | { kind: 'http'; status: number; body?: unknown; headers?: Record<string, string> }
  /** Never answers: the caller is mid-request when the test kills it. */
  | { kind: 'hang' };

/** Picks the answer from the conversation itself (for concurrent sessions, whose requests interleave). */
export type FakeResponder = (messages: { role: string; content?: unknown }[]) => FakeStep | undefined;

export interface FakeModel {
  baseURL: string;
  requests: { messages: { role: string; content?: unknown }[]; tools?: unknown[]; authorization?: string; stream: boolean }[];
  /** Tool-mode probes codeloop sent (answered by the quirks, not the script). */
  probes: unknown[];
  /** Steps left of a scripted list (always 0 with a responder). */
  remaining(): number;
  close(): Promise<void>;
}

let callCounter = 0;

function completion(step: Extract<FakeStep, { kind: 'text' | 'tools' }>): unknown {
  const message = step.kind === 'text'
    ? { role: 'assistant', content: step.content }
    : {
      role: 'assistant',
      content: step.content ?? null,
      tool_calls: step.calls.map((call) => ({
        id: `call_${++callCounter}`,
        type: 'function',
        function: { name: call.name, arguments: typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments) },
      })),
    };
  return {
    id: `chatcmpl-${callCounter}`, object: 'chat.completion', created: Math.floor(Date.now() / 1000), model: 'fake-model',
    choices: [{ index: 0, message, finish_reason: step.cutAt ? 'length' : step.kind === 'text' ? 'stop' : 'tool_calls' }],
    usage: { prompt_tokens: 100, completion_tokens: step.cutAt ?? 20, total_tokens: 100 + (step.cutAt ?? 20) },
  };
}

interface Completion {
  id: string;
  created: number;
  model: string;
  choices: { message: { content: string | null; tool_calls?: { id: string; function: { name: string; arguments: string } }[] }; finish_reason: string }[];
  usage: unknown;
}

/** The same answer as server-sent chunks, split mid-text and mid-arguments the way real servers do. */
function streamChunks(full: Completion): unknown[] {
  const base = { id: full.id, object: 'chat.completion.chunk', created: full.created, model: full.model };
  const { message, finish_reason: finishReason } = full.choices[0];
  const halves = (text: string) => [text.slice(0, Math.ceil(text.length / 2)), text.slice(Math.ceil(text.length / 2))];
  const chunks: unknown[] = [{ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] }];
  if (message.content) {
    for (const part of halves(message.content)) chunks.push({ ...base, choices: [{ index: 0, delta: { content: part }, finish_reason: null }] });
  }
  (message.tool_calls ?? []).forEach((call, index) => {
    const [first, second] = halves(call.function.arguments);
    chunks.push({ ...base, choices: [{ index: 0, delta: { tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.function.name, arguments: first } }] }, finish_reason: null }] });
    chunks.push({ ...base, choices: [{ index: 0, delta: { tool_calls: [{ index, function: { arguments: second } }] }, finish_reason: null }] });
  });
  chunks.push({ ...base, choices: [{ index: 0, delta: {}, finish_reason: finishReason }] });
  chunks.push({ ...base, choices: [], usage: full.usage });
  return chunks;
}

/** `contextWindow`: prompts over it are refused with the provider's overflow error (context-window.ts). */
export async function startFakeModel(script: FakeStep[] | FakeResponder, quirks: EndpointQuirks = {}, contextWindow?: ContextWindowOptions): Promise<FakeModel> {
  const queue = typeof script === 'function' ? [] : [...script];
  const requests: FakeModel['requests'] = [];
  const probes: unknown[] = [];
  let cutStreams = quirks.cutStreams ?? 0;
  const server = http.createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => {
      body += chunk;
    });
    request.on('end', () => {
      const parsed = body ? JSON.parse(body) : {};
      if (answerByQuirk(quirks, request, parsed, response, probes)) return;
      requests.push({ messages: parsed.messages ?? [], tools: parsed.tools, authorization: request.headers.authorization, stream: parsed.stream === true });
      if (contextWindow && (refuseOverWindow(parsed, contextWindow, response) || cutAnswerAtWindow(parsed, contextWindow, response))) return;
      const step = typeof script === 'function' ? script(parsed.messages ?? []) : queue.shift();
      if (!step) {
        response.writeHead(500, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ error: { message: 'the fake model script ran out of steps' } }));
        return;
      }
      if (step.kind === 'hang') return;
      if (step.kind === 'http') {
        const headers = { 'content-type': 'application/json', ...step.headers };
        response.writeHead(step.status, headers);
        // A string body under a content type other than JSON (an HTML page, plain text) is sent as it is.
        const raw = typeof step.body === 'string' && !headers['content-type'].includes('json');
        response.end(raw ? step.body : JSON.stringify(step.body ?? { error: { message: `scripted ${step.status}` } }));
        return;
      }
      const answer = completion(step) as Completion;
      shapeCompletion(answer, parsed, quirks);
      if (parsed.stream) {
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        const chunks = shapeChunks(streamChunks(answer) as never, quirks);
        const cut = cutStreams > 0 && cutStreams-- > 0;
        for (const chunk of cut ? chunks.slice(0, Math.max(2, Math.floor(chunks.length / 2))) : chunks) response.write(`data: ${JSON.stringify(chunk)}\n\n`);
        response.end(!cut ? 'data: [DONE]\n\n' : quirks.cutWith ? `data: ${quirks.cutWith}\n\n` : '');
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    probes,
    remaining: () => queue.length,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
