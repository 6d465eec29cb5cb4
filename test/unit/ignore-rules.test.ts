import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { IgnoreRules } from '../../server/index/ignore-rules.js';
import { makeTree, removeTree } from '../helpers/fixture-tree.js';

const defaults = { exclude: ['node_modules/', '.git/'], includeHidden: true, gitignoreOutsideGit: false };
const roots: string[] = [];
const tree = (files: Record<string, string>, git = true) => {
  const root = makeTree(files, { git });
  roots.push(root);
  return root;
};
afterEach(() => removeTree(...roots.splice(0)));

describe('ignore rules', () => {
  it('applies nested .gitignore files relative to their folder, deepest first', () => {
    const rules = new IgnoreRules(tree({
      '.gitignore': '*.log\n/top-only.txt\n',
      'sub/.gitignore': '!important.log\nlocal/\n',
    }), defaults);
    expect(rules.isIgnored('debug.log', false)).toBe(true);
    expect(rules.isIgnored('sub/debug.log', false)).toBe(true);
    expect(rules.isIgnored('sub/important.log', false)).toBe(false);
    expect(rules.isIgnored('important.log', false)).toBe(true);
    expect(rules.isIgnored('top-only.txt', false)).toBe(true);
    expect(rules.isIgnored('sub/top-only.txt', false)).toBe(false);
    expect(rules.isIgnored('sub/local', true)).toBe(true);
    expect(rules.isIgnored('local', true)).toBe(false);
    expect(rules.isInsideIgnoredDirectory('sub/local/x.ts')).toBe(true);
  });

  it('reads .git/info/exclude and lets .ignore override .gitignore', () => {
    const root = tree({ '.gitignore': 'generated/\n', '.ignore': '!generated/\nsecrets.txt\n' });
    fs.writeFileSync(`${root}/.git/info/exclude`, 'scratch.txt\n');
    const rules = new IgnoreRules(root, defaults);
    expect(rules.isIgnored('scratch.txt', false)).toBe(true);
    expect(rules.isIgnored('generated', true)).toBe(false);
    expect(rules.isIgnored('secrets.txt', false)).toBe(true);
  });

  it('ranks ignore files by kind before depth, as rg does', () => {
    const root = tree({
      '.gitignore': 'generated/\n',
      '.ignore': '!generated/\n!*.gen.ts\n',
      'pkg/.gitignore': '*.gen.ts\n',
      '.rgignore': 'rg-only.txt\n',
      'sub/.ignore': '!rg-only.txt\n',
    });
    const rules = new IgnoreRules(root, defaults);
    expect(rules.isIgnored('generated', true)).toBe(false);
    expect(rules.isIgnored('generated/out.ts', false)).toBe(false);
    expect(rules.isIgnored('pkg/api.gen.ts', false)).toBe(false);
    expect(rules.isIgnored('sub/rg-only.txt', false)).toBe(true);
    expect(rules.isIgnoreFile('a/.rgignore')).toBe(true);
  });

  it('applies the .gitignore files of folders above the root, up to the repository top, like rg', () => {
    const top = tree({ '.gitignore': 'dist/\n/sub/only-here.txt\n', 'sub/.gitignore': '*.tmp\n', 'sub/pkg/x.ts': '' });
    const rules = new IgnoreRules(`${top}/sub/pkg`, defaults);
    expect(rules.isIgnored('dist', true)).toBe(true);
    expect(rules.isIgnored('lib/dist', true)).toBe(true);
    expect(rules.isIgnored('a.tmp', false)).toBe(true);
    expect(rules.isIgnored('x.ts', false)).toBe(false);
    expect(new IgnoreRules(`${top}/sub`, defaults).isIgnored('only-here.txt', false)).toBe(true);
  });

  it('does not empty a root that a folder above ignores (node_modules opened on purpose)', () => {
    const top = tree({ '.gitignore': 'node_modules/\n', 'node_modules/pkg/index.js': '' });
    expect(new IgnoreRules(`${top}/node_modules`, defaults).isIgnored('pkg/index.js', false)).toBe(false);
  });

  it('ignores .gitignore outside a git repository unless configured, like rg', () => {
    const root = tree({ '.gitignore': '*.log\n' }, false);
    expect(new IgnoreRules(root, defaults).isIgnored('a.log', false)).toBe(false);
    expect(new IgnoreRules(root, { ...defaults, gitignoreOutsideGit: true }).isIgnored('a.log', false)).toBe(true);
  });

  it('applies configured excludes and the hidden-file switch', () => {
    const root = tree({});
    const rules = new IgnoreRules(root, { ...defaults, exclude: ['node_modules/', '*.min.js'], includeHidden: false });
    expect(rules.isIgnored('node_modules', true)).toBe(true);
    expect(rules.isIgnored('a/b/node_modules', true)).toBe(true);
    expect(rules.isIgnored('dist/app.min.js', false)).toBe(true);
    expect(rules.isIgnored('.env', false)).toBe(true);
    expect(new IgnoreRules(root, defaults).isIgnored('.env', false)).toBe(false);
  });
});
