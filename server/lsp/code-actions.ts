import type { CodeAction, Diagnostic, Range } from 'vscode-languageserver';
import type { LspDiagnostic, SessionSummary, TaskKind } from '../../protocol/lsp-methods.js';
import type { SymbolInfo } from '../../protocol/search.js';
import { verdictTag } from '../agent/session-verdict.js';

export interface CodeActionRequest {
  uri: string;
  /** The document's current text. */
  text: string;
  range: Range;
  diagnostics: LspDiagnostic[];
  /** `context.only` from the client: kinds it wants (prefix match). */
  only?: string[];
  /** Definitions in this document (from the index). */
  symbols: SymbolInfo[];
  /**
   * Sessions of this workspace the user can act on here: those that have not ended (running, or waiting for the
   * user's plan or proposal decision), and applied ones whose proposal changed this document (to revert).
   */
  sessions: SessionSummary[];
}

export const CODE_ACTION_KINDS = {
  fix: 'quickfix',
  refactor: 'refactor.rewrite',
  task: 'refactor.codeloop',
  proposal: 'source.codeloop.proposal',
} as const;

/** Comment openers a directive may follow: `//`, `#`, `--`, `;`, `/*`, `*`, `<!--`, `%`, `REM` (the last, any case). */
const COMMENT_OPENERS = ['//', '#', '--', ';', '/*', '*', '<!--', '%', 'rem'];
const DIRECTIVE_TAG = /codeloop:/gi;

const CALLABLE_OR_TYPE = new Set(['function', 'method', 'constructor', 'class', 'struct', 'interface', 'trait', 'module', 'namespace', 'enum', 'type']);

/**
 * The task of a `// codeloop: do X` comment (`# codeloop: …`, `-- codeloop:`, `; codeloop:`, `/* codeloop: … *\/`,
 * `<!-- codeloop: … -->`), or null. Found with `indexOf`-like scans, not a backtracking pattern: the line is the
 * user's file, and a line of 8,000 `#` or spaces took a regular expression seconds.
 */
export function commentDirective(line: string): string | null {
  for (const tag of line.matchAll(DIRECTIVE_TAG)) {
    let end = tag.index;
    while (end > 0 && /\s/.test(line[end - 1])) end--;
    const opener = line.slice(Math.max(0, end - 4), end).toLowerCase();
    if (!COMMENT_OPENERS.some((candidate) => opener.endsWith(candidate))) continue;
    let task = line.slice(tag.index + tag[0].length).trim();
    for (const closer of ['*/', '-->']) if (task.endsWith(closer)) task = task.slice(0, -closer.length).trimEnd();
    return task || null;
  }
  return null;
}

/** The innermost definition whose range holds the position. */
function enclosingSymbol(symbols: SymbolInfo[], line: number): SymbolInfo | null {
  let best: SymbolInfo | null = null;
  for (const symbol of symbols) {
    if (!CALLABLE_OR_TYPE.has(symbol.kind) || symbol.startLine > line || symbol.endLine < line) continue;
    if (!best || symbol.endLine - symbol.startLine <= best.endLine - best.startLine) best = symbol;
  }
  return best;
}

function truncate(text: string, length: number): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > length ? `${oneLine.slice(0, length - 1)}…` : oneLine;
}

/**
 * Whether the range is a selection worth refactoring: it spans lines, or all of one line's text. A part of one
 * line is what clients send without a selection — Helix's one-character cursor, Eglot's sexp at point — and
 * cannot be told from a deliberate in-line selection, so it is never taken for one.
 */
function isSelection(range: Range, lines: string[]): boolean {
  if (range.end.line > range.start.line) return true;
  const line = lines[range.start.line] ?? '';
  const text = line.trim();
  return text.length > 0 && range.start.character <= line.indexOf(text) && range.end.character >= line.indexOf(text) + text.length;
}

const RUNNING = new Set<SessionSummary['state']>(['planning', 'working', 'testing']);

function sessionAction(title: string, command: string, args: Record<string, unknown>): CodeAction {
  return { title, kind: CODE_ACTION_KINDS.proposal, command: { title, command, arguments: [args] } };
}

function task(title: string, kind: string, taskKind: TaskKind, prompt: string, uri: string, range: Range, diagnostics?: Diagnostic[]): CodeAction {
  return {
    title,
    kind,
    diagnostics,
    command: { title, command: 'codeloop.startTask', arguments: [{ prompt, kind: taskKind, uri, range }] },
  };
}

/** The code actions codeloop offers at a place in a document; a pure function of what the editor sent. */
export function codeActionsFor(request: CodeActionRequest): CodeAction[] {
  const { uri, range } = request;
  const actions: CodeAction[] = [];
  const lines = request.text.split('\n');

  for (const diagnostic of request.diagnostics) {
    const source = diagnostic.source ? `${diagnostic.source}: ` : '';
    const message = typeof diagnostic.message === 'string' ? diagnostic.message : diagnostic.message.value;
    actions.push(task(`codeloop: Fix this diagnostic (${truncate(message, 60)})`, CODE_ACTION_KINDS.fix, 'fixDiagnostic',
      `Fix this diagnostic at line ${diagnostic.range.start.line + 1}: ${source}${message}`, uri, diagnostic.range, [diagnostic]));
  }

  const comment = directiveIn(lines, range);
  // A comment whose session still runs or waits is not a new task: its session's actions below are the ones to take.
  if (comment && !request.sessions.some((session) => session.prompt === comment.directive)) {
    actions.push(task(`codeloop: Run task in comment (${truncate(comment.directive, 50)})`, CODE_ACTION_KINDS.task, 'commentTask', comment.directive, uri, comment.range));
  }

  const symbol = enclosingSymbol(request.symbols, range.start.line);
  if (symbol) {
    const symbolRange = { start: { line: symbol.startLine, character: 0 }, end: { line: symbol.endLine, character: symbol.endCharacter } };
    const name = symbol.container ? `${symbol.container}.${symbol.name}` : symbol.name;
    actions.push(task(`codeloop: Write tests for \`${name}\``, CODE_ACTION_KINDS.task, 'writeTests',
      `Write tests for the ${symbol.kind} \`${name}\` in ${symbol.path}.`, uri, symbolRange));
    actions.push(task(`codeloop: Explain \`${name}\``, CODE_ACTION_KINDS.task, 'explain',
      `Explain what the ${symbol.kind} \`${name}\` in ${symbol.path} does and how it is used.`, uri, symbolRange));
  }

  if (isSelection(range, lines)) {
    actions.push(task('codeloop: Refactor selection', CODE_ACTION_KINDS.refactor, 'refactor',
      `Refactor the selected code (lines ${range.start.line + 1}-${range.end.line + 1}) for clarity, keeping its behaviour.`, uri, range));
  }

  for (const session of request.sessions) actions.push(...sessionActions(session, comment?.directive ?? null));

  const only = request.only;
  if (!only?.length) return actions;
  return actions.filter((action) => only.some((kind) => action.kind === kind || action.kind?.startsWith(`${kind}.`)));
}

/** The first `codeloop:` comment on the range's lines (at most 50 of them), with its line's range. */
function directiveIn(lines: string[], range: Range): { directive: string; range: Range } | null {
  for (let line = range.start.line; line <= Math.min(range.end.line, range.start.line + 50); line++) {
    const directive = lines[line] === undefined ? null : commentDirective(lines[line]);
    if (directive) return { directive, range: { start: { line, character: 0 }, end: { line, character: lines[line].length } } };
  }
  return null;
}

/**
 * What the user can do with a session in its state, and only that: cancel, pause or steer it while it runs; resume,
 * rewind or cancel it when interrupted; approve, read or reject its plan; apply, read, reject or rewind its
 * proposal; revert it once applied. A `codeloop:` comment under the cursor that is not the session's own prompt
 * is offered as feedback for a rejection, or as a message steering a running session (stock clients cannot
 * prompt for text).
 */
function sessionActions(session: SessionSummary, comment: string | null): CodeAction[] {
  const what = truncate(session.prompt, 40);
  const id = { sessionId: session.sessionId };
  const feedback = comment !== null && comment !== session.prompt ? comment : null;
  if (RUNNING.has(session.state)) {
    return [
      sessionAction(`codeloop: Cancel "${what}" (${session.state})`, 'codeloop.cancelTask', id),
      sessionAction(`codeloop: Pause "${what}" (stops at its next step; resume it later)`, 'codeloop.pauseSession', id),
      // Helix's :lsp-workspace-command cannot pass a message: the comment is how it steers.
      ...(feedback ? [sessionAction(`codeloop: Steer "${what}" with (${truncate(feedback, 50)})`, 'codeloop.steerSession', { ...id, message: feedback })] : []),
    ];
  }
  if (session.state === 'interrupted') {
    return [
      sessionAction(`codeloop: Resume session "${what}"`, 'codeloop.resumeSession', id),
      rewindAction(what, id),
      sessionAction(`codeloop: Cancel "${what}" (interrupted)`, 'codeloop.cancelTask', id),
    ];
  }
  if (session.state === 'applied' && session.proposal) {
    const { files, added, removed } = session.proposal;
    return [sessionAction(`codeloop: Revert applied proposal "${what}" (+${added} −${removed} in ${files} files)`, 'codeloop.revertProposal', id)];
  }
  if (session.state === 'awaitingPlanApproval') {
    return [
      sessionAction(`codeloop: Approve plan "${what}"`, 'codeloop.approvePlan', id),
      sessionAction(`codeloop: Show plan "${what}"`, 'codeloop.showPlan', id),
      feedback
        ? sessionAction(`codeloop: Reject plan "${what}" with feedback (${truncate(feedback, 50)})`, 'codeloop.rejectPlan', { ...id, feedback })
        : sessionAction(`codeloop: Reject plan "${what}" (ends the session; a codeloop: comment under the cursor is sent as feedback instead)`, 'codeloop.rejectPlan', id),
    ];
  }
  if (session.state !== 'awaitingApproval' || !session.proposal) return [];
  const { files, added, removed } = session.proposal;
  const verdict = session.verdict ? `; ${verdictTag(session.verdict)}` : '';
  return [
    sessionAction(`codeloop: Apply proposal "${what}" (+${added} −${removed} in ${files} files${verdict})`, 'codeloop.applyProposal', id),
    sessionAction(`codeloop: Show proposal "${what}"${session.verdict ? ` (${session.verdict.text})` : ''}`, 'codeloop.showProposal', id),
    feedback
      ? sessionAction(`codeloop: Reject proposal "${what}" with feedback (${truncate(feedback, 50)})`, 'codeloop.rejectProposal', { ...id, feedback })
      : sessionAction(`codeloop: Reject proposal "${what}" (discards it; a codeloop: comment under the cursor is sent as feedback instead)`, 'codeloop.rejectProposal', id),
    rewindAction(what, id),
  ];
}

/** One step back (codeloop.rewindSession without a turn): the newest turn that changed files is undone. */
function rewindAction(what: string, id: { sessionId: string }): CodeAction {
  return sessionAction(`codeloop: Rewind "${what}" one step (undoes its newest turn that changed files; then resume it)`, 'codeloop.rewindSession', id);
}
