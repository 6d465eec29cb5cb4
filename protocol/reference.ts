import { z } from 'zod';
import { describeLimit, LIMIT_NOTES, LIMITS, type LimitName } from './limits.js';
import { clientRequests, commands, serverNotifications, type CommandAlias } from './lsp-methods.js';

/**
 * Generates protocol/REFERENCE.md from the schemas (`npm run protocol:reference`); a test fails when the
 * checked-in file differs, so the reference cannot drift from what the server validates.
 */
const REQUEST_NOTES: Record<keyof typeof clientRequests, string> = {
  'codeloop/startTask': 'Start an agent session for a prompt (optionally tied to a document and range). Answers at once with the session id; progress follows as `$/progress` (to this client) and `codeloop/sessionUpdate` (to every client of the workspace). RequestFailed (-32803) when the model is not configured (no API key for a remote endpoint).',
  'codeloop/approvePlan': 'Approve (or replace) the plan of a session waiting in `awaitingPlanApproval`.',
  'codeloop/reject': 'Reject the plan (`awaitingPlanApproval`) or the proposal (`awaitingApproval`) of a session. With feedback the session plans again, or works on a revision; without it the session ends as `rejected`.',
  'codeloop/cancel': 'Cancel a running session; running commands are killed.',
  'codeloop/resume': 'Go on with an `interrupted` session (the daemon stopped under it, or it was paused) from its last checkpoint: its shadow is rebuilt from the stored changes and the model is told it was interrupted. InvalidParams when the session is not interrupted.',
  'codeloop/pause': 'Stop a session at work at its next step; it becomes `interrupted` (checkpointed) until `codeloop/resume`.',
  'codeloop/steer': 'Send a message to a session at work: the model hears it at its next turn (it is in the transcript at once).',
  'codeloop/applyProposal': 'Apply a proposal (all files or the listed ones): the server sends `workspace/applyEdit` to the requesting client. A file another editor on the daemon holds in an unsaved buffer that differs from the disk is left out and listed in `conflicts`, naming that editor; the proposal stays waiting until every file is applied. `codeloop/revert` checks the same way.',
  'codeloop/rewind': 'Take a session that is `interrupted` or has a proposal waiting back to where it stood after model turn `turn` (one of the `checkpoints` of `codeloop/getSession`; without it, one step back over the newest turn that changed files, a waiting proposal\'s finishing turn included). Later checkpoints and the proposal are dropped; the session waits as `interrupted` until `codeloop/resume`, which rebuilds its shadow from the changes up to that turn and goes on with the conversation as it was then. InvalidParams when the session is at work (pause it first), has ended, or has no such checkpoint.',
  'codeloop/revert': 'Undo an `applied` proposal: its inverse is sent to the requesting client as `workspace/applyEdit`, rebased and versioned like Apply; a file changed since the apply where the revert would change it is a conflict (file and lines) and left alone. The session becomes `reverted` once no file is left. InvalidParams when the session is not `applied`.',
  'codeloop/showPlan': 'Write the plan of a session waiting in `awaitingPlanApproval` as a Markdown document under the state folder and ask the editor to open it (`window/showDocument`); answers its URI.',
  'codeloop/showProposal': 'Write the proposal\'s diff, headed by its test verdict (`#` lines), under the state folder and ask the editor to open it (`window/showDocument`); answers its URI.',
  'codeloop/listSessions': 'Sessions of the workspaces this client opened.',
  'codeloop/getSession': 'Everything about one session: plan, transcript, test runs, proposal diff, tokens, cost, and the turns it can be rewound to (`checkpoints`, each with the files that turn changed).',
  'codeloop/search': 'Search a workspace index: literal, regex, symbol or ranked text. Same result shapes as `codeloop search --json`.',
  'codeloop/indexStatus': 'Files, bytes, symbols and database size of a workspace index.',
  'codeloop/status': 'The serving process: pid, mode, memory, event-loop delay (p50/p99/max since start, and stalls over 250 ms, each logged with the requests in flight), clients, workspaces (with index status and problems: watching stopped, files left out), sessions. `codeloop status` prints it.',
  'codeloop/stopDaemon': 'Stop the shared daemon cleanly (`codeloop daemon stop`). Refused in standalone mode.',
  'codeloop/hello': 'What the CLI and `codeloop lsp` ask a daemon first: the asking build in, the daemon\'s build out, with what it is doing. A newer client stops an older daemon that has no session at work and is not indexing (sessions are stored, so none is lost) and starts its own; an older client, or a newer one meeting a busy daemon, tells the user what to do (see README, "One daemon, one build").',
  'codeloop/cliSearch': 'What `codeloop search` asks a running daemon: a search of the workspace at `root` (any folder; opened, indexed and then kept fresh by the daemon\'s watcher if no client has it open yet). Needs no `initialize`. Same result as `codeloop/search`; invalidRegex and the like are InvalidParams.',
  'codeloop/cliSearchOutput': 'What the native `codeloop search` client (clients/cli/) asks a running daemon: `codeloop/cliSearch`, answered with the bytes `codeloop search` prints (rendered by the daemon, base64) and its exit code, so the client only frames the request and copies bytes. Errors as `codeloop/cliSearch`.',
  'codeloop/cliRewind': 'What `codeloop sessions rewind` asks a running daemon (which holds the workspaces of the proposals it made): `codeloop/rewind` for any session of its store, without `initialize`; answers the session\'s summary with `turn` (where it went) and `undone` (the files of the dropped turns).',
  'codeloop/cliIndex': 'What `codeloop index` asks a running daemon: open the workspace at `root` if needed and re-validate its index against the tree; answers the summary, the index status and its problems.',
  'codeloop/sessionTranscript': 'A session\'s transcript as readable text, the same `codeloop sessions show ID` prints: task, state, tokens and cost, the plan, each tool call and its result, test runs, the proposal (long outputs clipped; `codeloop/getSession` has everything). The Neovim and Emacs clients show it in a buffer.',
  'codeloop/cliResume': 'What `codeloop sessions resume ID` asks a running daemon: resume an `interrupted` session of any workspace (opened for the command line if no client has it) in the daemon, as `codeloop/resume` does. Needs no `initialize`. Answers the session\'s summary; InvalidParams, worded for the user, when its state refuses it.',
  'codeloop/cliPause': 'What `codeloop sessions pause ID` asks a running daemon: `codeloop/pause` for a session of any workspace. Needs no `initialize`.',
  'codeloop/cliSteer': 'What `codeloop sessions steer ID MESSAGE` asks a running daemon: `codeloop/steer` for a session of any workspace. Needs no `initialize`.',
};

const NOTIFICATION_NOTES: Record<keyof typeof serverNotifications, string> = {
  'codeloop/sessionUpdate': 'A session changed state or produced an event; sent to every client attached to the session\'s workspace.',
  'codeloop/indexUpdate': 'A workspace index changed (a file saved, created or deleted, or a client\'s unsaved buffer); sent to every client attached to that workspace.',
};

/** What a command adds to the request it stands for (see CommandAlias); the alias itself is generated. */
const COMMAND_NOTES: Record<keyof typeof commands, string> = {
  'codeloop.startTask': 'What the task code actions run (Helix: `:lsp-workspace-command codeloop.startTask`).',
  'codeloop.approvePlan': 'The *Approve plan* code action.',
  'codeloop.showPlan': 'The *Show plan* code action.',
  'codeloop.rejectPlan': 'The *Reject plan* code action: with feedback the session plans again, without it the session ends.',
  'codeloop.applyProposal': 'The *Apply proposal* code action.',
  'codeloop.showProposal': 'The *Show proposal* code action.',
  'codeloop.rejectProposal': 'The *Reject proposal* code action.',
  'codeloop.cancelTask': 'The *Cancel* code action.',
  'codeloop.resumeSession': 'The *Resume session* code action.',
  'codeloop.pauseSession': 'The *Pause* code action.',
  'codeloop.steerSession': 'Arguments `[{"sessionId", "message"}]`.',
  'codeloop.rewindSession': 'Arguments `[{"sessionId", "turn"}]`; with none (Helix: `:lsp-workspace-command codeloop.rewindSession`) it steps the newest waiting session back one turn that changed files.',
  'codeloop.revertProposal': 'The *Revert applied proposal* code action, offered on the files the proposal changed.',
};

/** The generated part of a command's entry: the request it stands for and how missing arguments are found. */
function aliasNote(alias: CommandAlias): string {
  const missing = 'sessionStates' in alias.missing
    ? `Without a sessionId it acts on the newest session of the client's workspaces that is ${alias.missing.sessionStates.map((state) => `\`${state}\``).join(' or ')}.`
    : 'Without a prompt (no arguments: Helix\'s command picker) it runs the newest `codeloop:` comment of the buffers this client edited that no session runs yet.';
  return `Alias of \`${alias.request}\`. A plain string argument is the ${alias.stringArgument}. ${missing}`;
}

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
  sections.push([
    '## Limits\n',
    'Every input is bounded where it enters (`protocol/limits.ts`); a request over a limit is answered InvalidParams',
    '(-32602) with a message naming it, e.g. `codeloop/startTask: invalid params at prompt: too long: the limit is',
    '1,000,000 characters (limits.promptCharacters)`.\n',
    '| limit | value | covers |',
    '|---|---|---|',
    ...(Object.keys(LIMITS) as LimitName[]).map((name) => `| \`${name}\` | ${describeLimit(name).replace(/ \(.*/, '')} | ${LIMIT_NOTES[name]} |`),
    '',
  ].join('\n'));
  sections.push('## Notifications (server → client)\n');
  for (const [method, params] of Object.entries(serverNotifications)) {
    sections.push(`### \`${method}\`\n\n${NOTIFICATION_NOTES[method as keyof typeof serverNotifications]}\n\n${schemaBlock(params, 'output')}\n`);
  }
  sections.push('## Commands (`workspace/executeCommand`, code actions)\n\n`arguments[0]` is the object below, or a plain string as noted.\n');
  for (const [command, alias] of Object.entries(commands) as [keyof typeof commands, CommandAlias][]) {
    sections.push(`### \`${command}\`\n\n${aliasNote(alias)} ${COMMAND_NOTES[command]}\n\nArguments:\n\n${schemaBlock(alias.arguments, 'input')}\n`);
  }
  return `${sections.join('\n').trimEnd()}\n`;
}
