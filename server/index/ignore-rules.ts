import fs from 'node:fs';
import path from 'node:path';
import ignore, { type Ignore } from 'ignore';

/** The rules one directory contributes: its .gitignore, then .ignore (which wins, as in ripgrep). */
interface DirectoryRules {
  /** Directory relative to the root, posix separators, '' for the root. */
  base: string;
  matcher: Ignore;
}

function readRules(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

export interface IgnoreOptions {
  exclude: string[];
  includeHidden: boolean;
  /** Honour .gitignore files although the root is not inside a git repository. */
  gitignoreOutsideGit: boolean;
}

/** The top folder of the git repository holding `root` (the one with `.git`), or null. */
function gitTopOf(root: string): string | null {
  for (let dir = root; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, '.git'))) return dir;
    if (path.dirname(dir) === dir) return null;
  }
}

/** Rules from a folder above the root (up to the repository top): they see paths as `prefix/…`, as git does. */
interface AncestorRules {
  prefix: string;
  matcher: Ignore;
}

/**
 * Nested ignore rules with git's precedence: the deepest directory that has an opinion on a path decides,
 * and an ignored directory is never entered, so nothing below it can be re-included.
 */
export class IgnoreRules {
  private readonly excluded: Ignore;
  private readonly readGitignore: boolean;
  private readonly gitTop: string | null;
  private readonly rulesByDirectory = new Map<string, DirectoryRules | null>();
  private ancestors: AncestorRules[] | null = null;

  constructor(
    private readonly root: string,
    private readonly options: IgnoreOptions,
  ) {
    this.excluded = ignore().add(options.exclude);
    this.gitTop = gitTopOf(root);
    this.readGitignore = options.gitignoreOutsideGit || this.gitTop !== null;
  }

  /** The ignore rules one folder defines, or null when it defines none. */
  private readFolderRules(dir: string, isGitTop: boolean): Ignore | null {
    const sources: string[] = [];
    if (isGitTop) {
      const exclude = readRules(path.join(dir, '.git', 'info', 'exclude'));
      if (exclude) sources.push(exclude);
    }
    if (this.readGitignore) {
      const gitignore = readRules(path.join(dir, '.gitignore'));
      if (gitignore) sources.push(gitignore);
    }
    const dotIgnore = readRules(path.join(dir, '.ignore'));
    if (dotIgnore) sources.push(dotIgnore);
    // add() splits a string into lines; an array would be taken as one pattern per element.
    return sources.length ? ignore().add(sources.join('\n')) : null;
  }

  /** Rules defined in one directory below the root (cached). */
  private rulesOf(base: string): DirectoryRules | null {
    const cached = this.rulesByDirectory.get(base);
    if (cached !== undefined) return cached;
    const dir = path.join(this.root, base);
    const matcher = this.readFolderRules(dir, base === '' && this.gitTop === this.root);
    const rules = matcher ? { base, matcher } : null;
    this.rulesByDirectory.set(base, rules);
    return rules;
  }

  /** Rules of the folders between the root and its repository's top, nearest first (as rg reads them). */
  private ancestorRules(): AncestorRules[] {
    if (this.ancestors) return this.ancestors;
    this.ancestors = [];
    if (this.gitTop && this.gitTop !== this.root) {
      for (let dir = path.dirname(this.root); ; dir = path.dirname(dir)) {
        const matcher = this.readFolderRules(dir, dir === this.gitTop);
        const prefix = path.relative(dir, this.root).split(path.sep).join('/');
        // A root the folder above ignores (say node_modules/, opened on purpose) would be empty under its rules:
        // then that folder's rules are not applied at all (rg would still apply its basename patterns).
        if (matcher && !matcher.ignores(`${prefix}/`)) this.ancestors.push({ prefix, matcher });
        if (dir === this.gitTop || path.dirname(dir) === dir) break;
      }
    }
    return this.ancestors;
  }

  /** Forget cached rules, e.g. after a .gitignore changed. */
  reset(): void {
    this.rulesByDirectory.clear();
    this.ancestors = null;
  }

  isIgnoreFile(relativePath: string): boolean {
    const name = path.posix.basename(relativePath);
    return name === '.gitignore' || name === '.ignore' || relativePath === '.git/info/exclude';
  }

  /** Whether a root-relative posix path is ignored; directories are tested with their trailing slash. */
  isIgnored(relativePath: string, isDirectory: boolean): boolean {
    const name = path.posix.basename(relativePath);
    if (!this.options.includeHidden && name.startsWith('.')) return true;
    const candidate = isDirectory ? `${relativePath}/` : relativePath;
    if (this.excluded.ignores(candidate)) return true;
    // Deepest directory first: the first explicit verdict wins.
    const parts = relativePath.split('/');
    for (let depth = parts.length - 1; depth >= 0; depth--) {
      const base = parts.slice(0, depth).join('/');
      const rules = this.rulesOf(base);
      if (!rules) continue;
      const local = base ? candidate.slice(base.length + 1) : candidate;
      const verdict = rules.matcher.test(local);
      if (verdict.ignored) return true;
      if (verdict.unignored) return false;
    }
    for (const ancestor of this.ancestorRules()) {
      const verdict = ancestor.matcher.test(`${ancestor.prefix}/${candidate}`);
      if (verdict.ignored) return true;
      if (verdict.unignored) return false;
    }
    return false;
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
