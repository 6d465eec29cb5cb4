import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { SessionEvent, SessionRecord } from '../../server/agent/session-store.js';
import { proposalVerdict, verdictLines } from '../../server/agent/session-verdict.js';
import { loadConfig } from '../../server/config/load-config.js';
import { planProposalApply } from '../../server/edits/apply-proposal.js';
import { proposalWorkspaceEdit } from '../../server/lsp/proposal-edits.js';
import { detectTestCommand } from '../../server/sandbox/test-command.js';
import { makeStateHome, makeTree, removeTree } from '../helpers/fixture-tree.js';

const roots: string[] = [];
afterEach(() => removeTree(...roots.splice(0)));

describe('proposal edits fit the client', () => {
  const current: Record<string, string | null> = { 'a.js': 'x\n', 'new.js': null, 'old.js': 'o\n' };
  const { files } = planProposalApply([
    { path: 'a.js', before: 'x\n', after: 'y\n' },
    { path: 'new.js', before: null, after: 'n\n' },
    { path: 'old.js', before: 'o\n', after: null },
  ], (relative) => current[relative]);
  const uriOf = (relative: string) => `file:///w/${relative}`;
  const versionOf = (uri: string) => (uri.endsWith('a.js') ? 7 : null);

  it('uses create/delete only for clients that list them', () => {
    const full = proposalWorkspaceEdit(files, uriOf, versionOf, { documentChanges: true, resourceOperations: ['create', 'delete'] });
    expect(full.deleteAfterwards).toEqual([]);
    expect(full.edit.documentChanges!.map((change) => ('kind' in change ? change.kind : `edit ${change.textDocument.version}`))).toEqual(['edit 7', 'create', 'edit null', 'delete']);
  });

  it('Eglot (documentChanges only): a new file is a versionless edit, a deleted one is left to the daemon', () => {
    const eglot = proposalWorkspaceEdit(files, uriOf, versionOf, { documentChanges: true });
    expect(eglot.deleteAfterwards).toEqual(['old.js']);
    expect(eglot.edit.documentChanges).toEqual([
      { textDocument: { uri: 'file:///w/a.js', version: 7 }, edits: [{ range: { start: { line: 0, character: 0 }, end: { line: 1, character: 0 } }, newText: 'y\n' }] },
      { textDocument: { uri: 'file:///w/new.js', version: null }, edits: [{ range: { start: { line: 0, character: 0 }, end: { line: 1, character: 0 } }, newText: 'n\n' }] },
    ]);
  });

  it('Neovim (resource operations, no documentChanges flag) still gets versioned documentChanges', () => {
    const neovim = proposalWorkspaceEdit(files, uriOf, versionOf, { resourceOperations: ['rename', 'create', 'delete'] });
    expect(neovim.edit.documentChanges).toHaveLength(4);
  });

  it('a client that advertises nothing gets the plain changes map', () => {
    const plain = proposalWorkspaceEdit(files, uriOf, versionOf, undefined);
    expect(plain.edit).toEqual({ changes: {
      'file:///w/a.js': [{ range: { start: { line: 0, character: 0 }, end: { line: 1, character: 0 } }, newText: 'y\n' }],
      'file:///w/new.js': [{ range: { start: { line: 0, character: 0 }, end: { line: 1, character: 0 } }, newText: 'n\n' }],
    } });
    expect(plain.deleteAfterwards).toEqual(['old.js']);
  });
});

describe('configuration layers', () => {
  it('ignores unknown keys with a warning naming their source, and blames a wrong value on its own layer', () => {
    const state = makeStateHome();
    const root = makeTree({ '.codeloop.json': JSON.stringify({ agent: { maxRepair: 1 } }) });
    roots.push(state, root);
    const env = { XDG_CONFIG_HOME: path.join(state, 'config') };
    fs.mkdirSync(path.join(state, 'config', 'codeloop'), { recursive: true });
    fs.writeFileSync(path.join(state, 'config', 'codeloop', 'config.json'), JSON.stringify({ modle: {} }));
    const warnings: string[] = [];
    const config = loadConfig(root, { values: { agent: { maxTurns: 5 }, index: { exclde: [] } }, source: 'initializationOptions from nvim' }, env, (w) => warnings.push(w));
    expect(config.agent.maxTurns).toBe(5);
    expect(warnings).toEqual([
      `${path.join(state, 'config', 'codeloop', 'config.json')}: unknown setting modle (ignored)`,
      `${path.join(root, '.codeloop.json')}: unknown setting agent.maxRepair (ignored)`,
      'initializationOptions from nvim: unknown setting index.exclde (ignored)',
    ]);
    expect(() => loadConfig(root, { values: { agent: { maxTurns: -1 } }, source: 'initializationOptions from nvim' }, env))
      .toThrow(/^invalid config \(initializationOptions from nvim\) at agent\.maxTurns: /);
  });
});

describe('test command detection', () => {
  it.each([
    [{ 'test_calc.py': '' }, 'python3 -m pytest -q'],
    [{ 'tests/test_calc.py': '' }, 'python3 -m pytest -q'],
    [{ 'calc_test.py': '' }, 'python3 -m pytest -q'],
    [{ 'setup.py': '' }, 'python3 -m pytest -q'],
    [{ 'calc.py': '' }, null],
    [{ 'Cargo.toml': '' }, 'cargo test'],
  ])('%j → %s', (files, command) => {
    const root = makeTree(files);
    roots.push(root);
    expect(detectTestCommand(root)).toBe(command);
  });
});

describe('the verdict', () => {
  const session = { proposal: [{ path: 'a', before: '', after: 'b' }], error: null } as unknown as SessionRecord;
  const testRun = (data: unknown): SessionEvent => ({ seq: 1, type: 'testRun', data, at: '' });

  it('takes the last run that is not the baseline, with the tail of a failure', () => {
    const output = `${Array.from({ length: 20 }, (_, i) => `line ${i}`).join('\n')}\n`;
    const verdict = proposalVerdict({ ...session, error: 'the tests still fail after 3 repairs' }, [
      testRun({ baseline: true, exitCode: 0 }), testRun({ command: 'make test', exitCode: 2, timedOut: false, output }),
    ])!;
    expect(verdict).toMatchObject({ tests: 'failed', command: 'make test', text: 'tests FAILED (make test); the tests still fail after 3 repairs' });
    expect(verdictLines(verdict)).toEqual([
      'verdict: tests FAILED (make test); the tests still fail after 3 repairs', 'last failure:',
      '  line 14', '  line 15', '  line 16', '  line 17', '  line 18', '  line 19',
    ]);
  });

  it('says when no tests ran, and why', () => {
    expect(proposalVerdict(session, [testRun({ skipped: 'no test command' })])!.text).toBe('no tests ran: no test command found (set agent.testCommand in .codeloop.json)');
    expect(proposalVerdict(session, [])!.text).toBe('no tests ran');
    expect(proposalVerdict({ ...session, proposal: null }, [])).toBeNull();
  });
});
