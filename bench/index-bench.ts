/**
 * Index benchmark: `npm run bench:index -- CORPUS_DIR [--name NAME] [--runs N]`.
 * Measures, in one run and against ripgrep on the same tree: full index time, index size ÷ corpus size,
 * peak RSS of the indexing process, literal and regex query latency p50/p95 with the ratio to rg, whether the
 * hit sets are identical, and save→searchable latency through the file watcher.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { IndexConfigSchema } from '../protocol/config.js';
import { WorkspaceIndex } from '../server/index/workspace-index.js';
import { corpusArguments, RG_ARGS } from './corpus-arguments.js';

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../server/cli.js');
const { corpus, name, runs, queries, values } = corpusArguments(
  'npm run bench:index -- CORPUS_DIR [--name kernel|node_modules] [--runs N] [--keep-state] [--database INDEX_DB]',
  ['database'], ['keep-state'],
);
const config = IndexConfigSchema.parse({ exclude: ['.git/'] });

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function timeIt<T>(work: () => Promise<T>): Promise<{ ms: number; result: T }> {
  const start = performance.now();
  const result = await work();
  return { ms: performance.now() - start, result };
}

const stateHome = fs.mkdtempSync(path.join(os.tmpdir(), 'codeloop-bench-'));
const configHome = path.join(stateHome, 'config');
fs.mkdirSync(path.join(configHome, 'codeloop'), { recursive: true });
fs.writeFileSync(path.join(configHome, 'codeloop', 'config.json'), JSON.stringify({ index: { exclude: ['.git/'] } }));
const env = { ...process.env, XDG_STATE_HOME: stateHome, XDG_CONFIG_HOME: configHome };

const log = (line: string) => process.stdout.write(`${line}\n`);
log(`## ${name}: ${corpus} (${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} cores, node ${process.version}, load average ${os.loadavg()[0].toFixed(1)})`);
log('');

/** 1. Full index in a child process, so its peak RSS and CPU time are the indexer's own; returns the database. */
function indexCorpus(): string {
  const indexRun = spawnSync('/usr/bin/time', ['-f', '%U %S %M', process.execPath, CLI, 'index', '--json', corpus], { env, encoding: 'utf8' });
  if (indexRun.status !== 0) throw new Error(`indexing failed: ${indexRun.stderr}`);
  const summary = JSON.parse(indexRun.stdout);
  const [userSeconds, systemSeconds, peakRssKb] = indexRun.stderr.trim().split('\n').at(-1)!.split(' ').map(Number);
  const databaseBytes = ['', '-wal'].reduce((sum, suffix) => sum + (fs.existsSync(summary.databasePath + suffix) ? fs.statSync(summary.databasePath + suffix).size : 0), 0);
  const treeBytes = Number(spawnSync('du', ['-sb', corpus], { encoding: 'utf8' }).stdout.split('\t')[0]);
  log(`- full index: ${(summary.durationMs / 1000).toFixed(1)} s for ${summary.files} files (${(summary.bytes / 2 ** 20).toFixed(0)} MiB indexed; tree ${(treeBytes / 2 ** 20).toFixed(0)} MiB), ${summary.skippedTooLarge} too large, ${summary.skippedBinary} binary; CPU ${(userSeconds + systemSeconds).toFixed(0)} s (user ${userSeconds} s, system ${systemSeconds} s), load average ${os.loadavg()[0].toFixed(1)} at the end`);
  log(`- index size: ${(databaseBytes / 2 ** 20).toFixed(0)} MiB = ${(databaseBytes / summary.bytes).toFixed(2)}× the indexed bytes, ${(databaseBytes / treeBytes).toFixed(2)}× the tree`);
  log(`- peak RSS while indexing: ${(peakRssKb / 1024).toFixed(0)} MB; symbols: ${summary.symbols}`);
  return summary.databasePath;
}

// --database: query an index built before (by `codeloop index`, or an earlier run with --keep-state).
const databasePath = values.database ?? indexCorpus();
if (values.database) log(`- queries on the existing index ${values.database}`);
const index = WorkspaceIndex.open(corpus, config, databasePath);
log('');
log('| mode | query | rg p50 ms | codeloop p50 ms | p95 ms | speed-up (p50) | one thread p50 ms | speed-up | candidates → files | hits | identical |');
log('|---|---|---|---|---|---|---|---|---|---|---|');

const ratios: Record<'literal' | 'regex', number[]> = { literal: [], regex: [] };
const inlineRatios: Record<'literal' | 'regex', number[]> = { literal: [], regex: [] };
const ourP50: Record<'literal' | 'regex', number[]> = { literal: [], regex: [] };
let allIdentical = true;
for (const { mode, pattern } of queries) {
  const rgArgs = [...RG_ARGS, ...(mode === 'literal' ? ['-F'] : []), '-e', pattern, '.'];
  const rgTimes: number[] = [];
  let rgLines: string[] = [];
  const request = { pattern, regex: mode === 'regex', caseInsensitive: false, limit: Number.MAX_SAFE_INTEGER };
  // The daemon's way (verification on threads for many candidates) and one thread only, in turn with rg.
  const ourTimes: number[] = [];
  const inlineTimes: number[] = [];
  let ours = await index.searchContent(request);
  let inline = await index.searchContent(request, 'never');
  for (let i = 0; i < runs; i++) {
    const rg = await timeIt(async () => spawnSync('rg', rgArgs, { cwd: corpus, encoding: 'utf8', maxBuffer: 1 << 30 }));
    rgTimes.push(rg.ms);
    rgLines = rg.result.stdout.split('\n').filter(Boolean).map((line) => line.replace(/^\.\//, ''));
    const threaded = await timeIt(() => index.searchContent(request));
    ourTimes.push(threaded.ms);
    ours = threaded.result;
    const oneThread = await timeIt(() => index.searchContent(request, 'never'));
    inlineTimes.push(oneThread.ms);
    inline = oneThread.result;
  }
  const ourKeys = new Set(ours.matches.map((match) => `${match.path}:${match.line}`));
  const rgKeys = new Set(rgLines.map((line) => line.split(':').slice(0, 2).join(':')));
  // Both ways must give rg's hits, and the same answer in the same order.
  const identical = ourKeys.size === rgKeys.size && [...rgKeys].every((key) => ourKeys.has(key))
    && JSON.stringify(ours.matches) === JSON.stringify(inline.matches);
  allIdentical &&= identical;
  const rgP50 = percentile(rgTimes, 50);
  const p50 = percentile(ourTimes, 50);
  const inlineP50 = percentile(inlineTimes, 50);
  ratios[mode].push(rgP50 / p50);
  inlineRatios[mode].push(rgP50 / inlineP50);
  ourP50[mode].push(p50);
  log(`| ${mode} | \`${pattern.replaceAll('|', '\\|')}\` | ${rgP50.toFixed(0)} | ${p50.toFixed(1)} | ${percentile(ourTimes, 95).toFixed(1)} | ${(rgP50 / p50).toFixed(1)}× | ${inlineP50.toFixed(1)} | ${(rgP50 / inlineP50).toFixed(1)}× | ${ours.candidates} → ${ours.matchedFiles} | ${ours.matches.length} | ${identical ? 'yes' : `NO (rg ${rgKeys.size})`} |`);
}
const median = (values: number[]) => percentile(values, 50);
log('');
log(`- literal: median p50 ${median(ourP50.literal).toFixed(1)} ms, median speed-up ${median(ratios.literal).toFixed(1)}× over rg (one thread: ${median(inlineRatios.literal).toFixed(1)}×)`);
log(`- regex: median p50 ${median(ourP50.regex).toFixed(1)} ms, median speed-up ${median(ratios.regex).toFixed(1)}× over rg (one thread: ${median(inlineRatios.regex).toFixed(1)}×)`);
log(`- load average (1 min) at the end of the queries: ${os.loadavg()[0].toFixed(1)}`);
log(`- hit sets identical to rg: ${allIdentical ? 'all queries' : 'NOT all (see table)'}`);

// 3. Save → searchable through the watcher: write a fresh token into a scratch file, poll until it is found.
await index.watch();
const scratch = path.join(corpus, `codeloop-bench-scratch-${process.pid}.txt`);
const latencies: number[] = [];
try {
  for (let i = 0; i < 20; i++) {
    const token = `codeloopbenchtoken${i}x${Date.now()}`;
    const start = performance.now();
    fs.writeFileSync(scratch, `${token}\n`);
    for (;;) {
      if ((await index.searchContent({ pattern: token, regex: false, caseInsensitive: false, limit: 1 })).matches.length) break;
      if (performance.now() - start > 5000) throw new Error('save never became searchable');
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    latencies.push(performance.now() - start);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
} finally {
  fs.rmSync(scratch, { force: true });
}
log(`- save → searchable (watcher): p50 ${percentile(latencies, 50).toFixed(0)} ms, p95 ${percentile(latencies, 95).toFixed(0)} ms (20 saves)`);
log(`- bench process RSS after queries: ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MB`);
await index.close();
if (!values['keep-state']) fs.rmSync(stateHome, { recursive: true, force: true });
