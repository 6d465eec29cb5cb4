import { afterEach, describe, expect, it } from 'vitest';
import { startFakeModel } from '../fake-model/fake-model-server.js';
import { calcProject } from '../helpers/calc-project.js';
import { writeUserConfig } from '../helpers/model-config.js';
import { runCli, runCliAsync } from '../helpers/run-cli.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('codeloop sessions list|show (the transcript on a terminal)', () => {
  it('lists the sessions and prints one transcript: plan, tool calls, results, test runs, cost', async () => {
    const { root, state } = calcProject(cleanups);
    const fake = await startFakeModel([
      { kind: 'text', content: '1. Fix add in src/math.js' },
      { kind: 'tools', calls: [{ name: 'read_file', arguments: { path: 'src/math.js' } }] },
      { kind: 'tools', calls: [{ name: 'propose_edit', arguments: { path: 'src/math.js', blocks: [{ search: 'a - b', replace: 'a + b' }] } }] },
      { kind: 'tools', calls: [{ name: 'done', arguments: { summary: 'add adds' } }] },
    ]);
    cleanups.push(() => fake.close());
    writeUserConfig(state, { model: { baseURL: fake.baseURL, model: 'fake-model', maxRetries: 0, price: { input: 1, output: 2 } }, agent: { commandTimeoutSeconds: 30 } });

    const none = runCli(['sessions', 'list'], { cwd: root, stateHome: state });
    expect(none.status).toBe(2);
    expect(none.stderr).toContain('no sessions yet');

    const run = await runCliAsync(['run', '--json', '--yes', 'make add add'], { cwd: root, stateHome: state, env: { OPENAI_API_KEY: 'sk-x' } });
    expect(run.status, run.stderr).toBe(0);
    const { sessionId } = JSON.parse(run.stdout);

    const list = runCli(['sessions', 'list', root], { cwd: root, stateHome: state });
    expect(list.status, list.stderr).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`^${sessionId}\\s+applied\\s+.*make add add$`, 'm'));
    const elsewhere = runCli(['sessions', 'list', state], { cwd: root, stateHome: state });
    expect(elsewhere.stdout).toBe('no sessions\n');

    const show = runCli(['sessions', 'show', sessionId.slice(0, 8)], { cwd: root, stateHome: state });
    expect(show.status, show.stderr).toBe(0);
    const text = show.stdout;
    expect(text).toContain(`session ${sessionId}: applied`);
    expect(text).toContain('task (prompt): make add add');
    expect(text).toMatch(/tokens: \d+ prompt \+ \d+ completion; cost \$\d+\.\d{4}/);
    expect(text).toContain('plan\n    1. Fix add in src/math.js');
    expect(text).toMatch(/tool read_file \{"path":"src\/math.js"\}/);
    expect(text).toMatch(/result\n {4}src\/math.js \(lines 1-2 of 2\)\n {4}1: exports\.add = \(a, b\) => a - b;/);
    expect(text).toMatch(/tool propose_edit /);
    expect(text).toMatch(/tests passed in \d+\.\d s/);
    expect(text).toContain('proposal: src/math.js');
    // Order is the order things happened in.
    expect(text.indexOf('plan\n')).toBeLessThan(text.indexOf('tool read_file'));
    expect(text.indexOf('tool propose_edit')).toBeLessThan(text.indexOf('tests passed'));

    const json = JSON.parse(runCli(['sessions', 'show', sessionId, '--json'], { cwd: root, stateHome: state }).stdout);
    expect(json).toMatchObject({ sessionId, state: 'applied', plan: '1. Fix add in src/math.js' });
    expect(json.events.map((event: { type: string }) => event.type)).toEqual(expect.arrayContaining(['plan', 'toolCall', 'toolResult', 'testRun', 'proposal', 'done']));

    const missing = runCli(['sessions', 'show', 'no-such-session'], { cwd: root, stateHome: state });
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('no session "no-such-session": `codeloop sessions list` shows them');
    const usage = runCli(['sessions', 'remove', sessionId], { cwd: root, stateHome: state });
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain('sessions takes `list [DIR]`, `show ID`, `resume ID`, `pause ID`, `steer ID "MESSAGE"` (quote the message), `rewind ID [TURN]` or `revert ID`');
  });
});
