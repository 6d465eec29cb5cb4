import { randomBytes } from 'node:crypto';
import type {
  ChatCompletionChunk,
  ChatCompletionMessageParam,
  ChatCompletionMessageToolCall,
  ChatCompletionTool,
} from 'openai/resources/chat/completions';
import { z } from 'zod';
import { WorkerThread } from '../threads/worker-thread.js';

/**
 * How tools reach an endpoint: `native` sends `tools` and reads `tool_calls`; `prompted` describes the tools in
 * the system prompt and reads calls from the answer's text (endpoints that reject `tools` or never call them).
 * Either way the caller sees `tool_calls`.
 */
export type ToolMode = 'native' | 'prompted';

type FunctionCall = Extract<ChatCompletionMessageToolCall, { type: 'function' }>;
type DeltaToolCall = NonNullable<ChatCompletionChunk['choices'][number]['delta']['tool_calls']>[number];

function newCallId(): string {
  return `call_${randomBytes(6).toString('hex')}`;
}

/**
 * `arguments` as the wire format wants them: a JSON string. Some servers send an object (Ollama's and others'
 * OpenAI routes); it is serialised; nothing becomes `{}`.
 */
export function argumentsText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined || value === null) return '{}';
  return JSON.stringify(value);
}

/**
 * Tool calls of a complete (non-streamed) answer, made uniform: `arguments` a string, an id and
 * `type: "function"` on each (some servers omit them).
 */
export function normalizeToolCalls(calls: readonly unknown[] | null | undefined): FunctionCall[] {
  const result: FunctionCall[] = [];
  for (const raw of calls ?? []) {
    if (typeof raw !== 'object' || raw === null) continue;
    const call = raw as { id?: unknown; function?: { name?: unknown; arguments?: unknown } };
    const name = typeof call.function?.name === 'string' ? call.function.name : '';
    if (!name) continue;
    result.push({ id: typeof call.id === 'string' && call.id ? call.id : newCallId(), type: 'function', function: { name, arguments: argumentsText(call.function?.arguments) } });
  }
  return result;
}

/**
 * Assembles streamed tool-call deltas into calls. OpenAI sends each call's id and name once, then argument
 * fragments under the same `index`; other servers differ, so:
 * - a delta whose `id` differs from its call's opens a new call — also when two calls share one `index`;
 * - a delta without `index` continues the current call (or the call its `id` names);
 * - a repeated name is not appended twice; `arguments` sent as an object replace the text.
 */
export class ToolCallAssembler {
  private readonly assembled: FunctionCall[] = [];
  private readonly byIndex = new Map<number, FunctionCall>();
  private current: FunctionCall | undefined;

  /** Takes one chunk's tool-call deltas; returns how many argument characters arrived (for progress). */
  add(parts: readonly DeltaToolCall[]): number {
    let characters = 0;
    for (const part of parts) {
      const call = this.target(part);
      const name = part.function?.name;
      if (name && call.function.name !== name) call.function.name += name;
      const fragment = (part.function as { arguments?: unknown } | undefined)?.arguments;
      if (typeof fragment === 'string') call.function.arguments += fragment;
      else if (fragment !== undefined && fragment !== null) call.function.arguments = argumentsText(fragment);
      characters += typeof fragment === 'string' ? fragment.length : 0;
    }
    return characters;
  }

  /** The calls so far, in arrival order, each with an id. */
  calls(): FunctionCall[] {
    return this.assembled.filter((call) => call.function.name).map((call) => ({ ...call, id: call.id || newCallId(), function: { ...call.function } }));
  }

  private target(part: DeltaToolCall): FunctionCall {
    const id = part.id || undefined;
    const index = typeof part.index === 'number' ? part.index : undefined;
    const named = id ? this.assembled.find((call) => call.id === id) : undefined;
    if (named) return this.select(named, index);
    const atIndex = index === undefined ? this.current : this.byIndex.get(index);
    if (atIndex && !(id && atIndex.id && atIndex.id !== id)) {
      if (id && !atIndex.id) atIndex.id = id;
      return this.select(atIndex, index);
    }
    const call: FunctionCall = { id: id ?? '', type: 'function', function: { name: '', arguments: '' } };
    this.assembled.push(call);
    return this.select(call, index);
  }

  private select(call: FunctionCall, index: number | undefined): FunctionCall {
    if (index !== undefined) this.byIndex.set(index, call);
    this.current = call;
    return call;
  }
}

/** What was found in an answer's text. */
export interface DecodedText {
  /** Calls that name an offered tool and fit its parameters. */
  calls: FunctionCall[];
  /** For each call that could not be run: a correction to send back to the model. */
  problems: string[];
  /** The text without the calls (null when nothing else was said). */
  text: string | null;
}

interface Candidate {
  start: number;
  end: number;
  style: string;
  /** Tag styles say "this is a call" outright; a bare JSON object only counts when it names an offered tool. */
  explicit: boolean;
  name?: string;
  payload?: unknown;
  /** Why the block could not be read (bad JSON). */
  error?: string;
}

const NAME_KEYS = ['name', 'tool', 'tool_name', 'function', 'recipient_name'];
const ARGUMENT_KEYS = ['arguments', 'parameters', 'args', 'input', 'params'];

/** Reads `{"name": …, "arguments": …}` and its variants (`function`, `parameters`, `args`, nested `function`). */
function callShape(value: unknown): { name: string; args: unknown } | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const object = value as Record<string, unknown>;
  if (typeof object.function === 'object' && object.function !== null) return callShape(object.function);
  const nameKey = NAME_KEYS.find((key) => typeof object[key] === 'string');
  if (!nameKey) return undefined;
  const argumentKey = ARGUMENT_KEYS.find((key) => key in object);
  let args: unknown = argumentKey ? object[argumentKey] : {};
  if (typeof args === 'string') {
    try {
      args = JSON.parse(args);
    } catch {
      // left as text: the schema check reports it
    }
  }
  return { name: String(object[nameKey]).replace(/^functions\./, ''), args };
}

/** The end of the JSON value starting at `start` (an object or array), string- and escape-aware; -1 if unclosed. */
function jsonEnd(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const char = text[i];
    if (inString) {
      if (char === '\\') i++;
      else if (char === '"') inString = false;
    } else if (char === '"') inString = true;
    else if (char === '{' || char === '[') depth++;
    else if (char === '}' || char === ']') {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

function parseJson(text: string): { value?: unknown; error?: string } {
  try {
    return { value: JSON.parse(text) };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

/** `<parameter=path>src/a.ts</parameter>` pairs (Qwen3-Coder's XML style); values that parse as JSON are taken as JSON. */
function xmlParameters(body: string): Record<string, unknown> | undefined {
  const pattern = /<parameter=([^>\s]+)>\n?([\s\S]*?)\n?<\/parameter>/g;
  const found: Record<string, unknown> = {};
  let any = false;
  for (const match of body.matchAll(pattern)) {
    any = true;
    const raw = match[2];
    const parsed = parseJson(raw.trim());
    found[match[1]] = parsed.error === undefined && typeof parsed.value !== 'string' ? parsed.value : raw;
  }
  return any ? found : undefined;
}

/** One tagged block's body: a JSON call, a `<function=…>` block, or unreadable. */
function readTagged(body: string, start: number, end: number, style: string, name?: string): Candidate {
  const trimmed = body.trim();
  const inner = /^<function=([^>\s]+)>([\s\S]*?)(?:<\/function>|$)/.exec(trimmed);
  if (inner) return readTagged(inner[2], start, end, style, inner[1]);
  if (name) {
    const parameters = xmlParameters(trimmed);
    if (parameters) return { start, end, style, explicit: true, name, payload: parameters };
    if (!trimmed) return { start, end, style, explicit: true, name, payload: {} };
  }
  const parsed = parseJson(trimmed.replace(/^```(?:json)?\s*|\s*```$/g, ''));
  if (parsed.error !== undefined) return { start, end, style, explicit: true, name, error: parsed.error };
  if (name) return { start, end, style, explicit: true, name, payload: parsed.value };
  const shape = callShape(parsed.value);
  return shape ? { start, end, style, explicit: true, name: shape.name, payload: shape.args } : { start, end, style, explicit: true, error: 'it names no tool ("name" is missing)' };
}

/**
 * A reader of Python call syntax, `[read_file(path="a.ts"), done(summary='ok')]`: the "pythonic" tool-call format
 * of Llama 3.2+ and Llama 4 (vLLM's `pythonic` parser) and Gemma's ```tool_code blocks. Arguments are keywords
 * with Python literals (strings, numbers, True/False/None, lists, dicts); anything else is not a call.
 */
class PythonCalls {
  private at: number;

  constructor(private readonly text: string, start: number) {
    this.at = start;
  }

  /** `[call, call…]` from the start; the calls and where the list ends, or undefined. */
  list(): { calls: { name: string; args: Record<string, unknown> }[]; end: number } | undefined {
    if (!this.take('[')) return undefined;
    const calls = this.sequence(']', () => this.call());
    return calls ? { calls, end: this.at } : undefined;
  }

  /** Calls one after another (one a line, as in a tool_code block) until the text ends. */
  lines(): { name: string; args: Record<string, unknown> }[] | undefined {
    const calls: { name: string; args: Record<string, unknown> }[] = [];
    for (this.space(); this.at < this.text.length; this.space()) {
      const call = this.call();
      if (!call) return undefined;
      calls.push(call);
    }
    return calls.length ? calls : undefined;
  }

  private call(): { name: string; args: Record<string, unknown> } | undefined {
    this.space();
    const name = /^[A-Za-z_][\w.]*/.exec(this.text.slice(this.at, this.at + 200))?.[0];
    if (!name) return undefined;
    this.at += name.length;
    if (!this.take('(')) return undefined;
    const args: Record<string, unknown> = {};
    const pairs = this.sequence(')', () => {
      this.space();
      const key = /^[A-Za-z_]\w*/.exec(this.text.slice(this.at, this.at + 200))?.[0];
      if (!key) return undefined;
      this.at += key.length;
      if (!this.take('=')) return undefined;
      const value = this.value();
      if (value === NOT_A_VALUE) return undefined;
      args[key] = value;
      return true;
    });
    return pairs ? { name: name.replace(/^functions\./, ''), args } : undefined;
  }

  private value(): unknown {
    this.space();
    const char = this.text[this.at];
    if (char === '"' || char === "'") return this.string();
    if (char === '[') return this.sequence(']', () => this.value(), true) ?? NOT_A_VALUE;
    if (char === '{') {
      const object: Record<string, unknown> = {};
      this.at++;
      const entries = this.sequence('}', () => {
        const key = this.value();
        if (typeof key !== 'string' || !this.take(':')) return undefined;
        const value = this.value();
        if (value === NOT_A_VALUE) return undefined;
        object[key] = value;
        return true;
      });
      return entries ? object : NOT_A_VALUE;
    }
    const word = /^(?:True|False|None|-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)/.exec(this.text.slice(this.at, this.at + 64))?.[0];
    if (!word) return NOT_A_VALUE;
    this.at += word.length;
    return word === 'True' ? true : word === 'False' ? false : word === 'None' ? null : Number(word);
  }

  /** A Python string literal ('…', "…", or triple-quoted), with its escapes. */
  private string(): unknown {
    const quote = this.text.startsWith(this.text[this.at].repeat(3), this.at) ? this.text[this.at].repeat(3) : this.text[this.at];
    let result = '';
    for (this.at += quote.length; this.at < this.text.length; this.at++) {
      if (this.text.startsWith(quote, this.at)) {
        this.at += quote.length;
        return result;
      }
      const char = this.text[this.at];
      if (char !== '\\') {
        result += char;
        continue;
      }
      const next = this.text[++this.at];
      result += ({ n: '\n', t: '\t', r: '\r', '0': '\0' } as Record<string, string>)[next] ?? next;
    }
    return NOT_A_VALUE;
  }

  /** Items separated by commas up to `close` (a trailing comma allowed); with `opening`, the opener is taken first. */
  private sequence<T>(close: string, item: () => T | undefined, opening = false): T[] | undefined {
    if (opening) this.at++;
    const items: T[] = [];
    for (;;) {
      this.space();
      if (this.take(close)) return items;
      const next = item();
      if (next === undefined || (next as unknown) === NOT_A_VALUE) return undefined;
      items.push(next);
      this.space();
      if (!this.take(',') && this.text[this.at] !== close) return undefined;
    }
  }

  private take(token: string): boolean {
    this.space();
    if (!this.text.startsWith(token, this.at)) return false;
    this.at += token.length;
    return true;
  }

  private space(): void {
    while (this.at < this.text.length && /\s/.test(this.text[this.at])) this.at++;
  }
}

const NOT_A_VALUE = Symbol('not a Python literal');

/** Characters scanned for the ends of bare JSON objects, per character of the answer (see findCandidates). */
const JSON_SCAN_SHARE = 4;
const JSON_SCAN_MINIMUM = 1_000_000;

/** Where the run of characters matching `char` (one character each) that ends at `end` begins: scanned backwards. */
function lastBefore(text: string, end: number, char: RegExp): number {
  let at = end;
  while (at > 0 && char.test(text[at - 1])) at--;
  return at;
}

/** Every place in the text that looks like a tool call, in order, without overlaps. */
function findCandidates(text: string): Candidate[] {
  const found: Candidate[] = [];
  // Which characters a call or a <think> block already holds, one byte each: the text is the model's, and may be
  // megabytes of anything (a list of spans searched at every match was quadratic in the number of matches).
  const covered = new Uint8Array(text.length + 1);
  const taken = (at: number) => covered[at] === 1;
  const add = (candidate: Candidate) => {
    found.push(candidate);
    covered.fill(1, candidate.start, candidate.end);
  };
  // A reasoning model's <think> block (Qwen3, DeepSeek-R1 without a reasoning parser) may rehearse calls: not calls.
  for (const match of text.matchAll(/<think>[\s\S]*?(?:<\/think>|$)/g)) covered.fill(1, match.index, match.index + match[0].length);
  // Hermes/Qwen `<tool_call>…</tool_call>` (an unclosed last one too), and `<function_call>` variants.
  for (const match of text.matchAll(/<(tool_call|function_call)>([\s\S]*?)(?:<\/\1>|$)/g)) {
    if (!taken(match.index)) add(readTagged(match[2], match.index, match.index + match[0].length, `<${match[1]}>`));
  }
  // `<function=name>{…}</function>` (Llama 3.1's custom format, Qwen3-Coder's XML parameters).
  for (const match of text.matchAll(/<function=([^>\s]+)>([\s\S]*?)(?:<\/function>|$)/g)) {
    if (!taken(match.index)) add(readTagged(match[2], match.index, match.index + match[0].length, '<function=…>', match[1]));
  }
  // Mistral's `[TOOL_CALLS] [{…}]`.
  for (const match of text.matchAll(/\[TOOL_CALLS\]\s*/g)) {
    const start = match.index + match[0].length;
    const end = jsonEnd(text, start);
    if (end < 0 || taken(match.index)) continue;
    const parsed = parseJson(text.slice(start, end));
    const items = Array.isArray(parsed.value) ? parsed.value : [parsed.value];
    for (const item of items) {
      const shape = callShape(item);
      add(shape
        ? { start: match.index, end, style: '[TOOL_CALLS]', explicit: true, name: shape.name, payload: shape.args }
        : { start: match.index, end, style: '[TOOL_CALLS]', explicit: true, error: parsed.error ?? 'it names no tool' });
    }
  }
  // DeepSeek's `<｜tool▁call▁begin｜>function<｜tool▁sep｜>name ```json {…}``` <｜tool▁call▁end｜>` and Kimi K2's
  // `<|tool_call_begin|>functions.name:0<|tool_call_argument_begin|>{…}<|tool_call_end|>`, passed through as text.
  const tokenFormats: [RegExp, string][] = [
    [/<｜tool▁call▁begin｜>(?:function)?<｜tool▁sep｜>([\w.-]+)\s*([\s\S]*?)(?:<｜tool▁call▁end｜>|$)/g, 'DeepSeek tool-call'],
    [/<\|tool_call_begin\|>\s*(?:functions\.)?([\w.-]+?)(?::\d+)?\s*<\|tool_call_argument_begin\|>([\s\S]*?)(?:<\|tool_call_end\|>|$)/g, 'Kimi tool-call'],
  ];
  for (const [pattern, style] of tokenFormats) {
    for (const match of text.matchAll(pattern)) {
      if (!taken(match.index)) add(readTagged(match[2], match.index, match.index + match[0].length, style, match[1]));
    }
  }
  // Python call syntax: Gemma's ```tool_code block (a call outright), a `[name(k=v), …]` list (Llama 3.2+) only
  // when it names an offered tool.
  for (const match of text.matchAll(/```tool_code\s*\n([\s\S]*?)```/g)) {
    if (taken(match.index)) continue;
    const calls = new PythonCalls(match[1], 0).lines();
    const end = match.index + match[0].length;
    if (!calls) add({ start: match.index, end, style: 'tool_code', explicit: true, error: 'it is not a list of calls like name(key="value")' });
    else for (const call of calls) add({ start: match.index, end, style: 'tool_code', explicit: true, name: call.name, payload: call.args });
  }
  for (const match of text.matchAll(/\[\s*[A-Za-z_][\w.]*\(/g)) {
    if (taken(match.index)) continue;
    const list = new PythonCalls(text, match.index).list();
    if (!list) continue;
    for (const call of list.calls) add({ start: match.index, end: list.end, style: 'Python-style', explicit: false, name: call.name, payload: call.args });
  }
  // Bare or fenced JSON objects (and arrays of them) anywhere in the text. Looking for an object's end scans on to
  // the end of the text when it is never closed: past JSON_SCAN_SHARE of the text's length in all, the rest of it
  // is left as text (a megabyte of `{"a` would otherwise be read once per brace).
  let scanBudget = JSON_SCAN_SHARE * text.length + JSON_SCAN_MINIMUM;
  for (let i = text.indexOf('{'); i >= 0 && scanBudget > 0; i = text.indexOf('{', i + 1)) {
    // Only objects that open with a key can be calls; this skips code like `{ return a; }` cheaply.
    if (taken(i) || !/^\{\s*"/.test(text.slice(i, i + 64))) continue;
    const opening = lastBefore(text, i, /\s/);
    const start = text[opening - 1] === '[' && !taken(opening - 1) ? opening - 1 : i;
    const end = jsonEnd(text, start);
    scanBudget -= (end < 0 ? text.length : end) - start;
    if (end < 0) continue;
    const parsed = parseJson(text.slice(start, end));
    const items = Array.isArray(parsed.value) ? parsed.value : [parsed.value];
    const shapes = items.map(callShape);
    if (parsed.error !== undefined || !shapes.every(Boolean)) continue;
    // A fence around the JSON goes with it.
    const language = lastBefore(text, lastBefore(text, start, /\s/), /[\w-]/);
    const fenceBefore = text.endsWith('```', language) ? { index: language - 3 } : null;
    const fenceAfter = /^\s*```/.exec(text.slice(end));
    const spanStart = fenceBefore && fenceAfter ? fenceBefore.index : start;
    const spanEnd = fenceBefore && fenceAfter ? end + fenceAfter[0].length : end;
    for (const shape of shapes) add({ start: spanStart, end: spanEnd, style: fenceBefore && fenceAfter ? 'fenced JSON' : 'JSON', explicit: false, name: shape!.name, payload: shape!.args });
    i = end - 1;
  }
  return found.sort((a, b) => a.start - b.start);
}

const validators = new WeakMap<object, z.ZodType>();

/** Checks arguments against the tool's JSON Schema (zod's reader); returns the first few issues, or none. */
function schemaIssues(tool: Extract<ChatCompletionTool, { type: 'function' }>, args: unknown): string[] {
  const parameters = tool.function.parameters;
  if (!parameters) return [];
  let validator = validators.get(parameters);
  if (!validator) {
    validator = z.fromJSONSchema(parameters as Parameters<typeof z.fromJSONSchema>[0]);
    validators.set(parameters, validator);
  }
  const result = validator.safeParse(args);
  if (result.success) return [];
  return result.error.issues.slice(0, 4).map((issue) => `${issue.path.length ? issue.path.join('.') : 'arguments'}: ${issue.message}`);
}

function functionTools(tools: readonly ChatCompletionTool[]): Extract<ChatCompletionTool, { type: 'function' }>[] {
  return tools.filter((tool): tool is Extract<ChatCompletionTool, { type: 'function' }> => tool.type === 'function');
}

interface SchemaNode {
  type?: string;
  const?: unknown;
  properties?: Record<string, SchemaNode>;
  required?: string[];
  items?: SchemaNode;
  oneOf?: SchemaNode[];
  anyOf?: SchemaNode[];
}

/** A value of the schema's shape with "…" for text: the first alternative of a union, required fields only. */
function placeholder(schema: SchemaNode, depth = 0): unknown {
  if (schema.const !== undefined) return schema.const;
  const alternative = schema.oneOf?.[0] ?? schema.anyOf?.[0];
  if (alternative && depth < 6) return placeholder(alternative, depth + 1);
  switch (schema.type) {
    case 'number': case 'integer': return 1;
    case 'boolean': return true;
    case 'array': return schema.items && depth < 6 ? [placeholder(schema.items, depth + 1)] : [];
    case 'object': return Object.fromEntries((schema.required ?? []).map((key) => [key, depth < 6 ? placeholder(schema.properties?.[key] ?? {}, depth + 1) : {}]));
    default: return '…';
  }
}

/** The call written out in the format the model should use, for corrections and examples. */
function exampleCall(tool: Extract<ChatCompletionTool, { type: 'function' }>): string {
  const schema = (tool.function.parameters ?? { type: 'object' }) as SchemaNode;
  return `<tool_call>\n${JSON.stringify({ name: tool.function.name, arguments: placeholder({ ...schema, type: 'object' }) })}\n</tool_call>`;
}

/**
 * Finds tool calls written in an answer's text — `<tool_call>` tags (Hermes, Qwen), `<function=name>` blocks
 * (Llama 3.1, Qwen3-Coder), `[TOOL_CALLS]` (Mistral), DeepSeek's and Kimi's tool-call tokens, Python call syntax
 * (`[name(k="v")]` of Llama 3.2+, Gemma's ```tool_code), fenced or bare JSON naming an offered tool — and turns those
 * that fit the tool's parameters into calls. A block that is plainly meant as a call but cannot be run (bad JSON,
 * unknown tool, arguments that do not fit) yields a correction naming what is wrong; JSON that names no offered
 * tool is left as text.
 */
export function decodeTextToolCalls(content: string, tools: readonly ChatCompletionTool[]): DecodedText {
  const offered = functionTools(tools);
  const byName = new Map(offered.map((tool) => [tool.function.name, tool]));
  const names = offered.map((tool) => tool.function.name).join(', ');
  const calls: FunctionCall[] = [];
  const problems: string[] = [];
  const consumed: { start: number; end: number }[] = [];
  for (const candidate of findCandidates(content)) {
    const tool = candidate.name ? byName.get(candidate.name) : undefined;
    if (!candidate.explicit && !tool) continue;
    consumed.push(candidate);
    if (candidate.error !== undefined) {
      problems.push(`Your ${candidate.style} tool call could not be read (${candidate.error}), so it was not run. Write each call as JSON naming the tool and its arguments, e.g.\n${offered[0] ? exampleCall(offered[0]) : ''}`);
      continue;
    }
    if (!tool) {
      problems.push(`Your ${candidate.style} tool call names ${JSON.stringify(candidate.name)}, which is not a tool here, so it was not run. The tools are: ${names}.`);
      continue;
    }
    const issues = schemaIssues(tool, candidate.payload);
    if (issues.length) {
      problems.push(`Your ${candidate.style} call of ${tool.function.name} was not run: its arguments do not fit the tool (${issues.join('; ')}). The parameters are ${JSON.stringify(tool.function.parameters)}; send it again, e.g.\n${exampleCall(tool)}`);
      continue;
    }
    calls.push({ id: newCallId(), type: 'function', function: { name: tool.function.name, arguments: JSON.stringify(candidate.payload ?? {}) } });
  }
  let rest = '';
  let at = 0;
  for (const span of consumed.sort((a, b) => a.start - b.start)) {
    if (span.start < at) continue;
    rest += content.slice(at, span.start);
    at = span.end;
  }
  rest = (rest + content.slice(at)).trim();
  return { calls, problems, text: consumed.length ? rest || null : content };
}

/**
 * Answers at least this long (characters) are read on the decoding thread: reading calls out of text is linear
 * but takes 0.3–2 µs a character (a 1 MB answer of look-alike calls: 0.7–1.8 s), which every editor of the
 * daemon would wait for; shorter ones cost less than the trip to the thread.
 */
const OFF_THREAD_CHARACTERS = 64 * 1024;
const decoder = new WorkerThread<{ content: string; tools: readonly ChatCompletionTool[] }, DecodedText>(
  new URL('./text-tool-calls-worker.js', import.meta.url), ({ content, tools }) => decodeTextToolCalls(content, tools));

/** `decodeTextToolCalls`, on the process's decoding thread for a long answer (the same result either way). */
export function decodeTextToolCallsOffThread(content: string, tools: readonly ChatCompletionTool[]): Promise<DecodedText> {
  return content.length < OFF_THREAD_CHARACTERS ? Promise.resolve(decodeTextToolCalls(content, tools)) : decoder.run({ content, tools });
}

/**
 * The system-prompt text that teaches an endpoint without tool support to call tools: the tools with their JSON
 * Schemas, and the `<tool_call>` format `decodeTextToolCalls` reads back.
 */
export function promptedToolInstructions(tools: readonly ChatCompletionTool[]): string {
  const offered = functionTools(tools);
  const list = offered.map((tool) => `- ${tool.function.name}: ${tool.function.description ?? ''}\n  parameters (JSON Schema): ${JSON.stringify(tool.function.parameters ?? {})}`).join('\n');
  return [
    'You can call tools. To call one, write a block like this in your answer, with arguments that fit its parameters:',
    offered[0] ? exampleCall(offered[0]) : '',
    'Write one block per call; you may write several. Each call\'s result comes back in the next message, starting with "Result of".',
    'The tools:',
    list,
  ].join('\n');
}

function plainText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((part) => (typeof part === 'object' && part && 'text' in part ? String(part.text) : '')).join('');
  return '';
}

/**
 * The conversation as an endpoint without tool support can take it: the tool instructions in the system prompt,
 * earlier calls written back as `<tool_call>` blocks, tool results as user messages, and consecutive messages of
 * one role merged (many chat templates insist that user and assistant alternate).
 */
export function toPromptedMessages(messages: readonly ChatCompletionMessageParam[], tools: readonly ChatCompletionTool[]): ChatCompletionMessageParam[] {
  const instructions = promptedToolInstructions(tools);
  const names = new Map<string, string>();
  const rewritten: { role: 'system' | 'user' | 'assistant'; content: string }[] = [];
  for (const message of messages) {
    if (message.role === 'assistant') {
      const calls = (message.tool_calls ?? []).filter((call): call is FunctionCall => call.type === 'function');
      for (const call of calls) names.set(call.id, call.function.name);
      const written = calls.map((call) => {
        const parsed = parseJson(call.function.arguments);
        return `<tool_call>\n${JSON.stringify({ name: call.function.name, arguments: parsed.error === undefined ? parsed.value : call.function.arguments })}\n</tool_call>`;
      });
      rewritten.push({ role: 'assistant', content: [plainText(message.content), ...written].filter(Boolean).join('\n') });
    } else if (message.role === 'tool') {
      rewritten.push({ role: 'user', content: `Result of ${names.get(message.tool_call_id) ?? 'the tool call'} (${message.tool_call_id}):\n${plainText(message.content)}` });
    } else if (message.role === 'system' || message.role === 'developer') {
      rewritten.push({ role: 'system', content: plainText(message.content) });
    } else if (message.role === 'user') {
      rewritten.push({ role: 'user', content: plainText(message.content) });
    }
  }
  const firstSystem = rewritten.findIndex((message) => message.role === 'system');
  if (firstSystem >= 0) rewritten[firstSystem].content += `\n\n${instructions}`;
  else rewritten.unshift({ role: 'system', content: instructions });
  const merged: typeof rewritten = [];
  for (const message of rewritten) {
    const last = merged.at(-1);
    if (last && last.role === message.role) last.content += `\n\n${message.content}`;
    else merged.push({ ...message });
  }
  return merged;
}
