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

function isInsideGitRepository(root: string): boolean {
  for (let dir = root; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, '.git'))) return true;
    if (path.dirname(dir) === dir) return false;
  }
}

/**
 * Nested ignore rules with git's precedence: the deepest directory that has an opinion on a path decides,
 * and an ignored directory is never entered, so nothing below it can be re-included.
 */
export class IgnoreRules {
  private readonly excluded: Ignore;
  private readonly readGitignore: boolean;
  private readonly rulesByDirectory = new Map<string, DirectoryRules | null>();

  constructor(
    private readonly root: string,
    private readonly options: IgnoreOptions,
  ) {
    this.excluded = ignore().add(options.exclude);
    this.readGitignore = options.gitignoreOutsideGit || isInsideGitRepository(root);
  }

  /** Rules defined in one directory (cached), or null when it defines none. */
  private rulesOf(base: string): DirectoryRules | null {
    const cached = this.rulesByDirectory.get(base);
    if (cached !== undefined) return cached;
    const dir = path.join(this.root, base);
    const sources: string[] = [];
    if (base === '') {
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
    const rules = sources.length ? { base, matcher: ignore().add(sources.join('\n')) } : null;
    this.rulesByDirectory.set(base, rules);
    return rules;
  }

  /** Forget cached rules, e.g. after a .gitignore changed. */
  reset(): void {
    this.rulesByDirectory.clear();
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
