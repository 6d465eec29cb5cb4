import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeModel, type FakeModel, type FakeStep } from '../fake-model/fake-model-server.js';
import { calcProject } from '../helpers/calc-project.js';
import { writeUserConfig } from '../helpers/model-config.js';
import { runCli, runCliAsync } from '../helpers/run-cli.js';

const SECRET = 'sk-test-secret-never-logged';
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const project = () => calcProject(cleanups);

async function model(steps: FakeStep[], state: string, agent: Record<string, unknown> = {}, stream = true): Promise<FakeModel> {
  const fake = await startFakeModel(steps);
  cleanups.push(() => fake.close());
  writeUserConfig(state, {
    model: { baseURL: fake.baseURL, model: 'fake-model', maxRetries: 2, price: { input: 1, output: 2 }, stream },
    agent: { commandTimeoutSeconds: 30, ...agent },
  });
  return fake;
}

const edit = (search: string, replace: string) => ({ name: 'propose_edit', arguments: { path: 'src/math.js', blocks: [{ search, replace }] } });

describe('codeloop run (agent through the CLI, real openai SDK against a scripted endpoint)', () => {
  it('prints the verdict after the diff: the tests that still fail, the command, the last failure', async () => {
    const { root, state } = project();
    await model([{ kind: 'text', content: '1. Fix add' }, { kind: 'tools', calls: [edit('a - b', 'a * b')] }, { kind: 'tools', calls: [{ name: 'done', arguments: { summary: 'tried' } }] }], state, { maxRepairs: 0 });
    const result = await runCliAsync(['run', 'make the failing test pass'], { cwd: root, stateHome: state, env: { OPENAI_API_KEY: SECRET } });
    expect(result.stdout).toContain('+exports.add = (a, b) => a * b;');
    expect(result.stderr).toContain('tests (npm test): failed (exit 1)');
    expect(result.stderr).toMatch(/verdict: tests FAILED \(npm test\); the tests still fail after 0 repairs\nlast failure:\n(  .*\n)*  add\(2, 3\) should be 5, got 6\n/);
    expect(result.stderr).toContain('not applied; run again with --yes to apply without asking');
  });

  it('plans, edits, runs the failing tests, repairs, and applies with --yes', async () => {
    const { root, state } = project();
    const fake = await model([
      { kind: 'http', status: 429, headers: { 'retry-after': '0' } },
      { kind: 'text', content: '1. Read src/math.js\n2. Fix add\n3. Run the tests' },
      { kind: 'tools', calls: [{ name: 'read_file', arguments: { path: 'src/math.js' } }] },
      { kind: 'tools', calls: [edit('a - b', 'a * b')] },
      { kind: 'tools', calls: [{ name: 'done', arguments: { summary: 'add fixed' } }] },
      { kind: 'tools', calls: [{ name: 'propose_edit', arguments: '{"path": "src/math.js", "blocks": [' }] },
      { kind: 'tools', calls: [{ name: 'read_file', arguments: { path: '../../etc/passwd' } }, { name: 'no_such_tool', arguments: {} }] },
      { kind: 'text', content: 'I think it is fine now.' },
      { kind: 'tools', calls: [edit('a * b', 'a + b')] },
      { kind: 'tools', calls: [{ name: 'done', arguments: { summary: 'add now adds' } }] },
    ], state);
    const result = await runCliAsync(['run', '--json', '--yes', 'make the failing test pass'], { cwd: root, stateHome: state, env: { OPENAI_API_KEY: SECRET } });
    expect(result.status, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({ state: 'applied', testsPassed: true, iterations: 2, applied: ['src/math.js'], conflicts: [], summary: 'add now adds' });
    expect(report.plan).toContain('Fix add');
    expect(report.diff).toContain('-exports.add = (a, b) => a - b;');
    expect(report.diff).toContain('+exports.add = (a, b) => a + b;');
    expect(report.tokens.prompt).toBeGreaterThan(0);
    expect(report.costUsd).toBeGreaterThan(0);
    expect(fs.readFileSync(path.join(root, 'src/math.js'), 'utf8')).toBe('exports.add = (a, b) => a + b;\n');
    expect(execFileSync('node', ['test.js'], { cwd: root, encoding: 'utf8' })).toBe('ok\n');
    expect(fake.remaining()).toBe(0);

    // What went back to the model: the test failure, and corrective messages for each bad call.
    const toolResults = fake.requests.flatMap((request) => request.messages).filter((m) => m.role === 'tool').map((m) => String(m.content));
    expect(toolResults).toContainEqual(expect.stringContaining('not valid JSON'));
    expect(toolResults).toContainEqual(expect.stringContaining('outside the workspace'));
    expect(toolResults).toContainEqual(expect.stringContaining('unknown tool "no_such_tool"'));
    const userMessages = fake.requests.at(-1)!.messages.filter((m) => m.role === 'user').map((m) => String(m.content));
    expect(userMessages).toContainEqual(expect.stringContaining('add(2, 3) should be 5, got 6'));
    expect(userMessages).toContainEqual(expect.stringContaining('Continue with the tools'));
    expect(fake.requests[1].authorization).toBe(`Bearer ${SECRET}`);
    expect(fake.requests.every((request) => request.stream)).toBe(true); // answers assembled from SSE deltas

    // The key never reaches the state dir (sessions, transcripts, logs).
    const grep = spawnSync('grep', ['-rl', SECRET, state], { encoding: 'utf8' });
    expect(grep.status, grep.stderr).toBe(1); // 1: no file holds it
    expect(grep.stdout).toBe('');
  });

  it('leaves the files alone without --yes, and stops at the plan with --plan-only', async () => {
    const { root, state } = project();
    await model([
      { kind: 'text', content: '1. Fix add' },
      { kind: 'tools', calls: [edit('a - b', 'a + b')] },
      { kind: 'tools', calls: [{ name: 'done', arguments: { summary: 'fixed' } }] },
      { kind: 'text', content: '1. Only a plan' },
    ], state);
    const unapplied = await runCliAsync(['run', 'fix add'], { cwd: root, stateHome: state, env: { OPENAI_API_KEY: SECRET } });
    expect(unapplied.status, unapplied.stderr).toBe(0);
    expect(unapplied.stdout).toContain('+exports.add = (a, b) => a + b;');
    expect(unapplied.stderr).toContain('not applied; run again with --yes');
    expect(fs.readFileSync(path.join(root, 'src/math.js'), 'utf8')).toBe('exports.add = (a, b) => a - b;\n');

    const planOnly = await runCliAsync(['run', '--json', '--plan-only', 'fix add'], { cwd: root, stateHome: state, env: { OPENAI_API_KEY: SECRET } });
    expect(JSON.parse(planOnly.stdout)).toMatchObject({ state: 'cancelled', plan: '1. Only a plan', diff: null });
  });

  it('stops at the budget and says so, and reports an unreachable endpoint clearly', async () => {
    const { root, state } = project();
    await model([
      { kind: 'text', content: '1. Loop' },
      ...Array.from({ length: 5 }, () => ({ kind: 'tools' as const, calls: [{ name: 'list_files', arguments: {} }] })),
    ], state, { maxTurns: 4 });
    const budget = await runCliAsync(['run', '--json', 'loop forever'], { cwd: root, stateHome: state, env: { OPENAI_API_KEY: SECRET } });
    expect(JSON.parse(budget.stdout)).toMatchObject({ state: 'failed', error: expect.stringContaining('budget is spent (4 turns)') });

    writeUserConfig(state, { model: { baseURL: 'http://127.0.0.1:9/v1', maxRetries: 0 } });
    const unreachable = await runCliAsync(['run', '--json', 'anything'], { cwd: root, stateHome: state, env: { OPENAI_API_KEY: SECRET } });
    expect(JSON.parse(unreachable.stdout)).toMatchObject({ state: 'failed', error: expect.stringContaining('cannot reach the model endpoint http://127.0.0.1:9/v1') });
  });

  it('codeloop doctor reports the endpoint, the key, the sandbox and the index', async () => {
    const { root, state } = project();
    await model([], state);
    const healthy = await runCliAsync(['doctor', '--json'], { cwd: root, stateHome: state, env: { OPENAI_API_KEY: SECRET } });
    const checks = Object.fromEntries(JSON.parse(healthy.stdout).checks.map((c: any) => [c.name, c]));
    expect(checks['model endpoint']).toMatchObject({ ok: true, detail: expect.stringContaining('model fake-model is listed') });
    expect(checks['model key']).toMatchObject({ ok: true });
    expect(checks.sandbox.detail).toMatch(/bubblewrap|NO filesystem isolation/);
    expect(runCli(['index', root], { stateHome: state }).status).toBe(0);
    const indexed = await runCliAsync(['doctor', '--json'], { cwd: root, stateHome: state, env: { OPENAI_API_KEY: SECRET } });
    const watching = JSON.parse(indexed.stdout).checks.find((c: any) => c.name === 'file watching');
    expect(watching).toMatchObject({ ok: true, detail: expect.stringMatching(/^\d+ folders to watch, the system allows \d+ watches$/) });
    writeUserConfig(state, { model: { baseURL: 'https://api.example.invalid/v1' } });
    const broken = await runCliAsync(['doctor'], { cwd: root, stateHome: state, env: { OPENAI_API_KEY: '' } });
    expect(broken.status).toBe(1);
    expect(broken.stdout).toMatch(/FAIL model key +set OPENAI_API_KEY/);
    expect(broken.stdout).not.toContain(SECRET);
  });

  it('auto-applies a small proposal under the configured rules, and takes unified-diff edits (no streaming)', async () => {
    const { root, state } = project();
    const fake = await model([
      { kind: 'text', content: '1. Patch add' },
      { kind: 'tools', calls: [{ name: 'propose_edit', arguments: { path: 'src/math.js', patch: '--- a/src/math.js\n+++ b/src/math.js\n@@ -1 +1 @@\n-exports.add = (a, b) => a - b;\n+exports.add = (a, b) => a + b;\n' } }] },
      { kind: 'tools', calls: [{ name: 'run_command', arguments: { command: 'curl http://example.com' } }] },
      { kind: 'tools', calls: [{ name: 'done', arguments: { summary: 'patched' } }] },
    ], state, { autoApply: { maxChangedLines: 5, protectedGlobs: [] }, allowedCommands: ['npm run lint'] }, false);
    const result = await runCliAsync(['run', 'fix add'], { cwd: root, stateHome: state, env: { OPENAI_API_KEY: SECRET } });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toContain('auto-applying (2 changed lines, no protected file)');
    expect(result.stderr).toMatch(/session \w+: applied/);
    expect(fs.readFileSync(path.join(root, 'src/math.js'), 'utf8')).toBe('exports.add = (a, b) => a + b;\n');
    expect(fake.requests.some((request) => request.stream)).toBe(false);
  });

  it('runs the reviewer pass when configured: its findings go back to work before the tests', async () => {
    const { root, state } = project();
    const fake = await model([
      { kind: 'text', content: '1. Fix add' },
      { kind: 'tools', calls: [edit('a - b', 'a+b')] },
      { kind: 'tools', calls: [{ name: 'done', arguments: { summary: 'fixed' } }] },
      { kind: 'text', content: 'Spacing: write `a + b` like the rest of the file.' },
      { kind: 'tools', calls: [edit('a+b', 'a + b')] },
      { kind: 'tools', calls: [{ name: 'done', arguments: { summary: 'fixed, spaced' } }] },
    ], state, { review: true });
    const result = await runCliAsync(['run', '--json', '--yes', 'fix add'], { cwd: root, stateHome: state, env: { OPENAI_API_KEY: SECRET } });
    expect(JSON.parse(result.stdout)).toMatchObject({ state: 'applied', testsPassed: true, iterations: 1, summary: 'fixed, spaced' });
    expect(fs.readFileSync(path.join(root, 'src/math.js'), 'utf8')).toBe('exports.add = (a, b) => a + b;\n');
    const reviewRequest = fake.requests[3].messages.at(-1)!;
    expect(String(reviewRequest.content)).toContain('-exports.add = (a, b) => a - b;');
    expect(JSON.stringify(fake.requests[4].messages)).toContain('A review of your change found problems');
  });
});
