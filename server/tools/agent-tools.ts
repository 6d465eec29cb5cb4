import { applyPatch } from 'diff';
import { z } from 'zod';
import type { ChatCompletionTool } from 'openai/resources/chat/completions';
import { applyBlock } from '../edits/search-replace.js';
import { errorMessage } from '../errors.js';
import type { IndexQueries } from '../index/workspace-index.js';
import type { CommandResult } from '../sandbox/command-runner.js';
import type { ShadowWorkspace } from '../sandbox/shadow-workspace.js';

/** What tools act on: the session's shadow (edits, reads), the index as the session sees it (search), the test runner. */
export interface ToolContext {
  shadow: ShadowWorkspace;
  /** Runs a search on the workspace index with the session's own changes (and deletions) in place of the files. */
  queryIndex<T>(query: (index: IndexQueries) => T): Promise<T>;
  runTests(): Promise<CommandResult | null>;
  runCommand(command: string): Promise<CommandResult | string>;
}

export interface ToolOutcome {
  output: string;
  /** Set by `done`: the agent says it has finished, with this summary. */
  done?: string;
}

const MAX_TOOL_OUTPUT = 12_000;
const MAX_READ_LINES = 400;

/** Keeps head and tail of long output, saying how much was cut. */
export function capOutput(text: string, limit = MAX_TOOL_OUTPUT): string {
  if (text.length <= limit) return text;
  const half = Math.floor(limit / 2);
  return `${text.slice(0, half)}\n… [${text.length - limit} characters cut] …\n${text.slice(-half)}`;
}

function formatRun(result: CommandResult | null): string {
  if (!result) return 'no test command is configured or detected for this project';
  const status = result.timedOut ? 'TIMED OUT (killed)' : `exit code ${result.exitCode}${result.signal ? ` (signal ${result.signal})` : ''}`;
  return `${status}\n${result.output}`;
}

interface ToolDefinition<S extends z.ZodType> {
  description: string;
  schema: S;
  run(args: z.infer<S>, context: ToolContext): Promise<ToolOutcome> | ToolOutcome;
}

function tool<S extends z.ZodType>(definition: ToolDefinition<S>): ToolDefinition<S> {
  return definition;
}

const BlockSchema = z.object({ search: z.string(), replace: z.string() }).strict();

export const TOOLS = {
  read_file: tool({
    description: 'Read a file of the workspace (as the session has edited it), optionally a line range. Lines are numbered.',
    schema: z.object({ path: z.string(), startLine: z.number().int().positive().optional(), endLine: z.number().int().positive().optional() }).strict(),
    run({ path: file, startLine = 1, endLine }, { shadow }) {
      const text = shadow.read(file);
      if (text === null) return { output: `no file ${file} in the workspace` };
      const lines = text.split('\n');
      const last = Math.min(lines.length, endLine ?? startLine + MAX_READ_LINES - 1, startLine + MAX_READ_LINES - 1);
      const body = lines.slice(startLine - 1, last).map((line, i) => `${startLine + i}: ${line}`).join('\n');
      return { output: capOutput(`${file} (lines ${startLine}-${last} of ${lines.length})\n${body}`) };
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
    schema: z.object({ query: z.string().min(1), mode: z.enum(['literal', 'regex', 'symbol', 'text']).default('literal'), caseInsensitive: z.boolean().default(false) }).strict(),
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
    description: 'Change one file. Either `blocks` (each: exact `search` text from the file and its `replace`ment), or `patch` (a unified diff of this file), or `content` (the whole new file; creates it if missing), or `delete: true`.',
    schema: z.object({ path: z.string(), blocks: z.array(BlockSchema).optional(), patch: z.string().optional(), content: z.string().optional(), delete: z.boolean().optional() }).strict(),
    run({ path: file, blocks, patch, content, delete: remove }, { shadow }) {
      if (remove) return { output: `deleted ${shadow.write(file, null)}` };
      if (content !== undefined) return { output: `wrote ${shadow.write(file, content)} (${content.split('\n').length} lines)` };
      if (patch !== undefined) {
        const current = shadow.read(file);
        if (current === null) return { output: `no file ${file}; to create it, send \`content\`` };
        // A little fuzz: models often get a context line's whitespace slightly wrong.
        const patched = applyPatch(current, patch, { fuzzFactor: 2 });
        if (patched === false) return { output: `the patch does not apply to ${file}: its context lines do not match the file; read the file again or use blocks` };
        shadow.write(file, patched);
        return { output: `${file}: patch applied` };
      }
      if (!blocks?.length) return { output: 'give `blocks`, `patch`, `content` or `delete`' };
      let text = shadow.read(file);
      if (text === null) return { output: `no file ${file}; to create it, send \`content\`` };
      const report: string[] = [];
      for (const [i, block] of blocks.entries()) {
        const outcome = applyBlock(text, block);
        if (!outcome.ok) return { output: `block ${i + 1} not applied (${outcome.reason}): ${outcome.message}\nNo block of this call was applied.` };
        text = outcome.text;
        report.push(`block ${i + 1}: applied (${outcome.how} match)`);
      }
      shadow.write(file, text);
      return { output: `${file}: ${report.join('; ')}` };
    },
  }),
  run_tests: tool({
    description: 'Run the project\'s tests on the edited workspace (sandboxed: no network, time-limited).',
    schema: z.object({}).strict(),
    async run(_args, { runTests }) {
      return { output: capOutput(formatRun(await runTests())) };
    },
  }),
  run_command: tool({
    description: 'Run a shell command from the configured allow-list in the edited workspace (sandboxed).',
    schema: z.object({ command: z.string().min(1) }).strict(),
    async run({ command }, { runCommand }) {
      const result = await runCommand(command);
      return { output: typeof result === 'string' ? result : capOutput(formatRun(result)) };
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

/** The tool list as the OpenAI API wants it, generated from the same zod schemas that validate the calls. */
export function toolSpecifications(): ChatCompletionTool[] {
  return Object.entries(TOOLS).map(([name, definition]) => ({
    type: 'function' as const,
    function: { name, description: definition.description, parameters: z.toJSONSchema(definition.schema, { io: 'input' }) as Record<string, unknown> },
  }));
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
  const parsed = definition.schema.safeParse(parsedJson);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { output: `invalid arguments for ${name} at ${issue.path.join('.') || '(top level)'}: ${issue.message}` };
  }
  try {
    return await definition.run(parsed.data, context);
  } catch (error) {
    return { output: `${name} failed: ${errorMessage(error)}` };
  }
}
