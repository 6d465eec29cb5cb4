import { describe, expect, it } from 'vitest';
import { serverCapabilities } from '../../server/lsp/capabilities.js';
import { codeActionsFor, commentDirective } from '../../server/lsp/code-actions.js';

const base = { uri: 'file:///w/a.py', text: 'x = 1\n', range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, diagnostics: [], symbols: [], proposals: [] };

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
  it('offers apply/show/reject for sessions with a ready proposal', () => {
    const actions = codeActionsFor({
      ...base,
      proposals: [{
        sessionId: 's1', root: '/w', state: 'awaitingApproval', prompt: 'add retries to the client', kind: 'prompt',
        createdAt: '', updatedAt: '', proposal: { files: 2, added: 10, removed: 3 },
      }],
    });
    expect(actions.map((action) => [action.title, action.command?.command])).toEqual([
      ['codeloop: Apply proposal "add retries to the client" (+10 −3 in 2 files)', 'codeloop.applyProposal'],
      ['codeloop: Show proposal "add retries to the client"', 'codeloop.showProposal'],
      ['codeloop: Reject proposal "add retries to the client"', 'codeloop.rejectProposal'],
    ]);
    expect(actions[0].command?.arguments).toEqual([{ sessionId: 's1' }]);
  });

  it('offers nothing on a plain line with no selection (a one-character selection is a Helix cursor)', () => {
    expect(codeActionsFor(base)).toEqual([]);
    expect(codeActionsFor({ ...base, range: { start: { line: 0, character: 2 }, end: { line: 0, character: 3 } } })).toEqual([]);
  });

  it('filters by the kinds the client asked for', () => {
    const selection = { start: { line: 0, character: 0 }, end: { line: 0, character: 3 } };
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
            "codeloop.applyProposal",
            "codeloop.showProposal",
            "codeloop.rejectProposal",
            "codeloop.cancelTask",
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
