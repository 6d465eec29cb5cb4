import fs from 'node:fs';
import path from 'node:path';
import ignore, { type Ignore } from 'ignore';

/**
 * The kinds of ignore file, strongest first: ripgrep asks each kind in turn (nearest folder first within a kind)
 * and the first kind with a verdict decides, so a root `.ignore` whitelist beats a deeper `.gitignore`.
 * Source: ripgrep's crates/ignore/src/dir.rs, `Ignore::matched_ignore`.
 */
const KINDS = ['rgignore', 'ignore', 'gitignore', 'exclude'] as const;
type Kind = (typeof KINDS)[number];
const FILE_NAMES: Record<Exclude<Kind, 'exclude'>, string> = { rgignore: '.rgignore', ignore: '.ignore', gitignore: '.gitignore' };

type Verdict = 'ignore' | 'whitelist' | null;

/** The ignore files one folder holds, compiled; `hasGit` when the folder is a repository's top (it has `.git`). */
interface FolderRules {
  matchers: Partial<Record<Kind, Ignore>>;
  hasGit: boolean;
}

/** One folder of a path's chain: its rules and how a path below it is spelled relative to it. */
interface ChainLink {
  rules: FolderRules;
  /** Prefix that turns a root-relative path into one relative to this folder ('' inside the root). */
  prefixAbove: string;
  /** Characters to strip from the front of a root-relative path (the folder's own root-relative path + '/'). */
  stripBelow: number;
}

function readRules(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/**
 * Where `info/exclude` lives for a folder holding `.git`: the folder itself, or for a linked worktree (`.git` is
 * a file saying `gitdir: …`) the common git directory named by that git dir's `commondir` file.
 */
function gitDirectoryOf(dir: string): string | null {
  const dotGit = path.join(dir, '.git');
  let stat: fs.Stats;
  try {
    stat = fs.statSync(dotGit);
  } catch {
    return null;
  }
  if (stat.isDirectory()) return dotGit;
  const pointer = /^gitdir:\s*(.+?)\s*$/m.exec(readRules(dotGit) ?? '');
  if (!pointer) return null;
  const gitDir = path.resolve(dir, pointer[1]);
  const common = readRules(path.join(gitDir, 'commondir'))?.trim();
  return common ? path.resolve(gitDir, common) : gitDir;
}

/**
 * One path tested against one ignore file alone, without looking at its parent folders: a walk never enters an
 * ignored folder, and a parent one kind ignores may be whitelisted by a stronger kind (rg's `Gitignore::matched`).
 * `ignore` 7.0.16 (pinned) exposes this only on its rule list; its public `test()` also tests the parents.
 */
function verdictOf(matcher: Ignore, candidate: string): Verdict {
  const rules = (matcher as unknown as { _rules: { test(path: string, mode: 'regex'): { ignored: boolean; unignored: boolean } } })._rules;
  const result = rules.test(candidate, 'regex');
  return result.ignored ? 'ignore' : result.unignored ? 'whitelist' : null;
}

export interface IgnoreOptions {
  exclude: string[];
  includeHidden: boolean;
  /** Honour .gitignore files although the root is not inside a git repository (rg's `--no-require-git`). */
  gitignoreOutsideGit: boolean;
}

/**
 * Ignore rules as `rg --hidden` applies them: `.rgignore`, `.ignore`, `.gitignore` and `.git/info/exclude` of
 * every folder from the path's up to the file system root, ranked by kind and then by depth; `.gitignore` and
 * `exclude` only inside a git repository and not above its top. An ignored folder is never entered.
 * On top, codeloop's configured `exclude` patterns (like rg's `--glob '!…'`) and the hidden-file switch.
 */
export class IgnoreRules {
  private readonly excluded: Ignore;
  private readonly rulesByFolder = new Map<string, FolderRules>();
  /** The chain of folders with rules for a root-relative folder, nearest first ('' is the root). */
  private readonly chains = new Map<string, ChainLink[]>();

  constructor(
    private readonly root: string,
    private readonly options: IgnoreOptions,
  ) {
    this.excluded = ignore().add(options.exclude);
  }

  /** The ignore files of one folder (absolute path), read once. */
  private folderRules(dir: string): FolderRules {
    const cached = this.rulesByFolder.get(dir);
    if (cached) return cached;
    const matchers: Partial<Record<Kind, Ignore>> = {};
    for (const kind of ['rgignore', 'ignore', 'gitignore'] as const) {
      const text = readRules(path.join(dir, FILE_NAMES[kind]));
      if (text) matchers[kind] = ignore().add(text);
    }
    const gitDir = gitDirectoryOf(dir);
    if (gitDir) {
      const text = readRules(path.join(gitDir, 'info', 'exclude'));
      if (text) matchers.exclude = ignore().add(text);
    }
    const rules = { matchers, hasGit: gitDir !== null };
    this.rulesByFolder.set(dir, rules);
    return rules;
  }

  /** Folders whose rules apply below a root-relative folder, nearest first, ending with those above the root. */
  private chainOf(folder: string): ChainLink[] {
    const cached = this.chains.get(folder);
    if (cached) return cached;
    let chain: ChainLink[];
    if (folder === '') {
      chain = [{ rules: this.folderRules(this.root), prefixAbove: '', stripBelow: 0 }];
      for (let dir = this.root; path.dirname(dir) !== dir;) {
        const parent = path.dirname(dir);
        chain.push({ rules: this.folderRules(parent), prefixAbove: `${path.relative(parent, this.root).split(path.sep).join('/')}/`, stripBelow: 0 });
        dir = parent;
      }
    } else {
      const own = { rules: this.folderRules(path.join(this.root, folder)), prefixAbove: '', stripBelow: folder.length + 1 };
      chain = [own, ...this.chainOf(path.posix.dirname(folder) === '.' ? '' : path.posix.dirname(folder))];
    }
    this.chains.set(folder, chain);
    return chain;
  }

  /** Forget cached rules, e.g. after an ignore file changed. */
  reset(): void {
    this.rulesByFolder.clear();
    this.chains.clear();
  }

  isIgnoreFile(relativePath: string): boolean {
    const name = path.posix.basename(relativePath);
    return name === '.gitignore' || name === '.ignore' || name === '.rgignore' || relativePath.endsWith('.git/info/exclude');
  }

  /** Whether a root-relative posix path is ignored (its own verdict: the folders above it are the walk's business). */
  isIgnored(relativePath: string, isDirectory: boolean): boolean {
    const candidate = isDirectory ? `${relativePath}/` : relativePath;
    if (this.excluded.ignores(candidate)) return true;
    const verdict = this.verdict(relativePath, candidate);
    if (verdict === 'ignore') return true;
    // A whitelisted hidden file is searched even without --hidden, as in rg.
    return verdict === null && !this.options.includeHidden && path.posix.basename(relativePath).startsWith('.');
  }

  private verdict(relativePath: string, candidate: string): Verdict {
    const slash = relativePath.lastIndexOf('/');
    const chain = this.chainOf(slash === -1 ? '' : relativePath.slice(0, slash));
    const anyGit = this.options.gitignoreOutsideGit || chain.some((link) => link.rules.hasGit);
    const found: Record<Kind, Verdict> = { rgignore: null, ignore: null, gitignore: null, exclude: null };
    let sawGit = false;
    for (const { rules, prefixAbove, stripBelow } of chain) {
      const local = prefixAbove + candidate.slice(stripBelow);
      for (const kind of KINDS) {
        const matcher = rules.matchers[kind];
        if (!matcher || found[kind] !== null) continue;
        if ((kind === 'gitignore' || kind === 'exclude') && (!anyGit || sawGit)) continue;
        found[kind] = verdictOf(matcher, local);
      }
      sawGit ||= rules.hasGit;
    }
    for (const kind of KINDS) if (found[kind] !== null) return found[kind];
    return null;
  }

  /** Whether any ancestor directory of a path is ignored (a watcher event inside an ignored folder). */
  isInsideIgnoredDirectory(relativePath: string): boolean {
    const parts = relativePath.split('/');
    for (let depth = 1; depth < parts.length; depth++) {
      if (this.isIgnored(parts.slice(0, depth).join('/'), true)) return true;
    }
    return false;
  }
}
