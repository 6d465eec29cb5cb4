/**
 * Context benchmark: `npm run bench:context [-- --cli PATH --before --windows 8192,16384]`.
 * Runs two scripted sessions through `codeloop run` against the scripted model with a real context window
 * (refusing over-long prompts as OpenAI does), at windows of 8k, 16k, 32k and 128k tokens:
 * - exploratory: 25 reads of ≈12 KB files, one edit, the tests, done;
 * - multi-file: a search, reads of 6 files of ≈12 KB, a rename across 4 of them, the tests, done.
 * For each: completed or not, requests, prompt tokens per request (largest as a share of the window) and in
 * total, compactions. `--cli` runs another build (e.g. main's, for "before"); `--before` leaves
 * `model.contextWindow` out of the config (older builds refuse the key).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SUMMARY_REQUEST } from '../server/agent/prompts.js';
import { SessionStore } from '../server/agent/session-store.js';
import { promptTokens } from '../test/fake-model/endpoint-quirks.js';
import { startFakeModel, type FakeStep } from '../test/fake-model/fake-model-server.js';

const { values } = parseArgs({ options: { cli: { type: 'string' }, before: { type: 'boolean', default: false }, windows: { type: 'string' } } });
const CLI = values.cli ? path.resolve(values.cli) : path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../server/cli.js');
const WINDOWS = (values.windows ?? '8192,16384,32768,131072').split(',').map(Number);

/** A JavaScript module of ≈12 KB (230 one-line functions); `extra` lines go in the middle. */
function bigModule(name: string, extra: string[] = []): string {
  const lines = [`// ${name}: helpers for the inventory report`];
  for (let i = 1; i <= 230; i++) {
    lines.push(`function ${name}_${String(i).padStart(3, '0')}(value) { return value * ${i} + ${name.length}; }`);
    if (i === 115) lines.push(...extra);
  }
  lines.push(`Object.assign(module.exports, { ${name}_001, ${name}_230 });`);
  return `${lines.join('\n')}\n`;
}

interface Scenario {
  name: string;
  task: string;
  files: Record<string, string>;
  steps: FakeStep[];
}

const read = (file: string): FakeStep => ({ kind: 'tools', calls: [{ name: 'read_file', arguments: { path: file } }] });
const done: FakeStep = { kind: 'tools', calls: [{ name: 'done', arguments: { summary: 'done' } }] };
const runTests: FakeStep = { kind: 'tools', calls: [{ name: 'run_tests', arguments: {} }] };

function exploratory(): Scenario {
  const files: Record<string, string> = {
    'package.json': JSON.stringify({ name: 'inventory', scripts: { test: 'node test.js' } }),
    'test.js': "const { total } = require('./src/module25');\nif (total(2, 3) !== 5) { console.error('total(2, 3) should be 5'); process.exit(1); }\nconsole.log('ok');\n",
  };
  for (let i = 1; i <= 25; i++) {
    const name = `module${String(i).padStart(2, '0')}`;
    files[`src/${name}.js`] = bigModule(name, i === 25 ? ['function total(a, b) { return a - b; }', 'module.exports.total = total;'] : []);
  }
  const steps: FakeStep[] = [{ kind: 'text', content: '1. Read every module\n2. Fix total\n3. Run the tests' }];
  for (let i = 1; i <= 25; i++) steps.push(read(`src/module${String(i).padStart(2, '0')}.js`));
  steps.push({ kind: 'tools', calls: [{ name: 'propose_edit', arguments: { path: 'src/module25.js', blocks: [{ search: 'return a - b;', replace: 'return a + b;' }] } }] });
  steps.push(runTests, done);
  return { name: 'exploratory (25 reads, 1 edit)', task: 'make total add', files, steps };
}

function multiFile(): Scenario {
  const users = ['report', 'invoice', 'ledger', 'summary'];
  const files: Record<string, string> = {
    'package.json': JSON.stringify({ name: 'books', scripts: { test: 'node test.js' } }),
    'src/format.js': bigModule('format', ['function formatTotal(n) { return n.toFixed(2); }', 'module.exports.formatTotal = formatTotal;']),
    'src/helpers.js': bigModule('helpers'),
    'test.js': `${users.map((u) => `const ${u} = require('./src/${u}');`).join('\n')}\nconst format = require('./src/format');\n`
      + "if (typeof format.formatAmount !== 'function' || format.formatTotal) { console.error('formatTotal should be renamed formatAmount'); process.exit(1); }\n"
      + `${users.map((u) => `if (${u}.show(1) !== '1.00') { console.error('${u}.show broken'); process.exit(1); }`).join('\n')}\nconsole.log('ok');\n`,
  };
  for (const user of users) {
    files[`src/${user}.js`] = bigModule(user, [`const { formatTotal } = require('./format');`, `module.exports.show = (n) => formatTotal(n);`]);
  }
  const rename = (file: string, search: string, replace: string): FakeStep => ({ kind: 'tools', calls: [{ name: 'propose_edit', arguments: { path: file, blocks: [{ search, replace }] } }] });
  const steps: FakeStep[] = [
    { kind: 'text', content: '1. Find formatTotal\n2. Rename it everywhere\n3. Run the tests' },
    { kind: 'tools', calls: [{ name: 'search_code', arguments: { query: 'formatTotal' } }] },
    read('src/format.js'), read('src/helpers.js'), ...users.map((user) => read(`src/${user}.js`)),
    rename('src/format.js', 'function formatTotal(n) { return n.toFixed(2); }\nmodule.exports.formatTotal = formatTotal;', 'function formatAmount(n) { return n.toFixed(2); }\nmodule.exports.formatAmount = formatAmount;'),
    ...users.map((user) => rename(`src/${user}.js`, "const { formatTotal } = require('./format');\nmodule.exports.show = (n) => formatTotal(n);", "const { formatAmount } = require('./format');\nmodule.exports.show = (n) => formatAmount(n);")),
    runTests, done,
  ];
  return { name: 'multi-file (6 reads, rename in 5 files)', task: 'rename formatTotal to formatAmount', files, steps };
}

interface Outcome {
  scenario: string;
  window: number;
  state: string;
  completed: boolean;
  requests: number;
  refused: number;
  totalPromptTokens: number;
  largestRequest: number;
  medianRequest: number;
  compactions: number;
  error: string | null;
}

function runCli(args: string[], cwd: string, state: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd, env: { ...process.env, XDG_STATE_HOME: state, XDG_CONFIG_HOME: path.join(state, 'config'), OPENAI_API_KEY: 'bench' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

async function measure(scenario: Scenario, window: number): Promise<Outcome> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'codeloop-context-bench-'));
  const state = fs.mkdtempSync(path.join(os.tmpdir(), 'codeloop-context-state-'));
  for (const [relative, text] of Object.entries(scenario.files)) {
    fs.mkdirSync(path.dirname(path.join(root, relative)), { recursive: true });
    fs.writeFileSync(path.join(root, relative), text);
  }
  const queue = [...scenario.steps];
  const sizes: number[] = [];
  // The summary request before a compaction is answered without using up a scripted step.
  const fake = await startFakeModel((messages) => {
    const last = messages.at(-1);
    if (last?.role === 'user' && String(last.content) === SUMMARY_REQUEST) {
      return { kind: 'text', content: 'Read the modules so far; each holds 230 small numeric helpers. Nothing else matters for the task yet.' };
    }
    return queue.shift();
  }, {}, { tokens: window });
  try {
    fs.mkdirSync(path.join(state, 'config', 'codeloop'), { recursive: true });
    fs.writeFileSync(path.join(state, 'config', 'codeloop', 'config.json'), JSON.stringify({
      model: { baseURL: fake.baseURL, model: 'fake-model', maxRetries: 0, ...(values.before ? {} : { contextWindow: window }) },
      agent: { maxTurns: 60, maxTokens: 10_000_000, maxCostUsd: 0, commandTimeoutSeconds: 60 },
    }));
    const result = await runCli(['run', '--json', '--yes', scenario.task], root, state);
    let report: { state: string; testsPassed: boolean | null; error: string | null; sessionId: string };
    try {
      report = JSON.parse(result.stdout);
    } catch {
      throw new Error(`codeloop run printed no report (exit ${result.status}): ${result.stderr.slice(-2000)}`);
    }
    for (const request of fake.requests) sizes.push(promptTokens({ messages: request.messages, tools: request.tools }, {}));
    const store = new SessionStore(path.join(state, 'sessions.db'));
    const compactions = store.events(report.sessionId).filter((event) => (event.data as { compaction?: unknown }).compaction !== undefined).length;
    store.close();
    const sorted = [...sizes].sort((a, b) => a - b);
    return {
      scenario: scenario.name, window, state: report.state, completed: report.state === 'applied' && report.testsPassed === true,
      requests: sizes.length, refused: sizes.filter((size) => size > window).length,
      totalPromptTokens: sizes.reduce((sum, size) => sum + size, 0), largestRequest: sorted.at(-1) ?? 0,
      medianRequest: sorted[Math.floor(sorted.length / 2)] ?? 0, compactions, error: report.error,
    };
  } finally {
    await fake.close();
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(state, { recursive: true, force: true });
  }
}

const rows: Outcome[] = [];
for (const scenario of [exploratory(), multiFile()]) {
  for (const window of WINDOWS) {
    const outcome = await measure(scenario, window);
    rows.push(outcome);
    process.stderr.write(`${outcome.scenario} @ ${window}: ${outcome.state}\n`);
  }
}
process.stdout.write('| scenario | window | completed | requests (refused) | prompt tokens total | median / largest request | largest / window | compactions |\n');
process.stdout.write('|---|---|---|---|---|---|---|---|\n');
for (const row of rows) {
  process.stdout.write(`| ${row.scenario} | ${row.window} | ${row.completed ? 'yes' : `no: ${row.state}${row.error ? ` (${row.error.slice(0, 120)})` : ''}`} | ${row.requests} (${row.refused}) | ${row.totalPromptTokens} | `
    + `${row.medianRequest} / ${row.largestRequest} | ${Math.round((100 * row.largestRequest) / row.window)} % | ${row.compactions} |\n`);
}
