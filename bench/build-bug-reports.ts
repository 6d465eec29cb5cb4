/**
 * Builds `bench/bug-reports.json`, the retrieval evaluation set, from git mirrors of public repositories:
 * `npx tsx bench/build-bug-reports.ts MIRRORS_DIR [PER_REPO]`.
 *
 * MIRRORS_DIR holds one bare clone per repository at `MIRRORS_DIR/<owner>+<name>/repo` (what the tool library's
 * `fetch` produces; `git clone --mirror https://github.com/<owner>/<name> MIRRORS_DIR/<owner>+<name>/repo` gives
 * the same). For each repository the newest non-merge commits whose message links an issue ("Fixes #12",
 * "closes #12", "fix #12:") become questions: the question is the commit's message (for squash-merged pull
 * requests, the PR's title and description) without the link lines and trailers; the answer is the non-test
 * source files the commit modified; the repository state is the commit's parent. Commits touching more than
 * MAX_ANSWER_FILES source files, only new files, or only tests/docs are skipped.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isTestPath } from '../server/index/test-paths.js';

/** Repositories of the set: none is in SWE-bench Lite or Verified. */
const REPOSITORIES: { repo: string; language: string }[] = [
  { repo: 'pydantic/pydantic', language: 'Python' },
  { repo: 'python/mypy', language: 'Python' },
  { repo: 'dask/dask', language: 'Python' },
  { repo: 'conan-io/conan', language: 'Python' },
  { repo: 'getmoto/moto', language: 'Python' },
  { repo: 'colinhacks/zod', language: 'TypeScript' },
  { repo: 'spf13/cobra', language: 'Go' },
  { repo: 'evanw/esbuild', language: 'Go' },
];

const SOURCE_EXTENSIONS = /\.(py|pyi|ts|tsx|js|mjs|cjs|go|rs|c|h)$/;
const MAX_ANSWER_FILES = 3;
const MAX_QUESTION_CHARS = 1500;
const ISSUE_LINK = /\b(?:fix(?:es|ed)?|close[sd]?|resolve[sd]?):?\s+#(\d+)/i;

export interface BugReport {
  id: string;
  repo: string;
  language: string;
  /** The commit whose tree is indexed (the fix's parent). */
  parent: string;
  fix: string;
  issue: number;
  question: string;
  /** Where the question text came from. */
  source: string;
  /** Non-test source files the fix modified, repository-relative. */
  answers: string[];
  /** Per answer file, the 1-based line ranges in the parent that the fix changed. */
  changedLines: Record<string, [number, number][]>;
}

function git(mirror: string, ...args: string[]): string {
  return execFileSync('git', ['--git-dir', mirror, ...args], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
}

/** The message as a bug report: link lines, trailers and PR checklists removed, length capped. */
function questionText(message: string): string {
  const kept = message.replaceAll('\r', '').split('\n').filter((line) =>
    !/^\s*(?:co-authored-by|signed-off-by|reviewed-by):/i.test(line)
    && !/^\s*(?:(?:fix(?:es|ed)?|close[sd]?|resolve[sd]?):?\s+#\d+[\s.,;]*(?:and\s+)?)+$/i.test(line)
    && !/^\s*-\s*\[[ x]\]/i.test(line)
    && !/^#+\s*(?:change summary|related issue number|checklist)\s*$/i.test(line)
    // Squash-merge bullets about housekeeping say nothing about the bug.
    && !/^\s*\*?\s*(?:(?:add|fix|update|more|new)\s+)?(?:tests?|lint(?:ing)?|changes?(?: file)?|changelog|docs?|typo|formatting|mypy|review(?: comments)?|comments?)\s*$/i.test(line)
    && !/^\s*\*\s*(?:fix(?:es|ed)?|close[sd]?)\s+#\d+\s*$/i.test(line));
  const text = kept.join('\n').replace(/^(?:fix(?:es|ed)?|close[sd]?):?\s+#\d+(?:,\s*(?:fix(?:es|ed)?|close[sd]?)?\s*#\d+)*:?\s*/i, '')
    .replace(/\s*\(#\d+\)$/m, '').replace(/\n{3,}/g, '\n\n').trim();
  return text.length > MAX_QUESTION_CHARS ? `${text.slice(0, MAX_QUESTION_CHARS)}…` : text;
}

/** Line ranges of the parent that a commit changed in one file (from `git diff -U0` hunk headers). */
function changedRanges(mirror: string, parent: string, fix: string, file: string): [number, number][] {
  const diff = git(mirror, 'diff', '-U0', parent, fix, '--', file);
  const ranges: [number, number][] = [];
  for (const match of diff.matchAll(/^@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@/gm)) {
    const start = Number(match[1]);
    const count = match[2] === undefined ? 1 : Number(match[2]);
    // A pure insertion (count 0) sits after line `start`: the lines around it are what a reader must see.
    ranges.push(count === 0 ? [start, start + 1] : [start, start + count - 1]);
  }
  return ranges;
}

function reportsOf(mirrors: string, repo: string, language: string, perRepo: number): BugReport[] {
  const mirror = path.join(mirrors, repo.replace('/', '+'), 'repo');
  const log = git(mirror, 'log', '--no-merges', '-E', '-i', '--grep=(fix(es|ed)?|close[sd]?|resolve[sd]?):? +#[0-9]+',
    '--format=%H%x00%P%x00%B%x01', '-n', '2000');
  const reports: BugReport[] = [];
  const seen = new Set<string>();
  for (const entry of log.split('\x01')) {
    if (reports.length >= perRepo) break;
    const [fix, parents, rawMessage] = entry.trim().split('\x00');
    if (!fix || !rawMessage || parents.includes(' ')) continue;
    // Pull-request templates carry example links in comments ("Fixes #123"): only the text outside them counts.
    const message = rawMessage.replace(/<!--[^]*?-->/g, '');
    const link = ISSUE_LINK.exec(message);
    if (!link || seen.has(`${repo}#${link[1]}`)) continue;
    seen.add(`${repo}#${link[1]}`);
    const status = git(mirror, 'diff-tree', '--no-commit-id', '--name-status', '-r', '--no-renames', fix).trim().split('\n');
    const sources = status.map((line) => line.split('\t'))
      .filter(([, file]) => file && SOURCE_EXTENSIONS.test(file) && !isTestPath(file) && !file.startsWith('docs/'));
    const modified = sources.filter(([kind]) => kind === 'M').map(([, file]) => file);
    if (!modified.length || sources.length > MAX_ANSWER_FILES) continue;
    const question = questionText(message);
    if (question.length < 30) continue;
    const parent = parents.trim();
    reports.push({
      id: `${repo}#${link[1]}`,
      repo,
      language,
      parent,
      fix,
      issue: Number(link[1]),
      question,
      source: `commit message of https://github.com/${repo}/commit/${fix} (fixes https://github.com/${repo}/issues/${link[1]})`,
      answers: modified,
      changedLines: Object.fromEntries(modified.map((file) => [file, changedRanges(mirror, parent, fix, file)])),
    });
  }
  return reports;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const mirrors = process.argv[2];
  if (!mirrors) throw new Error('usage: npx tsx bench/build-bug-reports.ts MIRRORS_DIR [PER_REPO]');
  const perRepo = Number(process.argv[3] ?? 20);
  const reports = REPOSITORIES.flatMap(({ repo, language }) => reportsOf(mirrors, repo, language, perRepo));
  const out = path.join(path.dirname(fileURLToPath(import.meta.url)), 'bug-reports.json');
  fs.writeFileSync(out, `${JSON.stringify({
    description: 'Bug reports with a known fix from public repositories (none in SWE-bench Lite/Verified). Built by bench/build-bug-reports.ts; see bench/RESULTS.md.',
    reports,
  }, null, 1)}\n`);
  process.stdout.write(`${reports.length} reports written to ${out}\n`);
}
