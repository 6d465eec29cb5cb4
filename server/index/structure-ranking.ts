import path from 'node:path';
import { importedPaths } from './import-resolution.js';

/**
 * A leading file of a ranking: its repository-relative path and the candidates it imports (`importsAmong`; null
 * when its text could not be read).
 */
export interface LinkedSource {
  path: string;
  imports: readonly string[] | null;
}

/** For each folder of `candidates`, its Go files other than tests (a Go package); `.` for the root. */
function goPackages(candidates: Iterable<string>): (dir: string) => string[] {
  const goFolders = new Map<string, string[]>();
  for (const file of candidates) {
    if (!file.endsWith('.go') || file.endsWith('_test.go')) continue;
    const dir = path.posix.dirname(file);
    goFolders.set(dir, [...goFolders.get(dir) ?? [], file]);
  }
  return (dir) => goFolders.get(dir === '' ? '.' : dir) ?? [];
}

/**
 * The files among `candidates` that `file` (whose text is `text`) imports. Resolved against the candidates alone:
 * no index read, so it can run wherever the text is (the scanning thread reads large files).
 */
export function importsAmong(file: string, text: string, candidates: readonly string[]): string[] {
  const known = new Set(candidates);
  return importedPaths(file, text, (candidate) => known.has(candidate), goPackages(known));
}

/**
 * The files linked to each leading file in the code's structure: the files it imports (callees, the modules
 * defining what it uses), the leading files that import it (callers), and for Go the other files of its package
 * (a folder; they share one scope without importing each other). Only `candidates` (the files the words already
 * found) can be linked, and a leader whose text could not be read links nothing.
 */
export function structureLinks(leaders: LinkedSource[], candidates: Iterable<string>): Map<string, Set<string>> {
  const goFilesIn = goPackages(candidates);
  const links = new Map<string, Set<string>>(leaders.map((leader) => [leader.path, new Set<string>()]));
  const link = (from: string, to: string) => {
    if (from !== to) links.get(from)?.add(to);
  };
  for (const leader of leaders) {
    if (!leader.imports) continue;
    for (const target of leader.imports) {
      link(leader.path, target);
      link(target, leader.path);
    }
    if (leader.path.endsWith('.go')) for (const sibling of goFilesIn(path.posix.dirname(leader.path))) link(leader.path, sibling);
  }
  return links;
}

/**
 * Structure on top of words: from each of the `sources` best files, its linked files are raised by `gain` (a
 * factor on their own score, so a linked file the report's words barely touch stays low), but never to or
 * above the file they were reached from — so the best file stays first and structure only reorders what follows
 * it. Returns each raised file's new score (a file linked to several sources keeps the highest).
 */
export function raiseLinked(
  ranked: readonly string[],
  score: (file: string) => number,
  links: Map<string, Set<string>>,
  sources: number,
  gain: number,
): Map<string, number> {
  const raised = new Map<string, number>();
  for (const source of ranked.slice(0, sources)) {
    const ceiling = score(source) * (1 - 1e-6);
    for (const file of links.get(source) ?? []) {
      const own = score(file);
      if (own >= ceiling) continue;
      const value = Math.min(ceiling, own * (1 + gain));
      if (value > (raised.get(file) ?? own)) raised.set(file, value);
    }
  }
  return raised;
}
