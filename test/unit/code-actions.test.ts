import { describe, expect, it } from 'vitest';
import { serverCapabilities } from '../../server/lsp/capabilities.js';
import type { SessionSummary, Verdict } from '../../protocol/lsp-methods.js';
import { codeActionsFor, commentDirective } from '../../server/lsp/code-actions.js';

const base = { uri: 'file:///w/a.py', text: 'x = 1\n', range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, diagnostics: [], symbols: [], sessions: [] };

const PASSED: Verdict = { tests: 'passed', command: 'npm test', lastFailure: null, caveat: null, text: 'tests passed (npm test)' };
const FAILED: Verdict = { tests: 'failed', command: 'npm test', lastFailure: 'x', caveat: 'budget spent', text: 'tests FAILED (npm test); budget spent' };

function session(state: SessionSummary['state'], prompt: string, verdict: Verdict | null = null): SessionSummary {
  return {
    sessionId: 's1', root: '/w', state, prompt, kind: 'prompt', createdAt: '', updatedAt: '',
    proposal: state === 'awaitingApproval' || state === 'applied' ? { files: 2, added: 10, removed: 3 } : null, verdict,
  };
}

describe('comment directives', () => {
  it.each([
    ['// codeloop: handle empty input', 'handle empty input'],
    ['  # codeloop: add retries', 'add retries'],
    ['-- codeloop: index this column', 'index this column'],
    [';; codeloop: make it interactive', 'make it interactive'],
    ['/* codeloop: free the buffer */', 'free the buffer'],
    [' * codeloop: document params', 'document params'],
    ['<!-- codeloop: add alt text -->', 'add alt text'],
    ['x = 1  # CODELOOP: trailing task', 'trailing task'],
  ])('%j', (line, task) => {
    expect(commentDirective(line)).toBe(task);
  });

  it('ignores lines without a directive', () => {
    expect(commentDirective('const codeloop = 1;')).toBeNull();
    expect(commentDirective('// codeloop:')).toBeNull();
  });
});

describe('code actions', () => {
  it('offers apply/show/reject for sessions with a ready proposal, with the verdict in the titles', () => {
    const actions = codeActionsFor({ ...base, sessions: [session('awaitingApproval', 'add retries to the client', FAILED)] });
    expect(actions.map((action) => [action.title, action.command?.command])).toEqual([
      ['codeloop: Apply proposal "add retries to the client" (+10 −3 in 2 files; tests FAILED)', 'codeloop.applyProposal'],
      ['codeloop: Show proposal "add retries to the client" (tests FAILED (npm test); budget spent)', 'codeloop.showProposal'],
      ['codeloop: Reject proposal "add retries to the client" (discards it; a codeloop: comment under the cursor is sent as feedback instead)', 'codeloop.rejectProposal'],
      ['codeloop: Rewind "add retries to the client" one step (undoes its newest turn that changed files; then resume it)', 'codeloop.rewindSession'],
    ]);
    expect(actions[0].command?.arguments).toEqual([{ sessionId: 's1' }]);
  });

  it('offers only what fits each state: cancel or pause while running, resume when interrupted; approve, show, reject a plan; no new task for a comment whose session waits', () => {
    const comment = { ...base, text: '# codeloop: add retries\n' };
    expect(codeActionsFor({ ...comment, sessions: [session('working', 'add retries')] }).map((a) => a.title))
      .toEqual(['codeloop: Cancel "add retries" (working)', 'codeloop: Pause "add retries" (stops at its next step; resume it later)']);
    expect(codeActionsFor({ ...comment, sessions: [session('interrupted', 'add retries')] }).map((a) => a.command?.command))
      .toEqual(['codeloop.resumeSession', 'codeloop.rewindSession', 'codeloop.cancelTask']);
    expect(codeActionsFor({ ...comment, sessions: [session('awaitingPlanApproval', 'add retries')] }).map((a) => a.command?.command))
      .toEqual(['codeloop.approvePlan', 'codeloop.showPlan', 'codeloop.rejectPlan']);
    const other = { ...base, text: '# codeloop: only on timeouts\n' };
    const plan = codeActionsFor({ ...other, sessions: [session('awaitingPlanApproval', 'add retries')] });
    expect(plan.map((a) => a.title)).toEqual([
      'codeloop: Run task in comment (only on timeouts)',
      'codeloop: Approve plan "add retries"', 'codeloop: Show plan "add retries"',
      'codeloop: Reject plan "add retries" with feedback (only on timeouts)',
    ]);
    expect(plan[3].command?.arguments).toEqual([{ sessionId: 's1', feedback: 'only on timeouts' }]);
    const proposal = codeActionsFor({ ...other, sessions: [session('awaitingApproval', 'add retries', PASSED)] });
    expect(proposal.at(-2)?.title).toBe('codeloop: Reject proposal "add retries" with feedback (only on timeouts)');
    expect(proposal[1].title).toBe('codeloop: Apply proposal "add retries" (+10 −3 in 2 files; tests passed)');
    const running = codeActionsFor({ ...other, sessions: [session('testing', 'add retries')] });
    expect(running.map((a) => a.title)).toEqual([
      'codeloop: Run task in comment (only on timeouts)',
      'codeloop: Cancel "add retries" (testing)', 'codeloop: Pause "add retries" (stops at its next step; resume it later)',
      'codeloop: Steer "add retries" with (only on timeouts)',
    ]);
    expect(running[3].command).toMatchObject({ command: 'codeloop.steerSession', arguments: [{ sessionId: 's1', message: 'only on timeouts' }] });
  });

  it('offers to revert an applied proposal it is given (one that changed this document), and nothing for other ended sessions', () => {
    const applied = codeActionsFor({ ...base, sessions: [session('applied', 'add retries')] });
    expect(applied.map((a) => [a.title, a.command?.command, a.command?.arguments])).toEqual([
      ['codeloop: Revert applied proposal "add retries" (+10 −3 in 2 files)', 'codeloop.revertProposal', [{ sessionId: 's1' }]],
    ]);
    for (const state of ['reverted', 'rejected', 'cancelled', 'failed', 'finished'] as const) expect(codeActionsFor({ ...base, sessions: [session(state, 'x')] })).toEqual([]);
  });

  it('offers nothing on a plain line with no selection (Helix\'s one-character cursor, Eglot\'s sexp at point)', () => {
    expect(codeActionsFor(base)).toEqual([]);
    expect(codeActionsFor({ ...base, range: { start: { line: 0, character: 2 }, end: { line: 0, character: 3 } } })).toEqual([]);
    const sexp = { ...base, text: '(defun add (a b) (- a b))\n', range: { start: { line: 0, character: 7 }, end: { line: 0, character: 10 } } };
    expect(codeActionsFor(sexp)).toEqual([]);
    const wholeLine = { ...sexp, range: { start: { line: 0, character: 0 }, end: { line: 0, character: 25 } } };
    expect(codeActionsFor(wholeLine).map((a) => a.title)).toEqual(['codeloop: Refactor selection']);
    const lines = { ...base, text: 'a = 1\nb = 2\n', range: { start: { line: 0, character: 3 }, end: { line: 1, character: 0 } } };
    expect(codeActionsFor(lines).map((a) => a.title)).toEqual(['codeloop: Refactor selection']);
  });

  it('filters by the kinds the client asked for', () => {
    const selection = { start: { line: 0, character: 0 }, end: { line: 0, character: 5 } };
    expect(codeActionsFor({ ...base, range: selection, only: ['refactor'] }).map((a) => a.kind)).toEqual(['refactor.rewrite']);
    expect(codeActionsFor({ ...base, range: selection, only: ['quickfix'] })).toEqual([]);
  });
});

describe('capabilities', () => {
  it('announce exactly what is implemented', () => {
    expect(serverCapabilities()).toMatchInlineSnapshot(`
      {
        "codeActionProvider": {
          "codeActionKinds": [
            "quickfix",
            "refactor.rewrite",
            "refactor.codeloop",
            "source.codeloop.proposal",
          ],
          "resolveProvider": false,
        },
        "executeCommandProvider": {
          "commands": [
            "codeloop.startTask",
            "codeloop.approvePlan",
            "codeloop.showPlan",
            "codeloop.rejectPlan",
            "codeloop.applyProposal",
            "codeloop.showProposal",
            "codeloop.rejectProposal",
            "codeloop.cancelTask",
            "codeloop.resumeSession",
            "codeloop.pauseSession",
            "codeloop.steerSession",
            "codeloop.rewindSession",
            "codeloop.revertProposal",
          ],
        },
        "textDocumentSync": {
          "change": 2,
          "openClose": true,
          "save": {
            "includeText": false,
          },
        },
        "workspace": {
          "workspaceFolders": {
            "changeNotifications": true,
            "supported": true,
          },
        },
        "workspaceSymbolProvider": true,
      }
    `);
  });
});
