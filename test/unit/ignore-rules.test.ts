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

  it('applies the user\'s global gitignore last, inside repositories only, as rg does', () => {
    const configHome = tree({ 'git/ignore': 'global-only.txt\nrescued.txt\n' }, false);
    const saved = { XDG_CONFIG_HOME: process.env.XDG_CONFIG_HOME, HOME: process.env.HOME };
    process.env.XDG_CONFIG_HOME = configHome;
    process.env.HOME = configHome;
    try {
      const repo = new IgnoreRules(tree({ '.gitignore': '!rescued.txt\n' }), defaults);
      expect(repo.isIgnored('global-only.txt', false)).toBe(true);
      expect(repo.isIgnored('sub/global-only.txt', false)).toBe(true);
      expect(repo.isIgnored('rescued.txt', false)).toBe(false);
      expect(new IgnoreRules(tree({}, false), defaults).isIgnored('global-only.txt', false)).toBe(false);
    } finally {
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
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
  it('gives a walk, folder by folder from its listing, the verdicts it gives path by path; no .gitignore above a repository applies', () => {
    const root = tree({
      '.gitignore': 'a.txt\n',
      '.ignore': 'e.txt\n',
      'repo/.gitignore': 'b.txt\n',
      'repo/sub/.ignore': 'c.txt\n',
      'repo/sub/deeper/.rgignore': '!b.txt\n',
      'plain/.gitignore': 'd.txt\n',
    }, false);
    fs.mkdirSync(`${root}/repo/.git`);
    const byPath = new IgnoreRules(root, defaults);
    const walk = new IgnoreRules(root, defaults);
    const names = ['a.txt', 'b.txt', 'c.txt', 'd.txt', 'e.txt', '.hidden'];
    const verdicts: Record<string, boolean> = {};
    for (const folder of ['', 'repo', 'repo/sub', 'repo/sub/deeper', 'plain']) {
      const isIgnored = walk.entriesOf(folder, new Set(fs.readdirSync(folder ? `${root}/${folder}` : root)));
      for (const name of names) {
        const relative = folder ? `${folder}/${name}` : name;
        verdicts[relative] = isIgnored(relative, name, false);
        expect(verdicts[relative], relative).toBe(byPath.isIgnored(relative, false));
      }
    }
    expect(Object.keys(verdicts).filter((file) => verdicts[file]).sort()).toEqual([
      'e.txt', 'plain/e.txt', 'repo/b.txt', 'repo/e.txt', 'repo/sub/b.txt', 'repo/sub/c.txt', 'repo/sub/deeper/c.txt', 'repo/sub/deeper/e.txt', 'repo/sub/e.txt',
    ]);
  });
});
