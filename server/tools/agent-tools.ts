import { z } from 'zod';
import type { ChatCompletionTool } from 'openai/resources/chat/completions';
import { applyFileEdit } from '../edits/file-edit.js';
import { toLf } from '../edits/line-endings.js';
import { CodeloopError, errorMessage } from '../errors.js';
import type { IndexQueries } from '../index/workspace-index.js';
import type { CommandResult } from '../sandbox/command-runner.js';
import type { ShadowWorkspace } from '../sandbox/shadow-workspace.js';
import { capText, numberedSlice, reduceCommandOutput } from './tool-output.js';

/** What tools act on: the session's shadow (edits, reads), the index as the session sees it (search), the test runner. */
export interface ToolContext {
  shadow: ShadowWorkspace;
  /** Runs a search on the workspace index with the session's own changes (and deletions) in place of the files. */
  queryIndex<T>(query: (index: IndexQueries) => T): Promise<T>;
  runTests(): Promise<CommandResult | null>;
  runCommand(command: string): Promise<CommandResult | string>;
  /** Characters one tool output may take in the conversation (the context policy sets it from the window). */
  outputLimit: number;
  /** The full, unshortened output of an earlier tool call by its call id, null when there is none. */
  fullOutput(callId: string): string | null;
}

export interface ToolOutcome {
  output: string;
  /** The whole output when `output` is a shortened form of it (kept in the session's events for `read_output`). */
  full?: string;
  /** Set by `done`: the agent says it has finished, with this summary. */
  done?: string;
}

const MAX_READ_LINES = 400;

/** A command's result, reduced to fit the limit (failures, head and tail) with the whole text kept aside. */
function commandOutcome(result: CommandResult | null, limit: number): ToolOutcome {
  const full = formatRun(result);
  const output = reduceCommandOutput(full, limit);
  return output === full ? { output } : { output, full };
}

function formatRun(result: CommandResult | null): string {
  if (!result) return 'no test command is configured or detected for this project';
  const status = result.timedOut ? 'TIMED OUT (killed)' : `exit code ${result.exitCode}${result.signal ? ` (signal ${result.signal})` : ''}`;
  return `${status}\n${result.output}`;
}

interface ToolDefinition<S extends z.ZodType> {
  description: string;
  /** An example call, shown with every refusal of bad arguments so the model can correct itself. */
  usage?: string;
  schema: S;
  /** Rewrites or refuses (throwing a CodeloopError) arguments before validation; see liftFlatEdit. */
  prepare?: (args: Record<string, unknown>) => Record<string, unknown>;
  run(args: z.infer<S>, context: ToolContext): Promise<ToolOutcome> | ToolOutcome;
}

function tool<S extends z.ZodType>(definition: ToolDefinition<S>): ToolDefinition<S> {
  return definition;
}

const BlockSchema = z.object({ search: z.string(), replace: z.string() }).strict();

/** The four meanings of a propose_edit call, told apart by `kind` (a discriminated union in the model's schema). */
const FileEditSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('blocks'), blocks: z.array(BlockSchema).min(1) }).strict(),
  z.object({ kind: z.literal('content'), content: z.string() }).strict(),
  z.object({ kind: z.literal('patch'), patch: z.string().min(1) }).strict(),
  z.object({ kind: z.literal('delete') }).strict(),
]);

const FLAT_EDIT_FIELDS = ['blocks', 'content', 'patch', 'delete'] as const;

/**
 * Models trained on other agents send propose_edit flat (`{"path", "blocks"}`). When exactly one edit field is
 * there (and `delete` is true) the call means one thing and is lifted into `edit`; two or more mean different
 * edits (both `blocks` and `content` once silently replaced the whole file) and are refused with the correction.
 */
function liftFlatEdit(args: Record<string, unknown>): Record<string, unknown> {
  if ('edit' in args) return args;
  const present = FLAT_EDIT_FIELDS.filter((field) => args[field] !== undefined);
  if (present.length > 1) {
    throw new CodeloopError('invalidArgument', `propose_edit got ${present.map((field) => `\`${field}\``).join(' and ')} in one call; they mean different edits, `
      + 'so nothing was changed. Send exactly one as `edit`: {"kind": "blocks", "blocks": […]} to change parts, {"kind": "content", "content": …} to replace the whole file, '
      + '{"kind": "patch", "patch": …} or {"kind": "delete"}; make separate calls for separate changes.');
  }
  if (present.length === 0) return args;
  const [field] = present;
  const { [field]: value, ...rest } = args;
  if (field === 'delete') return value === true ? { ...rest, edit: { kind: 'delete' } } : args;
  return { ...rest, edit: { kind: field, [field]: value } };
}

export const TOOLS = {
  read_file: tool({
    description: 'Read a file of the workspace (as the session has edited it), optionally a line range. Lines are numbered.',
    usage: '{"path": "src/a.ts", "startLine": 10, "endLine": 60}',
    schema: z.object({ path: z.string(), startLine: z.number().int().positive().optional(), endLine: z.number().int().positive().optional() }).strict()
      .refine(({ startLine = 1, endLine }) => endLine === undefined || endLine >= startLine, { message: 'endLine comes before startLine', path: ['endLine'] }),
    run({ path: file, startLine = 1, endLine }, { shadow, outputLimit }) {
      const text = shadow.read(file);
      if (text === null) return { output: `no file ${file} in the workspace` };
      const readMore = (next: number) => `read them with read_file ${JSON.stringify({ path: file, startLine: next })}`;
      // Shown with LF breaks whatever the file has, so blocks copied from here match (line-endings.ts restores them)
      return { output: numberedSlice(file, toLf(text), { startLine, endLine }, { characters: outputLimit, maxLines: MAX_READ_LINES }, readMore) };
    },
  }),
  list_files: tool({
    description: 'List files under a folder of the workspace (recursively, at most 500).',
    schema: z.object({ path: z.string().default('.') }).strict(),
    run({ path: folder }, { shadow }) {
      return { output: shadow.listFiles(folder, 500).join('\n') || '(no files)' };
    },
  }),
  search_code: tool({
    description: 'Search the workspace index: mode literal (default), regex, symbol (definitions by name) or text (files ranked for a question).',
    usage: '{"query": "parseConfig", "mode": "literal", "caseInsensitive": false}',
    schema: z.object({ query: z.string().min(1), mode: z.enum(['literal', 'regex', 'symbol', 'text']).default('literal'), caseInsensitive: z.boolean().default(false) }).strict()
      .refine(({ mode, caseInsensitive }) => !caseInsensitive || mode === 'literal' || mode === 'regex', {
        message: 'caseInsensitive applies to literal and regex searches only (symbol and text searches ignore case already)', path: ['caseInsensitive'],
      }),
    async run(args, { queryIndex }) {
      const result = await queryIndex((index) => index.search({ ...args, limit: 50 }));
      switch (result.mode) {
        case 'literal':
        case 'regex':
          return { output: result.matches.map((m) => `${m.path}:${m.line}: ${m.text}`).join('\n') || 'no matches' };
        case 'symbol':
          return { output: result.symbols.map((s) => `${s.path}:${s.startLine + 1}: ${s.kind} ${s.container ? `${s.container}.` : ''}${s.name}`).join('\n') || 'no symbols' };
        case 'text':
          return { output: result.files.map((f) => `${f.path}:${f.startLine}-${f.endLine}: ${f.preview}`).join('\n') || 'no files' };
      }
    },
  }),
  find_symbol: tool({
    description: 'Find definitions by name (exact, prefix, camelCase humps, fuzzy), best first.',
    schema: z.object({ name: z.string().min(1) }).strict(),
    async run({ name }, { queryIndex }) {
      const symbols = await queryIndex((index) => index.searchSymbols(name, 30));
      return { output: symbols.map((s) => `${s.path}:${s.startLine + 1}-${s.endLine + 1}: ${s.kind} ${s.container ? `${s.container}.` : ''}${s.name}`).join('\n') || 'no symbols' };
    },
  }),
  repo_map: tool({
    description: 'An outline of the most relevant files and their definitions for a question (or the whole repository).',
    schema: z.object({ question: z.string().optional(), tokens: z.number().int().positive().max(8000).default(1500) }).strict(),
    async run({ question, tokens }, { queryIndex }) {
      return { output: (await queryIndex((index) => index.repoMap(question, tokens))) || '(empty repository)' };
    },
  }),
  propose_edit: tool({
    description: 'Change one file. `edit` is exactly one of: {"kind": "blocks", "blocks": [{"search": exact text from the file, "replace": its replacement}]}, '
      + '{"kind": "content", "content": the whole new file (creates it if missing)}, {"kind": "patch", "patch": a unified diff of this file}, {"kind": "delete"}. '
      + 'Line endings, indentation unit and encoding of an existing file are kept whatever you write.',
    usage: '{"path": "src/a.py", "edit": {"kind": "blocks", "blocks": [{"search": "…", "replace": "…"}]}} (or kind "content" with "content", "patch" with "patch", or "delete")',
    schema: z.object({ path: z.string(), edit: FileEditSchema }).strict(),
    prepare: liftFlatEdit,
    run({ path: file, edit }, { shadow }) {
      // A file that is not text throws here (even for whole content: overwriting it would corrupt it); deleting it is fine
      const outcome = applyFileEdit(edit.kind === 'delete' ? null : shadow.read(file), edit);
      if (!outcome.ok) return { output: `${file}: ${outcome.message}` };
      return { output: `${shadow.write(file, outcome.text)}: ${outcome.report}` };
    },
  }),
  run_tests: tool({
    description: 'Run the project\'s tests on the edited workspace (sandboxed: no network, time-limited).',
    schema: z.object({}).strict(),
    async run(_args, { runTests, outputLimit }) {
      return commandOutcome(await runTests(), outputLimit);
    },
  }),
  run_command: tool({
    description: 'Run a shell command from the configured allow-list in the edited workspace (sandboxed).',
    schema: z.object({ command: z.string().min(1) }).strict(),
    async run({ command }, { runCommand, outputLimit }) {
      const result = await runCommand(command);
      return typeof result === 'string' ? { output: result } : commandOutcome(result, outputLimit);
    },
  }),
  read_output: tool({
    description: 'Read the full output of an earlier tool call that was shortened or elided, by its call id, optionally a line range.',
    schema: z.object({ id: z.string().min(1), startLine: z.number().int().positive().optional(), endLine: z.number().int().positive().optional() }).strict(),
    run({ id, startLine = 1, endLine }, { fullOutput, outputLimit }) {
      const text = fullOutput(id);
      if (text === null) return { output: `no output with id ${JSON.stringify(id)} in this session` };
      const readMore = (next: number) => `read them with read_output ${JSON.stringify({ id, startLine: next })}`;
      return { output: numberedSlice(`output of ${id}`, text, { startLine, endLine }, { characters: outputLimit, maxLines: MAX_READ_LINES }, readMore) };
    },
  }),
  done: tool({
    description: 'Finish: call when the change is complete. The tests then run; failures come back to you to repair.',
    schema: z.object({ summary: z.string().min(1) }).strict(),
    run({ summary }) {
      return { output: 'finishing', done: summary };
    },
  }),
};

export type ToolName = keyof typeof TOOLS;

let specifications: ChatCompletionTool[] | null = null;

/**
 * The tool list as the OpenAI API wants it, generated from the same zod schemas that validate the calls — once
 * per process (converting the schemas took 5–15 ms of the event loop, and every model turn sends the list).
 */
export function toolSpecifications(): ChatCompletionTool[] {
  specifications ??= Object.entries(TOOLS).map(([name, definition]) => ({
    type: 'function' as const,
    function: { name, description: definition.description, parameters: z.toJSONSchema(definition.schema, { io: 'input' }) as Record<string, unknown> },
  }));
  return [...specifications];
}

/** Runs one tool call from the model; anything wrong (unknown tool, bad JSON, bad arguments, refused path) becomes a message back to it. */
export async function runToolCall(name: string, rawArguments: string, context: ToolContext): Promise<ToolOutcome> {
  const definition = (TOOLS as Record<string, ToolDefinition<z.ZodType>>)[name];
  if (!definition) return { output: `unknown tool ${JSON.stringify(name)}; the tools are: ${Object.keys(TOOLS).join(', ')}` };
  let parsedJson: unknown;
  try {
    parsedJson = rawArguments.trim() ? JSON.parse(rawArguments) : {};
  } catch (error) {
    return { output: `the arguments of ${name} are not valid JSON (${errorMessage(error)}); send a JSON object` };
  }
  if (typeof parsedJson !== 'object' || parsedJson === null || Array.isArray(parsedJson)) {
    return { output: `the arguments of ${name} must be a JSON object${definition.usage ? `, like ${definition.usage}` : ''}` };
  }
  try {
    const parsed = definition.schema.safeParse(definition.prepare ? definition.prepare(parsedJson as Record<string, unknown>) : parsedJson);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const usage = definition.usage ? `\nCall it as ${definition.usage}` : '';
      return { output: `invalid arguments for ${name} at ${issue.path.join('.') || '(top level)'}: ${issue.message}; nothing was done.${usage}` };
    }
    return withinLimit(await definition.run(parsed.data, context), context.outputLimit);
  } catch (error) {
    // A sandbox that cannot be set up is the user's to fix, not the model's: the session ends with it.
    if (error instanceof CodeloopError && error.code === 'sandboxUnavailable') throw error;
    return { output: `${name} failed: ${errorMessage(error)}` };
  }
}

/** Any tool's output over the limit (a long file list, search hits) is cut to head and tail, the whole kept aside. */
function withinLimit(outcome: ToolOutcome, limit: number): ToolOutcome {
  if (outcome.output.length <= limit) return outcome;
  return { ...outcome, output: capText(outcome.output, limit), full: outcome.full ?? outcome.output };
}
