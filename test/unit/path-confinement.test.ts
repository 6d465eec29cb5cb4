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
    expect(confinePath(root, 'link-in/b.ts')).toBe('link-in/b.ts');
  });

  it.each([
    ['..', /outside the workspace/],
    ['../etc/passwd', /outside the workspace/],
    ['src/../../x', /outside the workspace/],
    ['/etc/passwd', /outside the workspace/],
    ['~/.ssh/id_rsa', /starts with ~/],
    ['link-out/secret.txt', /through a symlink/],
    ['file-link-out', /through a symlink/],
    ['link-out/new-file.txt', /through a symlink/],
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
