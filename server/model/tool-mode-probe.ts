import type { ChatCompletionFunctionTool, ChatCompletionMessage, ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import { ModelError } from './model-errors.js';
import { decodeTextToolCalls, type ToolMode } from './tool-call-codec.js';

/** The tool a probe offers: trivial, so any model that can call tools calls it. */
export const PROBE_TOOL: ChatCompletionFunctionTool = {
  type: 'function',
  function: {
    name: 'report_status',
    description: 'Reports a one-word status back to the caller.',
    parameters: { type: 'object', properties: { status: { type: 'string' } }, required: ['status'], additionalProperties: false },
  },
};

export const PROBE_MESSAGES: ChatCompletionMessageParam[] = [
  { role: 'user', content: 'Call the report_status tool with status "ready". Answer with the tool call only.' },
];

/** The mode an endpoint needs, and what the probe saw (for `codeloop doctor`). */
export interface ToolModeFinding {
  mode: ToolMode;
  reason: string;
}

/**
 * Finds the tool mode by asking: one request offering PROBE_TOOL. Structured `tool_calls` → native; a 400 that
 * rejects tools, a call written as text, or no call at all → prompted. Other failures (unreachable, refused key)
 * are thrown: they say nothing about tools.
 */
export async function probeToolMode(ask: (messages: ChatCompletionMessageParam[], tools: ChatCompletionTool[]) => Promise<ChatCompletionMessage>): Promise<ToolModeFinding> {
  let message: ChatCompletionMessage;
  try {
    message = await ask(PROBE_MESSAGES, [PROBE_TOOL]);
  } catch (error) {
    if (error instanceof ModelError && error.kind === 'unsupportedTools') return { mode: 'prompted', reason: `the endpoint rejects tools: ${JSON.stringify(error.endpointMessage)}` };
    throw error;
  }
  if (message.tool_calls?.some((call) => call.type === 'function' && call.function.name === PROBE_TOOL.function.name)) {
    return { mode: 'native', reason: 'the model answered a probe with a tool call' };
  }
  const written = message.content ? decodeTextToolCalls(message.content, [PROBE_TOOL]).calls.length > 0 : false;
  return { mode: 'prompted', reason: written ? 'the model wrote its tool call as text instead of tool_calls' : 'the model ignored the offered tool' };
}
