/**
 * Ranked-retrieval quality on real bug reports: `npm run bench:retrieval [-- [--repo OWNER/NAME[,…]] [--ablate | --signals a,b] [--verbose] [--misses]]`.
 *
 * Reads `bench/bug-reports.json` (built by bench/build-bug-reports.ts). For each report the repository is put at
 * the fix's parent commit in `bench/corpora/retrieval/<owner>+<name>/tree` (git-ignored) with
 * `git read-tree --reset -u` from a bare mirror, so consecutive reports of one repository only rewrite the files
 * that differ and the index (kept beside the tree) re-reads only those; each state's index is kept in
 * `states/<commit>.db`, so a second run only ranks. Mirrors are looked up in
 * `$CODELOOP_MIRRORS` (default `/work/.mirror`) as `<owner>+<name>/repo`; a missing one is reported with the
 * `git clone --mirror` command that provides it.
 *
 * For each report: the rank of the first answer file (non-test files the fix modified), Acc@1/3/5/10, MRR (over
 * the top 50), whether the best line window of that file holds a line the fix changed, and the latency of a
 * query with the daemon's default limit (in process, warm, as in the daemon; wall clock and CPU time, since a busy
 * machine inflates the first). With `--ablate`, every signal of the ranker is also switched off one at a time
 * on the same states, and each variant's Acc/MRR is printed. With `--misses`, every report whose answer is not
 * first is printed with its question, the answer's rank and the files ranked above it (what to look at when
 * changing the ranking).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { IndexConfigSchema } from '../protocol/config.js';
import { RANKING_SIGNALS, type RankingSignal } from '../server/index/text-ranking.js';
import { SCHEMA_VERSION } from '../server/index/index-database.js';
import { WorkspaceIndex } from '../server/index/workspace-index.js';
import type { BugReport } from './build-bug-reports.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../..');
const args = process.argv.slice(2);
/** `--repo a/b,c/d`: only these repositories. */
const onlyRepos = args.includes('--repo') ? args[args.indexOf('--repo') + 1].split(',') : undefined;
const ablate = args.includes('--ablate') || args.includes('--signals');
/** `--signals a,b`: ablate only these signals. */
const onlySignals = args.includes('--signals') ? args[args.indexOf('--signals') + 1].split(',') : undefined;
const mirrors = process.env.CODELOOP_MIRRORS ?? '/work/.mirror';
const cacheRoot = path.join(repoRoot, 'bench/corpora/retrieval');
const RANK_LIMIT = 50;
/**
 * Repositories no weight or signal was tuned on since the 2026-11-30 round (the ranking's choices were measured on
 * the other six); reported apart, to show how much of a gain is fitted to the set.
 */
const HELD_OUT = ['getmoto/moto', 'colinhacks/zod'];

const { reports } = JSON.parse(fs.readFileSync(path.join(repoRoot, 'bench/bug-reports.json'), 'utf8')) as { reports: BugReport[] };

interface Outcome {
  repo: string;
  rank: number;
  windowHit: boolean | null;
  latencyMs: number;
  /** CPU time of the query in this process: the latency the query itself costs, on a machine shared with others. */
  cpuMs: number;
}

/** Puts the mirror's tree at `commit` into `tree`, touching only files that differ from what is there. */
function materialise(mirror: string, tree: string, gitIndex: string, commit: string): void {
  execFileSync('git', ['--git-dir', mirror, '--work-tree', tree, 'read-tree', '--reset', '-u', commit], {
    env: { ...process.env, GIT_INDEX_FILE: gitIndex },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

/** The schema version an index file was written with (`PRAGMA user_version`). */
function schemaOf(file: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return db.pragma('user_version', { simple: true }) as number;
  } finally {
    db.close();
  }
}

function rankOf(ranked: string[], answers: string[]): number {
  return ranked.findIndex((file) => answers.includes(file)) + 1;
}

function summary(outcomes: Outcome[]): string {
  const n = outcomes.length || 1;
  const at = (k: number) => (100 * outcomes.filter((o) => o.rank >= 1 && o.rank <= k).length / n).toFixed(1);
  const mrr = (outcomes.reduce((sum, o) => sum + (o.rank ? 1 / o.rank : 0), 0) / n).toFixed(3);
  const missing = outcomes.filter((o) => !o.rank).length;
  return `${outcomes.length} | ${at(1)} | ${at(3)} | ${at(5)} | ${at(10)} | ${mrr} | ${missing}`;
}

/** Share of the found answer files whose best line window holds a changed line. */
function windowShare(outcomes: Outcome[]): string {
  const found = outcomes.filter((o) => o.windowHit !== null);
  return found.length ? `${(100 * found.filter((o) => o.windowHit).length / found.length).toFixed(1)}% of ${found.length}` : '-';
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
}

const variants: { name: string; disabled: RankingSignal[] }[] = [
  { name: 'all signals', disabled: [] },
  ...(ablate ? RANKING_SIGNALS.filter((signal) => !onlySignals || onlySignals.includes(signal)).map((signal) => ({ name: `without ${signal}`, disabled: [signal] })) : []),
];
const outcomes = new Map(variants.map((variant) => [variant.name, [] as Outcome[]]));
const selected = reports.filter((report) => !onlyRepos || onlyRepos.includes(report.repo));
const repos = [...new Set(selected.map((report) => report.repo))];

for (const repo of repos) {
  const mirror = path.join(mirrors, repo.replace('/', '+'), 'repo');
  if (!fs.existsSync(mirror)) {
    process.stderr.write(`no mirror of ${repo} at ${mirror}: run \`git clone --mirror https://github.com/${repo} ${mirror}\` (or set CODELOOP_MIRRORS)\n`);
    process.exitCode = 1;
    continue;
  }
  const cache = path.join(cacheRoot, repo.replace('/', '+'));
  const tree = path.join(cache, 'tree');
  const states = path.join(cache, 'states');
  fs.mkdirSync(tree, { recursive: true });
  fs.mkdirSync(states, { recursive: true });
  // Oldest first: consecutive states then differ least, and the working index re-reads least.
  const ordered = selected.filter((candidate) => candidate.repo === repo)
    .map((report) => ({ report, time: Number(execFileSync('git', ['--git-dir', mirror, 'log', '-1', '--format=%ct', report.parent], { encoding: 'utf8' })) }))
    .sort((a, b) => a.time - b.time).map(({ report }) => report);
  let working: WorkspaceIndex | null = null;
  for (const report of ordered) {
    materialise(mirror, tree, path.join(cache, 'git-index'), report.parent);
    // Each state's index is kept (a compact copy), so later runs only rank: indexing is what takes minutes.
    const state = path.join(states, `${report.parent}.db`);
    // A state written by an older schema is indexed again: its migration may empty it, or the extractor changed.
    if (fs.existsSync(state) && schemaOf(state) !== SCHEMA_VERSION) fs.rmSync(state);
    if (!fs.existsSync(state)) {
      working ??= WorkspaceIndex.open(tree, IndexConfigSchema.parse({}), path.join(cache, 'index.db'));
      await working.sync();
      const copy = new Database(path.join(cache, 'index.db'), { readonly: true });
      copy.exec(`VACUUM INTO '${state.replaceAll("'", "''")}'`);
      copy.close();
    }
    const index = WorkspaceIndex.open(tree, IndexConfigSchema.parse({}), state);
    for (const variant of variants) {
      const ranked = await index.rankFiles(report.question, RANK_LIMIT, { disabled: variant.disabled });
      // Latency is that of the query a user or the agent makes: the default number of results, all signals on.
      let latencyMs = 0;
      let cpuMs = 0;
      if (!variant.disabled.length) {
        const started = performance.now();
        const cpuStarted = process.cpuUsage();
        await index.rankFiles(report.question);
        latencyMs = performance.now() - started;
        const cpu = process.cpuUsage(cpuStarted);
        cpuMs = (cpu.user + cpu.system) / 1000;
      }
      const rank = rankOf(ranked.map((file) => file.path), report.answers);
      const hit = rank ? ranked[rank - 1] : undefined;
      const windowHit = hit ? (report.changedLines[hit.path] ?? []).some(([start, end]) => start <= hit.endLine && end >= hit.startLine) : null;
      outcomes.get(variant.name)!.push({ repo, rank, windowHit, latencyMs, cpuMs });
      if (variant.disabled.length === 0 && args.includes('--misses') && rank !== 1) {
        const above = ranked.slice(0, rank ? Math.min(rank - 1, 8) : 8).map((file) => `    ${file.score.toFixed(3)} ${file.path}`);
        process.stdout.write(`\n## ${report.id} rank ${rank || `>${RANK_LIMIT}`} (answer ${report.answers.join(' ')}${hit ? ` ${hit.score.toFixed(3)}` : ''})\n`
          + `  ${report.question.replaceAll(/\s+/g, ' ').slice(0, 400)}\n${above.join('\n')}\n`);
      }
      if (variant.disabled.length === 0 && args.includes('--verbose')) {
        process.stdout.write(`${report.id}\t${rank || `>${RANK_LIMIT}`}\t${ranked[0]?.path ?? '-'}\t${report.answers.join(' ')}\n`);
      }
    }
    await index.close();
  }
  await working?.close();
}

const all = outcomes.get('all signals')!;
process.stdout.write(`\n${all.length} bug reports, ${repos.length} repositories (mirrors: ${mirrors})\n\n`);
process.stdout.write('| repository | reports | Acc@1 | Acc@3 | Acc@5 | Acc@10 | MRR | not in top 50 | window holds a changed line | p50 ms | p95 ms | CPU p50 ms | CPU p95 ms |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n');
const groups: [string, (o: Outcome) => boolean][] = [
  ...repos.map((repo): [string, (o: Outcome) => boolean] => [repo, (o) => o.repo === repo]),
  ['all', () => true],
  ...(repos.some((repo) => HELD_OUT.includes(repo)) && repos.some((repo) => !HELD_OUT.includes(repo))
    ? [['tuned on', (o) => !HELD_OUT.includes(o.repo)], ['held out', (o) => HELD_OUT.includes(o.repo)]] as [string, (o: Outcome) => boolean][]
    : []),
];
for (const [repo, member] of groups) {
  const rows = all.filter(member);
  const windows = windowShare(rows);
  const latency = rows.map((o) => o.latencyMs);
  const cpu = rows.map((o) => o.cpuMs);
  process.stdout.write(`| ${repo} | ${summary(rows)} | ${windows} | ${percentile(latency, 0.5).toFixed(1)} | ${percentile(latency, 0.95).toFixed(1)} | ${percentile(cpu, 0.5).toFixed(1)} | ${percentile(cpu, 0.95).toFixed(1)} |\n`);
}
if (ablate) {
  process.stdout.write('\n| variant | reports | Acc@1 | Acc@3 | Acc@5 | Acc@10 | MRR | not in top 50 | window holds a changed line |\n|---|---|---|---|---|---|---|---|---|\n');
  for (const variant of variants) {
    const rows = outcomes.get(variant.name)!;
    process.stdout.write(`| ${variant.name} | ${summary(rows)} | ${windowShare(rows)} |\n`);
  }
}
