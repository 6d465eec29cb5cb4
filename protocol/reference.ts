import { z } from 'zod';
import { clientRequests, commands, serverNotifications } from './lsp-methods.js';

/**
 * Generates protocol/REFERENCE.md from the schemas (`npm run protocol:reference`); a test fails when the
 * checked-in file differs, so the reference cannot drift from what the server validates.
 */
const REQUEST_NOTES: Record<keyof typeof clientRequests, string> = {
  'codeloop/startTask': 'Start an agent session for a prompt (optionally tied to a document and range). Answers at once with the session id; progress follows as `$/progress` (to this client) and `codeloop/sessionUpdate` (to every client of the workspace). RequestFailed (-32803) when the model is not configured (no API key for a remote endpoint).',
  'codeloop/approvePlan': 'Approve (or replace) the plan of a session waiting in `awaitingPlanApproval`.',
  'codeloop/reject': 'Reject a proposal, optionally with feedback that restarts the repair loop.',
  'codeloop/cancel': 'Cancel a running session; running commands are killed.',
  'codeloop/applyProposal': 'Apply a proposal (all files or the listed ones): the server sends `workspace/applyEdit` to the requesting client.',
  'codeloop/listSessions': 'Sessions of the workspaces this client opened.',
  'codeloop/getSession': 'Everything about one session: plan, transcript, test runs, proposal diff, tokens, cost.',
  'codeloop/search': 'Search a workspace index: literal, regex, symbol or ranked text. Same result shapes as `codeloop search --json`.',
  'codeloop/indexStatus': 'Files, bytes, symbols and database size of a workspace index.',
  'codeloop/status': 'The serving process: pid, mode, memory, clients, workspaces (with index status and problems: watching stopped, files left out), sessions. `codeloop status` prints it.',
  'codeloop/stopDaemon': 'Stop the shared daemon cleanly (`codeloop daemon stop`). Refused in standalone mode.',
};

const NOTIFICATION_NOTES: Record<keyof typeof serverNotifications, string> = {
  'codeloop/sessionUpdate': 'A session changed state or produced an event; sent to every client attached to the session\'s workspace.',
  'codeloop/indexUpdate': 'A workspace index changed (a file saved, created or deleted, or a client\'s unsaved buffer); sent to every client attached to that workspace.',
};

const COMMAND_NOTES: Record<keyof typeof commands, string> = {
  'codeloop.startTask': 'What the task code actions run. A plain string argument is taken as the prompt (Helix: `:lsp-workspace-command codeloop.startTask`).',
  'codeloop.approvePlan': 'Same as `codeloop/approvePlan`. A plain string argument is the session id.',
  'codeloop.applyProposal': 'Same as `codeloop/applyProposal`. A plain string argument is the session id.',
  'codeloop.showProposal': 'Opens the proposal\'s diff with `window/showDocument`. A plain string argument is the session id.',
  'codeloop.rejectProposal': 'Same as `codeloop/reject`. A plain string argument is the session id.',
  'codeloop.cancelTask': 'Same as `codeloop/cancel`. A plain string argument is the session id.',
};

function schemaBlock(schema: z.ZodType, io: 'input' | 'output'): string {
  const json = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  delete json.$schema;
  return ['```json', JSON.stringify(json, null, 2), '```'].join('\n');
}

const HEADER = `# codeloop protocol reference

Generated from \`protocol/lsp-methods.ts\` by \`npm run protocol:reference\`; do not edit by hand.

codeloop is a language server: editors speak standard LSP to \`codeloop lsp\` (which bridges stdio to the per-user
daemon, starting it when needed) or to \`codeloop lsp --standalone\`. Standard methods used: \`initialize\`
(+ \`initializationOptions\`: the configuration object of \`protocol/config.ts\`), \`initialized\`, \`shutdown\`, \`exit\`,
\`textDocument/didOpen|didChange|didClose|didSave\` (incremental sync; open buffers overlay the index),
\`workspace/didChangeWorkspaceFolders\`, \`workspace/didChangeConfiguration\` (settings under \`codeloop\`),
\`workspace/symbol\` (answered from the index), \`textDocument/codeAction\`, \`workspace/executeCommand\`,
\`window/workDoneProgress/create\` + \`$/progress\` (indexing), \`window/showMessage\` (errors, and warnings such
as file watching stopped by the system's limit), \`window/logMessage\` (notes: files left out of the index and why).

Errors are JSON-RPC errors: InvalidParams (-32602) for params that do not match the schemas below (the message
names the field; the params codeloop reads of \`workspace/symbol\`, \`textDocument/codeAction\` and
\`workspace/executeCommand\` are checked too, by \`lspRequests\`), for paths or URIs outside the workspace and for invalid regexes; RequestFailed (-32803) for
requests that cannot be served (unknown session, missing agent); InternalError (-32603) for bugs.

## Flows

**Open a workspace and search it.**
1. client → \`initialize\` with \`workspaceFolders\`; server → capabilities.
2. client → \`initialized\`; server → \`window/workDoneProgress/create\`, then \`$/progress\` begin/report/end while
   the workspace is indexed (joining a workspace another editor already opened is instant).
3. client → \`workspace/symbol {query: "parse"}\` or \`codeloop/search {query: "parseInput", mode: "literal"}\`.

**Unsaved buffers, shared by every editor on the daemon.**
1. editor A → \`textDocument/didOpen\` / \`didChange\`; the text overlays the index (debounced ≈25 ms).
2. server → \`codeloop/indexUpdate {root, files, changedPaths: ["src/a.ts"]}\` to every client of the workspace.
3. editor B → \`codeloop/search\` finds what A typed; A → \`didClose\` restores the file on disk.

**Start a task → progress → proposal → apply.**
1. client → \`textDocument/codeAction\`; server → actions such as *codeloop: Fix this diagnostic*, *Run task in
   comment*, *Write tests for \`f\`*, *Explain \`f\`*, *Refactor selection*, each carrying a \`codeloop.startTask\` command.
2. client → \`workspace/executeCommand {command: "codeloop.startTask", arguments: [{prompt, kind, uri, range}]}\`
   → \`{sessionId}\`.
3. server → \`$/progress\` and \`codeloop/sessionUpdate\` (plan, toolCall, toolResult, testRun, proposal, done). With
   \`agent.autoApprovePlan\` off, the session stops in \`awaitingPlanApproval\` and the code actions offer *Approve plan*.
4. client → code actions now include *Apply / Show / Reject proposal*; Apply → server → \`workspace/applyEdit\`
   (versioned \`documentChanges\`: each file's hunks rebased onto the buffer or disk text it has now, so later edits
   elsewhere in the file are kept; a file where a hunk's lines were also edited is left out and \`conflicts\` says
   \`"<path>: the proposal's change to line(s) … conflicts with your edit, now line(s) …"\`).
   Show → the diff is written under the state dir and opened with \`window/showDocument\`.
`;

export function renderReference(): string {
  const sections: string[] = [HEADER, '## Requests (client → server)\n'];
  for (const [method, [params, result]] of Object.entries(clientRequests)) {
    sections.push(`### \`${method}\`\n\n${REQUEST_NOTES[method as keyof typeof clientRequests]}\n\nParams:\n\n${schemaBlock(params, 'input')}\n\nResult:\n\n${schemaBlock(result, 'output')}\n`);
  }
  sections.push('## Notifications (server → client)\n');
  for (const [method, params] of Object.entries(serverNotifications)) {
    sections.push(`### \`${method}\`\n\n${NOTIFICATION_NOTES[method as keyof typeof serverNotifications]}\n\n${schemaBlock(params, 'output')}\n`);
  }
  sections.push('## Commands (`workspace/executeCommand`, code actions)\n\n`arguments[0]` is the object below, or a plain string as noted.\n');
  for (const [command, params] of Object.entries(commands)) {
    sections.push(`### \`${command}\`\n\n${COMMAND_NOTES[command as keyof typeof commands]}\n\n${schemaBlock(params, 'input')}\n`);
  }
  return `${sections.join('\n').trimEnd()}\n`;
}
