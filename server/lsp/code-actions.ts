import type { CodeAction, Diagnostic, Range } from 'vscode-languageserver';
import type { LspDiagnostic, SessionSummary, TaskKind } from '../../protocol/lsp-methods.js';
import type { SymbolInfo } from '../../protocol/search.js';

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
  /** Sessions of this workspace waiting for the user: a plan to approve, or a proposal to apply or reject. */
  proposals: SessionSummary[];
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

/** A cursor, not a selection: empty, or one character (Helix's cursor is always a one-character selection). */
function isCursor(range: Range): boolean {
  return range.start.line === range.end.line && range.end.character - range.start.character <= 1;
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

  for (let line = range.start.line; line <= Math.min(range.end.line, range.start.line + 50); line++) {
    const directive = lines[line] === undefined ? null : commentDirective(lines[line]);
    if (!directive) continue;
    const lineRange = { start: { line, character: 0 }, end: { line, character: lines[line].length } };
    actions.push(task(`codeloop: Run task in comment (${truncate(directive, 50)})`, CODE_ACTION_KINDS.task, 'commentTask', directive, uri, lineRange));
    break;
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

  if (!isCursor(range)) {
    actions.push(task('codeloop: Refactor selection', CODE_ACTION_KINDS.refactor, 'refactor',
      `Refactor the selected code (lines ${range.start.line + 1}-${range.end.line + 1}) for clarity, keeping its behaviour.`, uri, range));
  }

  for (const proposal of request.proposals) {
    if (proposal.state === 'awaitingPlanApproval') {
      const title = `codeloop: Approve plan "${truncate(proposal.prompt, 40)}"`;
      actions.push({ title, kind: CODE_ACTION_KINDS.proposal, command: { title, command: 'codeloop.approvePlan', arguments: [{ sessionId: proposal.sessionId }] } });
      continue;
    }
    if (!proposal.proposal) continue;
    const { files, added, removed } = proposal.proposal;
    const what = truncate(proposal.prompt, 40);
    const args = [{ sessionId: proposal.sessionId }];
    const proposalAction = (title: string, command: string): CodeAction =>
      ({ title, kind: CODE_ACTION_KINDS.proposal, command: { title, command, arguments: args } });
    actions.push(proposalAction(`codeloop: Apply proposal "${what}" (+${added} −${removed} in ${files} files)`, 'codeloop.applyProposal'));
    actions.push(proposalAction(`codeloop: Show proposal "${what}"`, 'codeloop.showProposal'));
    actions.push(proposalAction(`codeloop: Reject proposal "${what}"`, 'codeloop.rejectProposal'));
  }

  const only = request.only;
  if (!only?.length) return actions;
  return actions.filter((action) => only.some((kind) => action.kind === kind || action.kind?.startsWith(`${kind}.`)));
}
