import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeModel, type FakeStep } from '../fake-model/fake-model-server.js';
import { calcProject } from '../helpers/calc-project.js';
import { writeUserConfig } from '../helpers/model-config.js';
import { runCli, runCliAsync } from '../helpers/run-cli.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const MATH = 'exports.add = (a, b) => a - b;\nexports.sub = (a, b) => a - b;\n';
const FIXED = 'exports.add = (a, b) => a + b;\nexports.sub = (a, b) => a - b;\n';
const NOTES = '# notes\nadd adds now\n';

const plan: FakeStep = { kind: 'text', content: '1. Fix add\n2. Write notes' };
const fixAdd: FakeStep = { kind: 'tools', calls: [{ name: 'propose_edit', arguments: { path: 'src/math.js', blocks: [{ search: '(a, b) => a - b;\nexports.sub', replace: '(a, b) => a + b;\nexports.sub' }] } }] };
const readMath: FakeStep = { kind: 'tools', calls: [{ name: 'read_file', arguments: { path: 'src/math.js' } }] };
const writeNotes: FakeStep = { kind: 'tools', calls: [{ name: 'propose_edit', arguments: { path: 'NOTES.md', content: NOTES } }] };
const done: FakeStep = { kind: 'tools', calls: [{ name: 'done', arguments: { summary: 'add adds' } }] };

async function setup(steps: FakeStep[]) {
  const { root, state } = calcProject(cleanups, { 'src/math.js': MATH });
  const fake = await startFakeModel(steps);
  cleanups.push(() => fake.close());
  writeUserConfig(state, { model: { baseURL: fake.baseURL, model: 'fake-model', maxRetries: 0 }, agent: { commandTimeoutSeconds: 30 } });
  const cli = (args: string[]) => runCli(['sessions', ...args], { cwd: root, stateHome: state });
  const run = async (args: string[]) => {
    const result = await runCliAsync(['run', '--json', ...args, 'fix add and write notes'], { cwd: root, stateHome: state, env: { OPENAI_API_KEY: 'sk-x' } });
    expect(result.status, result.stderr).toBe(0);
    return JSON.parse(result.stdout) as { sessionId: string; state: string };
  };
  return { root, state, fake, cli, run };
}

describe('codeloop sessions rewind (checkpoints of the turns that changed the workspace)', () => {
  it('show lists each turn with the files it changed; rewind drops the later turns and the proposal and leaves the session waiting', async () => {
    const { cli, run } = await setup([plan, fixAdd, readMath, writeNotes, done]);
    const { sessionId, state } = await run([]);
    expect(state).toBe('awaitingApproval');

    const show = cli(['show', sessionId]);
    expect(show.status, show.stderr).toBe(0);
    expect(show.stdout).toContain(`checkpoints (\`codeloop sessions rewind ${sessionId} TURN\` goes back to one):\n`
      + '  turn 0    (no file changes)\n'
      + '  turn 1    (no file changes)\n'
      + '  turn 2    src/math.js\n'
      + '  turn 3    (no file changes)\n'
      + '  turn 4    NOTES.md\n');
    const detail = JSON.parse(cli(['show', sessionId, '--json']).stdout);
    expect(detail.checkpoints.map((checkpoint: { turn: number; files: string[] }) => [checkpoint.turn, checkpoint.files]))
      .toEqual([[0, []], [1, []], [2, ['src/math.js']], [3, []], [4, ['NOTES.md']]]);

    // Without a turn: one step back, over the newest turn that changed files (turn 4 wrote NOTES.md).
    const stepped = cli(['rewind', sessionId.slice(0, 6)]);
    expect(stepped.status, stepped.stderr).toBe(0);
    expect(stepped.stdout).toBe(`rewound session ${sessionId} to turn 3 (undoing NOTES.md); it waits (interrupted) until you resume it\n`);
    expect(cli(['show', sessionId]).stdout).not.toContain('  turn 4 ');

    const rewound = cli(['rewind', sessionId, '2']);
    expect(rewound.status, rewound.stderr).toBe(0);
    expect(rewound.stdout).toBe(`rewound session ${sessionId} to turn 2; it waits (interrupted) until you resume it\n`);
    expect(JSON.parse(cli(['rewind', sessionId, '2', '--json']).stdout)).toMatchObject({ sessionId, state: 'interrupted', turn: 2, undone: [] });
    const after = cli(['show', sessionId]);
    expect(after.stdout).toContain(`session ${sessionId}: interrupted`);
    expect(after.stdout).toContain('message: rewound to turn 2; resume it to go on from there');
    expect(after.stdout).toContain('  turn 2    src/math.js\n');
    expect(after.stdout).not.toContain('  turn 3 ');
    const afterJson = JSON.parse(cli(['show', sessionId, '--json']).stdout);
    expect(afterJson).toMatchObject({ state: 'interrupted', proposal: null, diff: null });

    // A turn that is gone, and a turn that is not a number.
    const gone = cli(['rewind', sessionId, '4']);
    expect(gone.status).toBe(2);
    expect(gone.stderr).toContain(`session ${sessionId} has no checkpoint at turn 4; it can be rewound to turn 0, 1, 2`);
    const notANumber = cli(['rewind', sessionId, 'last']);
    expect(notANumber.status).toBe(2);
    expect(notANumber.stderr).toContain(`TURN must be a turn number that \`codeloop sessions show ${sessionId}\` lists (got "last")`);
    // One step back again undoes turn 2; then nothing changed is left to step over.
    expect(cli(['rewind', sessionId]).stdout).toContain('to turn 1 (undoing src/math.js);');
    expect(cli(['show', sessionId]).stdout).toMatch(/checkpoints .*\n {2}turn 0 {4}\(no file changes\)\n {2}turn 1 {4}\(no file changes\)\n$/);
    const nothing = cli(['rewind', sessionId]);
    expect(nothing.status).toBe(2);
    expect(nothing.stderr).toContain(`session ${sessionId} changed no file at any checkpoint, so there is no step to go back over; name a turn to rewind to`);
  });

  it('one step back from a proposal whose last turn edited and finished at once undoes that turn', async () => {
    const { cli, run } = await setup([plan, fixAdd, { kind: 'tools', calls: [...writeNotes.calls, ...done.calls] } as FakeStep]);
    const { sessionId, state } = await run([]);
    expect(state).toBe('awaitingApproval');
    const stepped = cli(['rewind', sessionId]);
    expect(stepped.stdout, stepped.stderr).toBe(`rewound session ${sessionId} to turn 2 (undoing NOTES.md); it waits (interrupted) until you resume it\n`);
  });

  it('refuses to rewind a session that has ended, and names what can be rewound', async () => {
    const { cli, run } = await setup([plan, fixAdd, done]);
    const { sessionId, state } = await run(['--yes']);
    expect(state).toBe('applied');
    const refused = cli(['rewind', sessionId, '1']);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain(`session ${sessionId} is applied; only a session that is interrupted or has a proposal waiting can be rewound`);
  });
});

describe('codeloop sessions revert (the inverse of an applied proposal, written to disk)', () => {
  it('reverts the files nobody touched, reports a file edited since where the revert would change it, and finishes once that is resolved', async () => {
    const { root, cli, run } = await setup([plan, fixAdd, writeNotes, done]);
    const { sessionId, state } = await run(['--yes']);
    expect(state).toBe('applied');
    const math = path.join(root, 'src/math.js');
    expect(fs.readFileSync(math, 'utf8')).toBe(FIXED);
    expect(fs.readFileSync(path.join(root, 'NOTES.md'), 'utf8')).toBe(NOTES);

    // The user changed the line the proposal changed, and added a line elsewhere.
    fs.writeFileSync(math, 'exports.add = (a, b) => b + a;\nexports.sub = (a, b) => a - b;\nexports.mul = (a, b) => a * b;\n');
    const conflicted = cli(['revert', sessionId]);
    expect(conflicted.status).toBe(1);
    expect(conflicted.stdout).toBe(`reverted NOTES.md\nsession ${sessionId}: applied\n`);
    expect(conflicted.stderr).toBe('not reverted (the rest is; run it again once these are resolved):\n'
      + "  src/math.js: the revert's change to line 1 conflicts with your edit, now line 1\n");
    expect(fs.existsSync(path.join(root, 'NOTES.md'))).toBe(false);
    expect(fs.readFileSync(math, 'utf8')).toBe('exports.add = (a, b) => b + a;\nexports.sub = (a, b) => a - b;\nexports.mul = (a, b) => a * b;\n');

    // Resolved: the line is as applied again; the user's other line stays through the revert.
    fs.writeFileSync(math, `${FIXED}exports.mul = (a, b) => a * b;\n`);
    const reverted = cli(['revert', sessionId, '--json']);
    expect(reverted.status, reverted.stderr).toBe(0);
    expect(JSON.parse(reverted.stdout)).toEqual({ sessionId, state: 'reverted', reverted: ['NOTES.md', 'src/math.js'], conflicts: [] });
    expect(fs.readFileSync(math, 'utf8')).toBe(`${MATH}exports.mul = (a, b) => a * b;\n`);
    expect(cli(['show', sessionId]).stdout).toContain(`session ${sessionId}: reverted`);

    const again = cli(['revert', sessionId]);
    expect(again.status).toBe(2);
    expect(again.stderr).toContain(`session ${sessionId} is reverted; only an applied proposal can be reverted`);
  });

  it('leaves a file the user deleted since the apply, and one recreated where the proposal created it', async () => {
    const { root, cli, run } = await setup([plan, fixAdd, writeNotes, done]);
    const { sessionId } = await run(['--yes']);
    fs.rmSync(path.join(root, 'src/math.js'));
    fs.writeFileSync(path.join(root, 'NOTES.md'), 'my own notes\n');
    const refused = cli(['revert', sessionId]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('  src/math.js: the file was deleted since it was applied\n');
    expect(refused.stderr).toContain('  NOTES.md: the revert deletes it, but you changed it since it was applied\n');
    expect(fs.readFileSync(path.join(root, 'NOTES.md'), 'utf8')).toBe('my own notes\n');
    expect(cli(['show', sessionId]).stdout).toContain(`session ${sessionId}: applied`);
  });
});
