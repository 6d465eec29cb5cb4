/**
 * Session start benchmark: `npm run bench:session-start -- TREE [--name NAME] [--runs N] [--concurrent K]
 * [--kinds copy,overlay] [--index]`.
 * In a private state folder, starts agent sessions on TREE (in this process, as the daemon does) against a local
 * model endpoint that answers at once, and measures per shadow kind: the time from `start` to the session's first
 * model request (p50/p95 of N sequential sessions, then K sessions started together), and how much the state
 * folder grew by then. Then, in one more shadow of each kind, what it holds after the agent changes 3 files and a
 * test writes 1 MiB of build output, next to those bytes. `--index` builds the workspace index first (the repo
 * map in the first request then comes from a real index; without it the index is empty).
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { AgentConfigSchema, IndexConfigSchema, ModelConfigSchema } from '../protocol/config.js';
import { AgentService } from '../server/agent/agent-service.js';
import { SessionStore } from '../server/agent/session-store.js';
import { WorkspaceIndex } from '../server/index/workspace-index.js';
import { ModelClient } from '../server/model/model-client.js';
import { runCommand } from '../server/sandbox/command-runner.js';
import { chooseShadowStrategy, type ShadowKind } from '../server/sandbox/shadow-strategy.js';
import { ShadowWorkspace } from '../server/sandbox/shadow-workspace.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { name: { type: 'string' }, runs: { type: 'string' }, concurrent: { type: 'string' }, kinds: { type: 'string' }, index: { type: 'boolean' } },
});
if (!positionals[0]) {
  process.stderr.write('usage: npm run bench:session-start -- TREE [--name NAME] [--runs N] [--concurrent K] [--kinds copy,overlay] [--index]\n');
  process.exit(2);
}
const tree = fs.realpathSync(positionals[0]);
const runs = Number(values.runs ?? 5);
const concurrent = Number(values.concurrent ?? 5);
const kinds = (values.kinds ?? 'copy,overlay').split(',') as ShadowKind[];
const state = fs.mkdtempSync(path.join(os.tmpdir(), 'codeloop-session-bench-'));
process.env.XDG_STATE_HOME = state;
const shadowsDir = path.join(state, 'codeloop', 'shadows');

const percentile = (samples: number[], p: number) => [...samples].sort((a, b) => a - b)[Math.min(samples.length - 1, Math.floor((p / 100) * samples.length))];
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

/** Disk space a folder takes (allocated blocks, links not followed). */
function diskUsage(dir: string): number {
  let total = 0;
  const walk = (folder: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(folder, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const full = path.join(folder, entry.name);
      try {
        total += fs.lstatSync(full).blocks * 512;
      } catch {
        continue;
      }
      if (entry.isDirectory()) walk(full);
    }
  };
  walk(dir);
  return total;
}

/** A model endpoint that answers every request at once with a plan, noting when each request arrived. */
const arrivals: number[] = [];
const server = http.createServer((request, response) => {
  arrivals.push(performance.now());
  request.resume();
  request.on('end', () => {
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify({
      id: 'bench', object: 'chat.completion', created: 0, model: 'bench',
      choices: [{ index: 0, message: { role: 'assistant', content: '1. A plan' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
    }));
  });
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const port = (server.address() as { port: number }).port;

const model = new ModelClient(ModelConfigSchema.parse({ baseURL: `http://127.0.0.1:${port}/v1`, model: 'bench', stream: false, maxRetries: 0 }));
process.env.OPENAI_API_KEY ??= 'bench';
const index = WorkspaceIndex.open(tree, IndexConfigSchema.parse({ stateDir: path.join(os.tmpdir(), `codeloop-session-bench-index-${process.pid}`) }));
if (values.index) {
  const started = performance.now();
  const summary = await index.sync();
  process.stdout.write(`index: ${summary.added} files in ${((performance.now() - started) / 1000).toFixed(1)} s (not part of the times below)\n`);
}
const store = new SessionStore(path.join(state, 'codeloop', 'sessions.db'));
const agent = new AgentService(store, shadowsDir, () => undefined);
const workspace = { root: tree, index, unsavedBuffers: () => new Map<string, string>() };

/** Starts `count` sessions at once; resolves with each one's time to its first model request and the state growth then. */
async function startSessions(kind: ShadowKind, count: number): Promise<{ times: number[]; growth: number }> {
  const config = AgentConfigSchema.parse({ shadow: kind });
  const before = diskUsage(state);
  const seen = arrivals.length;
  const started = performance.now();
  const sessions = Array.from({ length: count }, () => agent.start(workspace, config, model, { prompt: 'rename a function', kind: 'prompt' }));
  const settled = await Promise.all(sessions.map((session) => agent.nextSettle(session.sessionId)));
  const failed = settled.find((session) => session.state === 'failed');
  if (failed) throw new Error(`a session failed: ${failed.error}`);
  const times = arrivals.slice(seen, seen + count).map((arrival) => arrival - started);
  const growth = diskUsage(state) - before;
  for (const session of sessions) agent.cancel(session.sessionId);
  // Cancelled sessions' layers are removed in the background; the next measurement starts from a clean state.
  const deadline = Date.now() + 600_000;
  while (fs.readdirSync(shadowsDir).length && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  return { times, growth };
}

/** One shadow of `kind` after the agent changed 3 files and a test wrote 1 MiB: what it holds against those bytes. */
async function growthAfterWork(kind: ShadowKind): Promise<{ held: number; changed: number; testWrote: number }> {
  const strategy = chooseShadowStrategy(kind, shadowsDir);
  const dir = path.join(shadowsDir, `work-${kind}`);
  const shadow = new ShadowWorkspace(tree, dir, new Map(), strategy, { home: os.homedir(), hiddenHomePaths: [] });
  await shadow.ready;
  const texts = ['a', 'b', 'c'].map((name) => `// changed by the agent: ${name}\n`.repeat(200));
  texts.forEach((text, i) => shadow.write(`codeloop-bench/changed-${i}.txt`, text));
  const changed = texts.reduce((sum, text) => sum + Buffer.byteLength(text), 0);
  const result = await runCommand('mkdir -p codeloop-bench-build && head -c 1048576 /dev/zero > codeloop-bench-build/out.bin', shadow.sandbox(), shadow.commandEnvironment());
  if (result.exitCode !== 0) throw new Error(`the test command failed: ${result.output}`);
  const held = diskUsage(dir);
  await shadow.remove();
  return { held, changed, testWrote: 1024 * 1024 };
}

const name = values.name ?? path.basename(tree);
process.stdout.write(`tree ${name}: ${tree} (${mib(diskUsage(tree))} on disk)\n\n`);
process.stdout.write(`| shadow | sessions | first request p50 ms | p95 ms | max ms | state growth by then | held after 3 edits + 1 MiB test output |\n|---|---|---|---|---|---|---|\n`);
for (const kind of kinds) {
  const sequential: number[] = [];
  let growth = 0;
  for (let run = 0; run < runs; run++) {
    const outcome = await startSessions(kind, 1);
    sequential.push(...outcome.times);
    growth = outcome.growth;
  }
  const work = await growthAfterWork(kind);
  const heldText = `${mib(work.held)} (changed ${(work.changed / 1024).toFixed(1)} KiB + test ${mib(work.testWrote)})`;
  process.stdout.write(`| ${kind} | 1 × ${runs} | ${percentile(sequential, 50).toFixed(0)} | ${percentile(sequential, 95).toFixed(0)} | ${Math.max(...sequential).toFixed(0)} | ${mib(growth)} | ${heldText} |\n`);
  if (concurrent > 1) {
    const together = await startSessions(kind, concurrent);
    process.stdout.write(`| ${kind} | ${concurrent} at once | ${percentile(together.times, 50).toFixed(0)} | ${percentile(together.times, 95).toFixed(0)} | ${Math.max(...together.times).toFixed(0)} | ${mib(together.growth)} | |\n`);
  }
}
store.close();
await index.close();
server.close();
fs.rmSync(state, { recursive: true, force: true });
fs.rmSync(path.join(os.tmpdir(), `codeloop-session-bench-index-${process.pid}`), { recursive: true, force: true });
