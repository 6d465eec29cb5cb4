import { describe, expect, it } from 'vitest';
import { argumentsText, decodeTextToolCalls, normalizeToolCalls, ToolCallAssembler, toPromptedMessages } from '../../server/model/tool-call-codec.js';
import { toolSpecifications } from '../../server/tools/agent-tools.js';

const tools = toolSpecifications();
const names = (decoded: ReturnType<typeof decodeTextToolCalls>) => decoded.calls.map((call) => [call.function.name, JSON.parse(call.function.arguments)]);

describe('arguments and complete answers', () => {
  it('accepts arguments given as an object and sends them on as a string', () => {
    expect(argumentsText({ path: 'a.ts' })).toBe('{"path":"a.ts"}');
    expect(argumentsText('{"path": "a.ts"}')).toBe('{"path": "a.ts"}');
    expect(argumentsText(undefined)).toBe('{}');
    const calls = normalizeToolCalls([
      { id: 'call_a', type: 'function', function: { name: 'read_file', arguments: { path: 'a.ts' } } },
      { function: { name: 'list_files', arguments: null } },
      { function: { arguments: '{}' } },
    ]);
    expect(calls).toHaveLength(2);
    expect(calls[0]).toEqual({ id: 'call_a', type: 'function', function: { name: 'read_file', arguments: '{"path":"a.ts"}' } });
    expect(calls[1].id).toMatch(/^call_[0-9a-f]{12}$/);
    expect(calls[1].function.arguments).toBe('{}');
  });
});

describe('ToolCallAssembler (streamed deltas)', () => {
  it('assembles OpenAI-style deltas by index', () => {
    const assembler = new ToolCallAssembler();
    assembler.add([{ index: 0, id: 'call_1', type: 'function', function: { name: 'read_file', arguments: '{"pa' } }]);
    assembler.add([{ index: 1, id: 'call_2', type: 'function', function: { name: 'list_files', arguments: '' } }]);
    assembler.add([{ index: 0, function: { arguments: 'th":"a.ts"}' } }]);
    assembler.add([{ index: 1, function: { arguments: '{}' } }]);
    expect(assembler.calls().map((call) => [call.id, call.function.name, call.function.arguments])).toEqual([
      ['call_1', 'read_file', '{"path":"a.ts"}'],
      ['call_2', 'list_files', '{}'],
    ]);
  });

  it('opens a new call for a new id on the same index (two calls sharing index 0)', () => {
    const assembler = new ToolCallAssembler();
    assembler.add([{ index: 0, id: 'call_a', function: { name: 'read_file', arguments: '{"path":' } }]);
    assembler.add([{ index: 0, function: { arguments: '"a.ts"}' } }]);
    assembler.add([{ index: 0, id: 'call_b', function: { name: 'read_file', arguments: '{"path":"b.ts"}' } }]);
    expect(assembler.calls().map((call) => [call.id, JSON.parse(call.function.arguments).path])).toEqual([['call_a', 'a.ts'], ['call_b', 'b.ts']]);
  });

  it('continues the current call for deltas without an index, and takes object arguments whole', () => {
    const assembler = new ToolCallAssembler();
    const parts = [
      { id: 'x1', function: { name: 'read_file', arguments: '{"path"' } },
      { function: { arguments: ': "a.ts"}' } },
      { id: 'x2', function: { name: 'list_files' } },
      { id: 'x2', function: { arguments: { path: 'src' } } },
    ];
    for (const part of parts) assembler.add([part as never]);
    expect(assembler.calls().map((call) => [call.id, call.function.name, call.function.arguments])).toEqual([
      ['x1', 'read_file', '{"path": "a.ts"}'],
      ['x2', 'list_files', '{"path":"src"}'],
    ]);
  });

  it('does not double a name repeated on every delta, and gives id-less calls an id', () => {
    const assembler = new ToolCallAssembler();
    assembler.add([{ index: 0, function: { name: 'read_', arguments: '' } }]);
    assembler.add([{ index: 0, function: { name: 'file', arguments: '{"path":"a"}' } }]);
    assembler.add([{ index: 1, function: { name: 'done', arguments: '{"summary":' } }]);
    assembler.add([{ index: 1, function: { name: 'done', arguments: '"ok"}' } }]);
    const calls = assembler.calls();
    expect(calls.map((call) => call.function.name)).toEqual(['read_file', 'done']);
    expect(calls[1].function.arguments).toBe('{"summary":"ok"}');
    expect(calls.every((call) => /^call_/.test(call.id))).toBe(true);
  });
});

describe('decodeTextToolCalls (tool calls written in content)', () => {
  it('reads Hermes/Qwen <tool_call> tags, several in one answer, and keeps the prose', () => {
    const decoded = decodeTextToolCalls('Let me look.\n<tool_call>\n{"name": "read_file", "arguments": {"path": "src/a.ts"}}\n</tool_call>\n<tool_call>{"name": "list_files", "arguments": {"path": "src"}}</tool_call>', tools);
    expect(names(decoded)).toEqual([['read_file', { path: 'src/a.ts' }], ['list_files', { path: 'src' }]]);
    expect(decoded.text).toBe('Let me look.');
    expect(decoded.problems).toEqual([]);
  });

  it('reads <function=name> blocks with a JSON body or XML parameters (Llama 3.1, Qwen3-Coder)', () => {
    expect(names(decodeTextToolCalls('<function=read_file>{"path": "a.ts", "startLine": 3}</function>', tools))).toEqual([['read_file', { path: 'a.ts', startLine: 3 }]]);
    const xml = decodeTextToolCalls('<tool_call>\n<function=read_file>\n<parameter=path>\nsrc/b.ts\n</parameter>\n<parameter=startLine>\n10\n</parameter>\n</function>\n</tool_call>', tools);
    expect(names(xml)).toEqual([['read_file', { path: 'src/b.ts', startLine: 10 }]]);
  });

  it('reads fenced JSON, bare JSON, arrays, Mistral [TOOL_CALLS] and "function"/"parameters" spellings', () => {
    expect(names(decodeTextToolCalls('I will read it:\n```json\n{"name": "read_file", "arguments": {"path": "a.ts"}}\n```', tools))).toEqual([['read_file', { path: 'a.ts' }]]);
    expect(names(decodeTextToolCalls('{"name": "done", "parameters": {"summary": "fixed"}}', tools))).toEqual([['done', { summary: 'fixed' }]]);
    expect(names(decodeTextToolCalls('[{"name": "list_files", "arguments": {}}, {"function": {"name": "read_file", "arguments": "{\\"path\\": \\"b\\"}"}}]', tools)))
      .toEqual([['list_files', {}], ['read_file', { path: 'b' }]]);
    expect(names(decodeTextToolCalls('[TOOL_CALLS] [{"name": "read_file", "arguments": {"path": "m.ts"}}]', tools))).toEqual([['read_file', { path: 'm.ts' }]]);
    expect(names(decodeTextToolCalls('{"type": "function", "name": "functions.list_files", "args": {"path": "x"}}', tools))).toEqual([['list_files', { path: 'x' }]]);
  });

  it('ignores calls rehearsed inside a reasoning model\'s <think> block', () => {
    const decoded = decodeTextToolCalls('<think>Maybe <tool_call>{"name": "list_files", "arguments": {}}</tool_call>? No, read it.</think>\n<tool_call>{"name": "read_file", "arguments": {"path": "a.ts"}}</tool_call>', tools);
    expect(names(decoded)).toEqual([['read_file', { path: 'a.ts' }]]);
    expect(decoded.text).toMatch(/^<think>Maybe/);
  });

  it('reads Python call syntax (Llama 3.2+ lists, Gemma tool_code) with Python literals, and DeepSeek/Kimi tokens', () => {
    const pythonic = decodeTextToolCalls(`[read_file(path="a.ts", startLine=2), propose_edit(path='b.py', edit={"kind": "content", "content": """x = 1\\nprint('ok')\n"""},)]`, tools);
    expect(names(pythonic)).toEqual([['read_file', { path: 'a.ts', startLine: 2 }], ['propose_edit', { path: 'b.py', edit: { kind: 'content', content: "x = 1\nprint('ok')\n" } }]]);
    expect(pythonic.text).toBeNull();
    const gemma = decodeTextToolCalls('Let me look.\n```tool_code\nlist_files(path="src")\nsearch_code(query="add", caseInsensitive=False)\n```', tools);
    expect(names(gemma)).toEqual([['list_files', { path: 'src' }], ['search_code', { query: 'add', caseInsensitive: false }]]);
    const deepseek = decodeTextToolCalls('<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>read_file\n```json\n{"path": "a.ts"}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>', tools);
    const kimi = decodeTextToolCalls('<|tool_calls_section_begin|><|tool_call_begin|>functions.read_file:0<|tool_call_argument_begin|>{"path": "a.ts"}<|tool_call_end|><|tool_calls_section_end|>', tools);
    expect([names(deepseek), names(kimi)]).toEqual([[['read_file', { path: 'a.ts' }]], [['read_file', { path: 'a.ts' }]]]);
    // Code that merely looks like a call list (a name no tool has, positional arguments) stays text.
    const code = 'Use `[print(x=1)]` or `[read_file("a.ts")]`, or items = [make(n=2)]';
    expect(decodeTextToolCalls(code, tools)).toEqual({ calls: [], problems: [], text: code });
  });

  it('leaves JSON that names no offered tool, and code, as text', () => {
    const text = 'The package.json is:\n```json\n{"name": "calc", "scripts": {"test": "node test.js"}}\n```\nand code: function f() { return {"a": 1}; }';
    const decoded = decodeTextToolCalls(text, tools);
    expect(decoded).toEqual({ calls: [], problems: [], text });
  });

  it('answers a call that does not fit its tool with a specific correction instead of running it', () => {
    const missing = decodeTextToolCalls('<tool_call>{"name": "read_file", "arguments": {"file": "a.ts"}}</tool_call>', tools);
    expect(missing.calls).toEqual([]);
    expect(missing.problems).toHaveLength(1);
    expect(missing.problems[0]).toMatch(/call of read_file was not run: its arguments do not fit the tool \(path: .*expected string/);
    expect(missing.problems[0]).toContain('<tool_call>\n{"name":"read_file","arguments":{"path":"…"}}\n</tool_call>');
    const flat = decodeTextToolCalls('<tool_call>{"name": "propose_edit", "arguments": {"path": "a.js", "blocks": [{"search": "x", "replace": "y"}]}}</tool_call>', tools);
    expect(flat.problems[0]).toMatch(/call of propose_edit was not run: its arguments do not fit the tool \(edit: .*Unrecognized key: "blocks"/);
    // The example in the correction has the schema's shape (a union's first kind), so copying it runs.
    const example = /<tool_call>\n.*\n<\/tool_call>/.exec(flat.problems[0])![0];
    expect(example).toBe('<tool_call>\n{"name":"propose_edit","arguments":{"path":"…","edit":{"kind":"blocks","blocks":[{"search":"…","replace":"…"}]}}}\n</tool_call>');
    expect(decodeTextToolCalls(example, tools).calls).toHaveLength(1);
    const unknown = decodeTextToolCalls('<tool_call>{"name": "delete_everything", "arguments": {}}</tool_call>', tools);
    expect(unknown.problems[0]).toMatch(/names "delete_everything", which is not a tool here.*The tools are: read_file, list_files/);
    const broken = decodeTextToolCalls('<tool_call>{"name": "read_file", "arguments": {"path": </tool_call>', tools);
    expect(broken.problems[0]).toMatch(/<tool_call> tool call could not be read \(.*JSON/);
    const bareButWrong = decodeTextToolCalls('{"name": "read_file", "arguments": {"path": 42}}', tools);
    expect(bareButWrong.problems[0]).toMatch(/JSON call of read_file was not run/);
    expect(bareButWrong.text).toBeNull();
  });
});

describe('toPromptedMessages (endpoints without tool support)', () => {
  it('describes the tools in the system prompt, writes calls back as text, and keeps roles alternating', () => {
    const messages = toPromptedMessages([
      { role: 'system', content: 'You are codeloop.' },
      { role: 'user', content: 'Fix add.' },
      { role: 'assistant', content: 'Reading.', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'read_file', arguments: '{"path":"src/math.js"}' } }, { id: 'call_2', type: 'function', function: { name: 'list_files', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'call_1', content: 'exports.add = (a, b) => a - b;' },
      { role: 'tool', tool_call_id: 'call_2', content: 'src/math.js' },
      { role: 'user', content: 'Continue.' },
    ], tools);
    expect(messages.map((message) => message.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(messages[0].content).toContain('You are codeloop.');
    expect(messages[0].content).toContain('- read_file: Read a file');
    expect(messages[0].content).toContain('<tool_call>');
    expect(messages[2].content).toBe('Reading.\n<tool_call>\n{"name":"read_file","arguments":{"path":"src/math.js"}}\n</tool_call>\n<tool_call>\n{"name":"list_files","arguments":{}}\n</tool_call>');
    expect(messages[3].content).toBe('Result of read_file (call_1):\nexports.add = (a, b) => a - b;\n\nResult of list_files (call_2):\nsrc/math.js\n\nContinue.');
    // What the prompt teaches is what the decoder reads.
    const example = /<tool_call>\n.*\n<\/tool_call>/.exec(String(messages[0].content))![0];
    expect(names(decodeTextToolCalls(example, tools))).toEqual([['read_file', { path: '…' }]]);
    expect(decodeTextToolCalls(String(messages[2].content), tools).calls).toHaveLength(2);
  });
});
