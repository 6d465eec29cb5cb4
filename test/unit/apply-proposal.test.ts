import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ProposedFile } from '../../server/agent/session-store.js';
import { applyProposalToDisk, inverseProposal, REVERT_WORDING } from '../../server/edits/apply-proposal.js';
import { makeTree, removeTree } from '../helpers/fixture-tree.js';

const roots: string[] = [];
afterEach(() => removeTree(...roots.splice(0)));
function tree(files: Record<string, string | Buffer>): string {
  const root = fs.realpathSync(makeTree(files));
  roots.push(root);
  return root;
}

describe('applying a proposal to disk', () => {
  it('writes each file back in its own encoding, and a new file in the proposal\'s', () => {
    const root = tree({ 'latin.txt': Buffer.from('caf\xe9 = 1\n', 'latin1'), 'bom.txt': '\ufeffa = 1\r\n' });
    const files: ProposedFile[] = [
      { path: 'latin.txt', before: 'caf\u00e9 = 1\n', after: 'caf\u00e9 = 2\n', encoding: { name: 'latin1', bom: false } },
      { path: 'bom.txt', before: 'a = 1\r\n', after: 'a = 2\r\n', encoding: { name: 'utf8', bom: true } },
      { path: 'new/utf16.txt', before: null, after: 'é\r\n', encoding: { name: 'utf16le', bom: true } },
    ];
    expect(applyProposalToDisk(root, files)).toEqual({ applied: ['latin.txt', 'bom.txt', 'new/utf16.txt'], conflicts: [] });
    expect(fs.readFileSync(path.join(root, 'latin.txt')).equals(Buffer.from('caf\xe9 = 2\n', 'latin1'))).toBe(true);
    expect(fs.readFileSync(path.join(root, 'bom.txt'), 'utf8')).toBe('\ufeffa = 2\r\n');
    expect(fs.readFileSync(path.join(root, 'new/utf16.txt')).equals(Buffer.from([0xff, 0xfe, 0xe9, 0, 0x0d, 0, 0x0a, 0]))).toBe(true);
  });

  it('keeps the user\'s later edits outside the hunks and names the hunk they touched', () => {
    const root = tree({ 'a.txt': 'top\none\ntwo\nthree\n', 'b.txt': 'one\nTYPED\n' });
    const files: ProposedFile[] = [
      { path: 'a.txt', before: 'one\ntwo\nthree\n', after: 'one\n2\nthree\n' },
      { path: 'b.txt', before: 'one\ntwo\n', after: 'one\n2\n' },
    ];
    expect(applyProposalToDisk(root, files)).toEqual({ applied: ['a.txt'], conflicts: ['b.txt: the proposal\'s change to line 2 conflicts with your edit, now line 2'] });
    expect(fs.readFileSync(path.join(root, 'a.txt'), 'utf8')).toBe('top\none\n2\nthree\n');
    expect(fs.readFileSync(path.join(root, 'b.txt'), 'utf8')).toBe('one\nTYPED\n');
  });

  it('reports a file the file system refuses (a folder in its place) and applies the rest', () => {
    const root = tree({ 'taken/inner.txt': 'x', 'ok.txt': 'a\n' });
    const outcome = applyProposalToDisk(root, [
      { path: 'taken', before: null, after: 'file\n' },
      { path: 'ok.txt', before: 'a\n', after: 'b\n' },
    ]);
    expect(outcome.applied).toEqual(['ok.txt']);
    expect(outcome.conflicts).toEqual([expect.stringMatching(/^taken: not applied: EISDIR/)]);
  });

  it('never writes or deletes through a link that appeared in the workspace since the proposal', () => {
    const outside = tree({ 'target.txt': 'outside\n' });
    const root = tree({ 'inside.txt': 'x\n' });
    fs.symlinkSync(path.join(outside, 'created.txt'), path.join(root, 'new.txt'));
    fs.symlinkSync(outside, path.join(root, 'dir'));
    fs.symlinkSync('inside.txt', path.join(root, 'alias.txt'));
    const files: ProposedFile[] = [
      { path: 'new.txt', before: null, after: 'pwned\n' },
      { path: 'dir/target.txt', before: 'outside\n', after: 'pwned\n' },
      { path: 'dir/gone.txt', before: 'outside\n', after: null },
      { path: 'alias.txt', before: 'x\n', after: 'y\n' },
    ];
    const outcome = applyProposalToDisk(root, files);
    expect(outcome.applied).toEqual([]);
    expect(outcome.conflicts).toEqual([
      expect.stringMatching(/^new\.txt: not applied: path "new\.txt" leads outside the workspace through the symlink new\.txt ->/),
      expect.stringMatching(/^dir\/target\.txt: not applied: .*through the symlink dir ->/),
      expect.stringMatching(/^dir\/gone\.txt: not applied: .*through the symlink dir ->/),
      'alias.txt: not applied: alias.txt is now a symlink to inside.txt; the proposal was made for the file itself',
    ]);
    expect(fs.readdirSync(outside)).toEqual(['target.txt']);
    expect(fs.readFileSync(path.join(outside, 'target.txt'), 'utf8')).toBe('outside\n');
    expect(fs.readFileSync(path.join(root, 'inside.txt'), 'utf8')).toBe('x\n');
  });
});

describe('reverting an applied proposal on disk (its inverse, planned like Apply)', () => {
  const proposal: ProposedFile[] = [
    { path: 'latin.txt', before: 'caf\u00e9 = 1\nb = 1\n', after: 'caf\u00e9 = 2\nb = 1\n', encoding: { name: 'latin1', bom: false } },
    { path: 'created.txt', before: null, after: 'new\n' },
    { path: 'deleted.txt', before: 'old\n', after: null },
  ];

  it('puts every file back as it was: changed back in its own encoding, a created file deleted, a deleted one written again', () => {
    const root = tree({ 'latin.txt': Buffer.from('caf\xe9 = 2\nb = 1\n', 'latin1'), 'created.txt': 'new\n' });
    expect(applyProposalToDisk(root, inverseProposal(proposal), REVERT_WORDING)).toEqual({ applied: ['latin.txt', 'created.txt', 'deleted.txt'], conflicts: [] });
    expect(fs.readFileSync(path.join(root, 'latin.txt')).equals(Buffer.from('caf\xe9 = 1\nb = 1\n', 'latin1'))).toBe(true);
    expect(fs.existsSync(path.join(root, 'created.txt'))).toBe(false);
    expect(fs.readFileSync(path.join(root, 'deleted.txt'), 'utf8')).toBe('old\n');
  });

  it('keeps the user\'s edits made since the apply where the revert does not change, and reports each file it would overwrite', () => {
    const root = tree({ 'latin.txt': Buffer.from('caf\xe9 = 2\nb = 1\nmine\n', 'latin1'), 'created.txt': 'new\nmine\n', 'deleted.txt': 'theirs\n' });
    expect(applyProposalToDisk(root, inverseProposal(proposal), REVERT_WORDING)).toEqual({
      applied: ['latin.txt'],
      conflicts: ['created.txt: the revert deletes it, but you changed it since it was applied', 'deleted.txt: the revert creates it, but it exists now'],
    });
    expect(fs.readFileSync(path.join(root, 'latin.txt'), 'latin1')).toBe('caf\xe9 = 1\nb = 1\nmine\n');
    expect(fs.readFileSync(path.join(root, 'created.txt'), 'utf8')).toBe('new\nmine\n');
  });

  it('a file already as it was before counts as reverted; a hunk the user changed is named with its lines', () => {
    const root = tree({ 'latin.txt': Buffer.from('caf\xe9 = 3\nb = 1\n', 'latin1') });
    expect(applyProposalToDisk(root, inverseProposal(proposal.slice(0, 2)), REVERT_WORDING)).toEqual({
      applied: ['created.txt'],
      conflicts: ["latin.txt: the revert's change to line 1 conflicts with your edit, now line 1"],
    });
  });
});
