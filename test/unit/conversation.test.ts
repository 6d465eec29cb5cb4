import { describe, expect, it } from 'vitest';
import type { ChatCompletionMessage, ChatCompletionTool } from 'openai/resources/chat/completions';
import { Conversation, type CompactionReport, type ConversationHost } from '../../server/agent/conversation/conversation.js';
import { toMessages, type ModelRequest } from '../../server/agent/conversation/request-builder.js';
import { SUMMARY_REQUEST } from '../../server/agent/prompts.js';
import { TokenCounter } from '../../server/model/token-count.js';
import { toolSpecifications } from '../../server/tools/agent-tools.js';
import { reduceCommandOutput, numberedSlice } from '../../server/tools/tool-output.js';

const SETTINGS = { elideAt: 0.5, compactAt: 0.75, maxRequestShare: 0.8, workingTokens: 32_768 };
const TOOLS: ChatCompletionTool[] = toolSpecifications();

/** A file-sized text whose size in tokens is predictable enough: `lines` lines of code-like text. */
const fileText = (name: string, lines: number) => Array.from({ length: lines }, (_, i) => `function ${name}_${i}(value) { return value * ${i}; }`).join('\n');

interface World {
  conversation: Conversation;
  counter: TokenCounter;
  summaries: ModelRequest[];
  reports: CompactionReport[];
  /** One model turn that reads `file` and gets `output` back. */
  read(file: string, output: string): void;
  size(request: ModelRequest): Promise<number>;
  /** Tokens of the conversation as it stands, before the policy shapes the next request. */
  standing(): Promise<number>;
}

function world(windowTokens: number, summary: (request: ModelRequest) => string | null = () => 'Found: the modules hold numeric helpers; total() is in module 9.'): World {
  const counter = new TokenCounter();
  const summaries: ModelRequest[] = [];
  const reports: CompactionReport[] = [];
  const host: ConversationHost = {
    summarise: async (request) => {
      summaries.push(request);
      return summary(request);
    },
    currentDiff: async () => '--- a/src/m.js\n+++ b/src/m.js\n@@ -1 +1 @@\n-return a - b;\n+return a + b;\n',
    compacted: (report) => reports.push(report),
  };
  const conversation = new Conversation(SETTINGS, host, (request) => counter.count(request.messages, request.tools));
  conversation.begin(windowTokens, 'You are a careful agent.', 'Task: make total add', 'Repository map:\nsrc/m.js');
  conversation.say('Plan please.');
  conversation.reply(assistant('1. Read\n2. Fix'));
  conversation.planApproved('1. Read\n2. Fix', 'The plan is approved.');
  let calls = 0;
  return {
    conversation, counter, summaries, reports,
    read(file, output) {
      const call = { id: `call_${++calls}`, type: 'function' as const, function: { name: 'read_file', arguments: JSON.stringify({ path: file }) } };
      const { toolCalls } = conversation.reply(assistant(null, [call]));
      conversation.toolResult(toolCalls[0], { output });
    },
    size: (request) => counter.count(request.messages, request.tools),
    standing: () => counter.count(toMessages(conversation.toJSON().entries), TOOLS),
  };
}

function assistant(content: string | null, toolCalls?: ChatCompletionMessage['tool_calls']): ChatCompletionMessage {
  return { role: 'assistant', content, refusal: null, ...(toolCalls ? { tool_calls: toolCalls } : {}) };
}

const toolContents = (request: ModelRequest) => request.messages.filter((m) => m.role === 'tool').map((m) => String(m.content));

describe('tool output capped at the source', () => {
  it('reduces a long test run to its head, the failures with context, and its tail', () => {
    const lines = ['> node test.js', ...Array.from({ length: 400 }, (_, i) => `ok ${i} passes`)];
    lines.splice(200, 0, 'FAIL add adds', '  expected 5, got -1', '  at test.js:3:9');
    lines.push('Tests: 1 failed, 400 passed');
    const reduced = reduceCommandOutput(lines.join('\n'), 3000);
    expect(reduced.length).toBeLessThanOrEqual(3000);
    expect(reduced).toContain('> node test.js');
    expect(reduced).toContain('FAIL add adds\n  expected 5, got -1\n  at test.js:3:9');
    expect(reduced).toContain('Tests: 1 failed, 400 passed');
    expect(reduced).toMatch(/\[\d+ lines not shown\]/);
    expect(reduced).not.toContain('ok 100 passes');
  });

  it('leaves short output alone and caps even an output made only of failures', () => {
    expect(reduceCommandOutput('exit code 1\nerror: boom', 100)).toBe('exit code 1\nerror: boom');
    const allFailures = Array.from({ length: 2000 }, (_, i) => `error ${i}: boom`).join('\n');
    const reduced = reduceCommandOutput(allFailures, 2000);
    expect(reduced.length).toBeLessThanOrEqual(2000 + 40);
    expect(reduced).toContain('characters cut');
  });

  it('reads a big file up to the limit and says how to read on', () => {
    const text = fileText('f', 300);
    const shown = numberedSlice('src/f.js', text, { startLine: 1 }, { characters: 2000, maxLines: 400 }, (next) => `read_file {"path":"src/f.js","startLine":${next}}`);
    expect(shown.length).toBeLessThan(2200);
    expect(shown).toMatch(/^src\/f\.js \(lines 1-(\d+) of 300\)\n1: function f_0/);
    const last = Number(/lines 1-(\d+)/.exec(shown)![1]);
    expect(shown).toContain(`[shortened: lines ${last + 1}-300 not shown; read_file {"path":"src/f.js","startLine":${last + 1}}]`);
    const rest = numberedSlice('src/f.js', text, { startLine: last + 1, endLine: last + 3 }, { characters: 2000, maxLines: 400 }, () => 'more');
    expect(rest).toBe(`src/f.js (lines ${last + 1}-${last + 3} of 300)\n${last + 1}: function f_${last}(value) { return value * ${last}; }\n${last + 2}: function f_${last + 1}(value) { return value * ${last + 1}; }\n${last + 3}: function f_${last + 2}(value) { return value * ${last + 2}; }`);
  });

  it('tells the model a shortened output is kept and how to read it', async () => {
    const w = world(16_000);
    const { toolCalls } = w.conversation.reply(assistant(null, [{ id: 'call_t', type: 'function', function: { name: 'run_tests', arguments: '{}' } }]));
    w.conversation.toolResult(toolCalls[0], { output: 'exit code 1\nFAIL', full: 'exit code 1\nline\nline\nFAIL' });
    expect(toolContents(await w.conversation.next(TOOLS)).at(-1)).toBe('exit code 1\nFAIL\n[shortened from 4 lines; the full output: read_output {"id":"call_t"}]');
  });
});

describe('context policy', () => {
  it('sends the conversation unchanged while it is under half the window', async () => {
    const w = world(32_000);
    w.read('src/a.js', fileText('a', 40));
    w.read('src/b.js', fileText('b', 40));
    const request = await w.conversation.next(TOOLS);
    expect(toolContents(request)).toEqual([fileText('a', 40), fileText('b', 40)]);
    expect(w.summaries).toHaveLength(0);
  });

  it('elides older tool results to one-line placeholders past half the window, keeping the newest turn and eliding for good', async () => {
    const w = world(8000);
    for (const name of ['a', 'b', 'c', 'd']) w.read(`src/${name}.js`, fileText(name, 60));
    expect(await w.standing()).toBeGreaterThan(0.5 * 8000);
    const request = await w.conversation.next(TOOLS);
    expect(await w.size(request)).toBeLessThanOrEqual(0.5 * 8000);
    const contents = toolContents(request);
    expect(contents[0]).toBe('[elided to save context: read_file {"path":"src/a.js"} → "function a_0(value) { return value * 0; }" (60 lines); read the file again to see it as it is now]');
    expect(contents.at(-1)).toBe(fileText('d', 60));
    expect(w.reports).toHaveLength(0);
    // Sticky: the next, smaller turn does not bring the elided output back.
    w.read('src/d.js', 'short');
    expect(toolContents(await w.conversation.next(TOOLS))[0]).toMatch(/^\[elided to save context: read_file/);
  });

  it('compacts past three quarters of the window: task, plan, summary, diff, last test, newest turns verbatim', async () => {
    const w = world(6000);
    w.conversation.testRun('exit code 1\nFAIL total(2, 3) should be 5');
    // Short results (a search hit, a small file) that a placeholder would not shorten: only compaction helps.
    for (let i = 0; i < 60; i++) w.read(`src/m${i}.js`, fileText(`m${i}`, 5));
    expect(await w.standing()).toBeGreaterThan(0.75 * 6000);
    const request = await w.conversation.next(TOOLS);
    expect(await w.size(request)).toBeLessThanOrEqual(0.8 * 6000);
    expect(w.summaries).toHaveLength(1);
    expect(String(w.summaries[0].messages.at(-1)!.content)).toBe(SUMMARY_REQUEST);
    expect(w.reports).toEqual([expect.objectContaining({ compaction: 1, reason: 'threshold', summary: 'model' })]);
    expect(w.reports[0].tokensAfter).toBeLessThan(w.reports[0].tokensBefore);
    const [system, anchor, ...rest] = request.messages;
    expect(system).toEqual({ role: 'system', content: 'You are a careful agent.' });
    const text = String(anchor.content);
    expect(text).toContain('Task: make total add');
    expect(text).toContain('The approved plan:\n1. Read\n2. Fix');
    expect(text).toContain('Summary of the findings so far:\nFound: the modules hold numeric helpers; total() is in module 9.');
    expect(text).toContain('+return a + b;');
    expect(text).toContain('The last test run:\nexit code 1\nFAIL total(2, 3) should be 5');
    expect(text).toMatch(/Tool calls so far[^\n]*\n- read_file \{"path":"src\/m0\.js"\} → function m0_0/);
    // The newest turn is verbatim (assistant call + its result).
    expect(rest).toHaveLength(4); // the newest two turns
    expect(rest.at(-1)).toEqual({ role: 'tool', tool_call_id: 'call_60', content: fileText('m59', 5) });
    expect(rest.at(-2)).toMatchObject({ role: 'assistant', tool_calls: [{ id: 'call_60' }] });
    expect(w.conversation.toJSON().compactions).toBe(1);
  });

  it('falls back to a log of tool calls when the summary call fails', async () => {
    const w = world(6000, () => null);
    for (let i = 0; i < 60; i++) w.read(`src/m${i}.js`, fileText(`m${i}`, 5));
    const request = await w.conversation.next(TOOLS);
    expect(w.reports[0].summary).toBe('tool-call log');
    const text = String(request.messages[1].content);
    expect(text).not.toContain('Summary of the findings');
    expect(text).toContain('- read_file {"path":"src/m3.js"} → function m3_0');
  });

  it('recovers from an overflow by compacting harder, and gives up only when nothing can shrink further', async () => {
    const w = world(20_000);
    for (let i = 0; i < 3; i++) w.read(`src/m${i}.js`, fileText(`m${i}`, 40));
    const first = await w.conversation.next(TOOLS);
    const window = w.conversation.window;
    expect(w.conversation.overflowed()).toBe(true);
    expect(w.conversation.window).toBe(Math.floor(await w.size(first) * 0.9));
    expect(w.conversation.window).toBeLessThan(window);
    const second = await w.conversation.next(TOOLS);
    expect(w.reports.at(-1)).toMatchObject({ reason: 'overflow' });
    expect(await w.size(second)).toBeLessThan(await w.size(first));
    // The endpoint keeps refusing: each retry is compacted harder within a smaller window, until the hardest
    // level was refused too or nothing fits any more — a bounded number of rounds either way.
    let outcome = 'retrying';
    for (let round = 0; round < 10 && outcome === 'retrying'; round++) {
      if (!w.conversation.overflowed()) outcome = 'refused at the hardest level';
      else await w.conversation.next(TOOLS).catch((error: Error) => (outcome = error.message));
    }
    expect(outcome).toMatch(/refused at the hardest level|does not fit the model's context window/);
    const levels = w.reports.map((report) => report.level);
    expect(levels).toEqual([...levels].sort());
    expect(levels.at(-1)).toBeGreaterThan(levels[0]);
  });

  it('never produces a request above 80 % of the window, whatever the sizes', async () => {
    let seed = 7;
    const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    let compactions = 0;
    for (const window of [4000, 8000, 16_000]) {
      const w = world(window);
      for (let turn = 0; turn < 60; turn++) {
        const lines = Math.floor(random() * random() * 0.15 * window / 12);
        w.read(`src/f${turn}.js`, fileText(`f${turn}`, lines));
        const request = await w.conversation.next(TOOLS);
        expect(await w.size(request)).toBeLessThanOrEqual(0.8 * window);
      }
      compactions += w.reports.length;
    }
    expect(compactions).toBeGreaterThan(0); // the sizes were large enough to need every tier
  });

  it('refuses, with the window named, a conversation that cannot fit even compacted', async () => {
    const w = world(1000);
    await expect(w.conversation.next(TOOLS)).rejects.toThrow(/does not fit the model's context window of 1000 tokens even compacted .* set model.contextWindow/);
  });

  it('keeps the transcript as plain JSON a new conversation continues from', async () => {
    const w = world(8000);
    for (const name of ['a', 'b', 'c']) w.read(`src/${name}.js`, fileText(name, 60));
    const request = await w.conversation.next(TOOLS);
    const stored = JSON.parse(JSON.stringify(w.conversation.toJSON()));
    expect(stored).toEqual(w.conversation.toJSON());
    const resumed = new Conversation(SETTINGS, { summarise: async () => null, currentDiff: async () => '', compacted: () => undefined }, (r) => w.counter.count(r.messages, r.tools), stored);
    expect(await resumed.next(TOOLS)).toEqual(request);
  });
});
