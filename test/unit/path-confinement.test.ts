import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { confinePath, uriToWorkspacePath, workspacePathToUri } from '../../server/workspace/path-confinement.js';
import { makeTree, removeTree } from '../helpers/fixture-tree.js';

let root: string;
let outside: string;
beforeAll(() => {
  root = fs.realpathSync(makeTree({ 'src/a.ts': 'a', 'inner/b.ts': 'b' }));
  outside = fs.realpathSync(makeTree({ 'secret.txt': 's' }));
  fs.symlinkSync(outside, path.join(root, 'link-out'));
  fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(root, 'file-link-out'));
  fs.symlinkSync(path.join(root, 'inner'), path.join(root, 'link-in'));
});
afterAll(() => removeTree(root, outside));

describe('path confinement', () => {
  it('accepts paths inside the workspace, including ones that do not exist yet', () => {
    expect(confinePath(root, 'src/a.ts')).toBe('src/a.ts');
    expect(confinePath(root, './src/../src/a.ts')).toBe('src/a.ts');
    expect(confinePath(root, path.join(root, 'src/new/file.ts'))).toBe('src/new/file.ts');
    expect(confinePath(root, 'link-in/b.ts')).toBe('inner/b.ts');
  });

  it.each([
    ['..', /outside the workspace/],
    ['../etc/passwd', /outside the workspace/],
    ['src/../../x', /outside the workspace/],
    ['/etc/passwd', /outside the workspace/],
    ['~/.ssh/id_rsa', /starts with ~/],
    ['link-out/secret.txt', /through the symlink/],
    ['file-link-out', /through the symlink/],
    ['link-out/new-file.txt', /through the symlink/],
    ['src/a.ts\0.png', /NUL byte/],
    ['..\\..\\windows', /backslashes/],
    ['a/'.repeat(3000), /longer than/],
    ['', /empty/],
  ])('refuses %j', (candidate, message) => {
    expect(() => confinePath(root, candidate)).toThrow(message);
  });

  it('confines file URIs, percent-encoding included', () => {
    expect(uriToWorkspacePath(root, workspacePathToUri(root, 'src/a.ts'))).toBe('src/a.ts');
    expect(uriToWorkspacePath(root, `${workspacePathToUri(root, 'src')}/with%20space.ts`)).toBe('src/with space.ts');
    expect(() => uriToWorkspacePath(root, 'file:///etc/passwd')).toThrow(/outside the workspace/);
    expect(() => uriToWorkspacePath(root, `${workspacePathToUri(root, 'src')}/%2E%2E/%2E%2E/x`)).toThrow(/outside/);
    expect(() => uriToWorkspacePath(root, `${workspacePathToUri(root, 'src')}%2F..%2F..%2Fx`)).toThrow(/not a valid file URI/);
    expect(() => uriToWorkspacePath(root, 'https://example.com/a.ts')).toThrow(/not a file:\/\/ URI/);
    expect(() => uriToWorkspacePath(root, `file://${os.tmpdir()}/x%00y`)).toThrow(/NUL|outside/);
  });
});

describe('path confinement through symlinks', () => {
  let tree: string;
  let away: string;
  beforeAll(() => {
    tree = fs.realpathSync(makeTree({ 'src/a.ts': 'a', 'deep/dir/c.ts': 'c' }));
    away = fs.realpathSync(makeTree({ 'existing.txt': 'e' }));
    const link = (target: string, name: string) => fs.symlinkSync(target, path.join(tree, name));
    link(path.join(away, 'new.txt'), 'notes'); // dangling, outside
    link('notes', 'notes-again'); // a link to a dangling link
    link(away, 'away-dir'); // a folder link out, used as a parent
    link('../../' + path.basename(away) + '/existing.txt', 'src/relative-out'); // relative link out
    link(tree, 'self'); // the root itself: `self/..` climbs out of it
    link('deep/dir', 'shortcut'); // inside: `shortcut/../c.ts` is deep/c.ts for the kernel
    link('loop-b', 'loop-a');
    link('loop-a', 'loop-b');
    link('src/a.ts', 'a-link'); // inside, fine
  });
  afterAll(() => removeTree(tree, away));

  it.each([
    ['notes', /through the symlink notes ->/],
    ['notes-again', /through the symlink notes ->/],
    ['away-dir/existing.txt', /through the symlink away-dir ->/],
    ['away-dir/brand/new/file.txt', /through the symlink away-dir ->/],
    ['src/relative-out', /through the symlink src\/relative-out ->/],
    ['self/../etc/passwd', /outside the workspace/],
    ['loop-a', /more than 40 symlinks/],
  ])('refuses %j', (candidate, message) => {
    expect(() => confinePath(tree, candidate)).toThrow(message);
    expect(() => confinePath(tree, `${tree}/${candidate}`)).toThrow(message);
    expect(fs.existsSync(path.join(away, 'new.txt'))).toBe(false);
  });

  it('resolves links inside the workspace to the file the kernel would open', () => {
    expect(confinePath(tree, 'a-link')).toBe('src/a.ts');
    expect(confinePath(tree, 'shortcut/../c.ts')).toBe('deep/c.ts');
    expect(confinePath(tree, 'shortcut/new.ts')).toBe('deep/dir/new.ts');
  });

  it('refuses percent-encoded climbs and links in URIs', () => {
    expect(() => uriToWorkspacePath(tree, `${workspacePathToUri(tree, 'notes')}`)).toThrow(/through the symlink notes/);
    expect(() => uriToWorkspacePath(tree, `${workspacePathToUri(tree, 'src')}/%2e%2e/%2E%2E/etc/passwd`)).toThrow(/outside/);
    expect(() => uriToWorkspacePath(tree, `${workspacePathToUri(tree, '')}/away%2Ddir/existing.txt`)).toThrow(/through the symlink away-dir/);
  });
});

describe('path confinement follows link targets as the kernel does', () => {
  it('resolves `..` inside a link target after the links before it, not lexically', () => {
    const tree = fs.realpathSync(makeTree({ 'a/b/c/file.txt': 'f', 'x.txt': 'x' }));
    const away = fs.realpathSync(makeTree({ 'secret.txt': 's' }));
    try {
      fs.symlinkSync('a/b/c', path.join(tree, 'deep'));
      // Lexically `deep/../../x.txt` is inside the root; for the kernel it is a/x.txt — also inside, and what is returned
      fs.symlinkSync('deep/../../x.txt', path.join(tree, 'tricky'));
      expect(confinePath(tree, 'tricky')).toBe('a/x.txt');
      // A target climbing out through a link: lexically `top/../..` stays inside, the kernel leaves the root
      fs.symlinkSync(tree, path.join(tree, 'top'));
      fs.symlinkSync(`top/../${path.basename(away)}/secret.txt`, path.join(tree, 'escape'));
      expect(() => confinePath(tree, 'escape')).toThrow(/leads outside the workspace through the symlink/);
    } finally {
      removeTree(tree, away);
    }
  });
});
