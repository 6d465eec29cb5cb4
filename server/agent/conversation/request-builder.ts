import type { ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import type { TranscriptEntry } from './transcript.js';

/** One request to the model: the messages and the tools offered (empty for answers in prose). */
export interface ModelRequest {
  messages: ChatCompletionMessageParam[];
  tools: ChatCompletionTool[];
}

/** The transcript's entries as chat messages; elided outputs and arguments are sent as their placeholders. */
export function toMessages(entries: TranscriptEntry[]): ChatCompletionMessageParam[] {
  return entries.map((entry): ChatCompletionMessageParam => {
    switch (entry.kind) {
      case 'system': return { role: 'system', content: entry.text };
      case 'user': return { role: 'user', content: entry.text };
      case 'toolResult': return { role: 'tool', tool_call_id: entry.callId, content: entry.placeholder ?? entry.output };
      case 'assistant': return {
        role: 'assistant',
        content: entry.text,
        ...(entry.toolCalls.length ? {
          tool_calls: entry.toolCalls.map((call) => ({ id: call.id, type: 'function' as const, function: { name: call.name, arguments: call.arguments } })),
        } : {}),
      };
    }
  });
}
