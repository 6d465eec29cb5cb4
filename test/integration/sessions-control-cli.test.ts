import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeModel, type FakeStep } from '../fake-model/fake-model-server.js';
import { CALC_FILES, calcProject } from '../helpers/calc-project.js';
import { editorOnDaemon } from '../helpers/daemon-world.js';
import { writeUserConfig } from '../helpers/model-config.js';
import { CLI_PATH, runCli, runCliAsync } from '../helpers/run-cli.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const plan: FakeStep = { kind: 'text', content: '1. Fix add' };
const edit: FakeStep = { kind: 'tools', calls: [{ name: 'propose_edit', arguments: { path: 'src/math.js', blocks: [{ search: 'a - b', replace: 'a + b' }] } }] };
const done: FakeStep = { kind: 'tools', calls: [{ name: 'done', arguments: { summary: 'add adds' } }] };
const INTERRUPTED_NOTE = 'interrupted and has now been resumed';

function agentConfig(baseURL: string) {
  return {
    model: { baseURL, model: 'fake', maxRetries: 0, toolCalls: 'native' },
    agent: { autoApprovePlan: true, commandTimeoutSeconds: 30, allowedCommands: ['sleep'] },
  };
}

describe('codeloop sessions resume|pause|steer', () => {
  it('through a running daemon: steer and pause a session at work, resume it; a wrong state is refused in words a user can act on', { timeout: 180_000 }, async () => {
    // The command runs long enough for the steer and the pause to land while it does: each is a CLI process, whose
    // Node start took up to 4 s at a load of 14 (with `sleep 2` the session proposed first, and never paused).
    const fake = await startFakeModel([plan, { kind: 'tools', calls: [{ name: 'run_command', arguments: { command: 'sleep 12' } }] }, edit, done]);
    cleanups.push(() => fake.close());
    const world = await editorOnDaemon(CALC_FILES, 'control-test', agentConfig(fake.baseURL));
    cleanups.push(() => world.close());
    const cli = (...args: string[]) => runCli(['sessions', ...args], { cwd: world.root, stateHome: world.state, env: world.env });
    const uri = pathToFileURL(path.join(fs.realpathSync(world.root), 'src/math.js')).href;
    const { sessionId } = await world.editor.connection.sendRequest<any>('codeloop/startTask', { prompt: 'fix add', uri });
    await world.editor.waitForNotification('codeloop/sessionUpdate', (p) => p.sessionId === sessionId && p.event.type === 'toolCall', 60_000);

    const steered = cli('steer', sessionId, 'keep the arrow function');
    expect(steered.stderr).toBe('');
    expect(steered.stdout).toBe(`sent to session ${sessionId}: the model reads it at its next turn (\`codeloop sessions show ${sessionId}\` shows it)\n`);
    // A unique prefix of the id names the session, as in `sessions show`.
    const paused = cli('pause', sessionId.slice(0, 4));
    expect(paused.stdout).toBe(`session ${sessionId} pauses at its next step; \`codeloop sessions resume ${sessionId}\` goes on from there\n`);
    await world.editor.waitForNotification('codeloop/sessionUpdate', (p) => p.sessionId === sessionId && p.state === 'interrupted', 60_000);
    expect(cli('list', world.root).stdout).toMatch(new RegExp(`^${sessionId}\\s+interrupted\\s`, 'm'));

    const pausedAgain = cli('pause', sessionId);
    expect(pausedAgain.status).toBe(2);
    expect(pausedAgain.stderr).toBe(`codeloop: session ${sessionId} is interrupted (paused, or stopped with the daemon): it is not at work, so there is nothing to pause; resume it to go on\n`);
    const steerStopped = cli('steer', sessionId, 'hello');
    expect(steerStopped.status).toBe(2);
    expect(steerStopped.stderr).toContain('a message reaches only a session at work; resume it first, then send the message');

    const requestsWhenPaused = fake.requests.length;
    const resumed = cli('resume', sessionId);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stdout).toContain(`session ${sessionId} resumed in the codeloop daemon: it goes on from its last step\n  follow it: codeloop sessions show ${sessionId}`);
    const proposal = await world.editor.waitForNotification('codeloop/sessionUpdate', (p) => p.sessionId === sessionId && p.state === 'awaitingApproval' && p.event.type === 'proposal', 60_000);
    expect(proposal.event.data.diff).toContain('+exports.add = (a, b) => a + b;');
    const resumedPrompt = JSON.stringify(fake.requests[requestsWhenPaused].messages);
    expect(resumedPrompt).toContain('keep the arrow function');
    expect(resumedPrompt).toContain(INTERRUPTED_NOTE);

    const resumeWaiting = cli('resume', sessionId);
    expect(resumeWaiting.status).toBe(2);
    expect(resumeWaiting.stderr).toBe(`codeloop: session ${sessionId} is waiting for you to apply or reject its proposal: only an interrupted session can be resumed; this one is waiting for your answer, not stopped\n`);
    expect(cli('steer', sessionId, 'one more thing').stderr).toContain('reject the proposal with your feedback instead');
    expect(cli('pause', 'zzzz').stderr).toBe('codeloop: no session "zzzz": `codeloop sessions list` shows them\n');
    expect(cli('steer', sessionId).stderr).toContain('sessions takes `list [DIR]`, `show ID`, `resume ID`, `pause ID`, `steer ID "MESSAGE"` (quote the message), `rewind ID [TURN]` or `revert ID`');

    const transcript = cli('show', sessionId).stdout;
    expect(transcript).toContain('message: your message: keep the arrow function');
    expect(transcript).toContain('message: paused; resume it to go on');
    expect(transcript).toContain('message: resumed from the last completed step');
  });

  it('without a daemon: a killed `codeloop run` leaves its session interrupted, and resume finishes it in the terminal', { timeout: 180_000 }, async () => {
    const { root, state } = calcProject(cleanups);
    const fake = await startFakeModel([plan, edit, { kind: 'hang' }, done]);
    cleanups.push(() => fake.close());
    writeUserConfig(state, agentConfig(fake.baseURL));
    const env = { XDG_STATE_HOME: state, XDG_CONFIG_HOME: path.join(state, 'config'), CODELOOP_RUNTIME_DIR: path.join(state, 'runtime'), OPENAI_API_KEY: 'sk-test' };
    const cli = (...args: string[]) => runCli(['sessions', ...args], { cwd: root, stateHome: state, env });

    const run = spawn(process.execPath, [CLI_PATH, 'run', '--yes', 'fix add'], { cwd: root, env: { ...process.env, ...env }, stdio: 'ignore' });
    cleanups.push(() => run.kill('SIGKILL'));
    await expect.poll(() => fake.requests.length, { timeout: 60_000 }).toBe(3);
    const [{ sessionId }] = JSON.parse(cli('list', '--json').stdout).sessions;

    const pauseElsewhere = cli('pause', sessionId);
    expect(pauseElsewhere.status).toBe(2);
    expect(pauseElsewhere.stderr).toBe(`codeloop: session ${sessionId} is at work in process ${run.pid} (a \`codeloop run\` or a standalone server), which cannot pause from here; stop that process (Ctrl-C) and \`codeloop sessions resume ${sessionId}\` goes on from its last step\n`);

    run.kill('SIGKILL');
    await new Promise((resolve) => run.once('exit', resolve));
    expect(cli('list').stdout).toMatch(new RegExp(`^${sessionId}\\s+interrupted\\s`, 'm'));
    expect(cli('pause', sessionId).stderr).toContain('is interrupted (paused, or stopped with the daemon): it is not at work, so there is nothing to pause');

    const requestsBefore = fake.requests.length;
    const resumed = await runCliAsync(['sessions', 'resume', sessionId.slice(0, 5), '--yes'], { cwd: root, stateHome: state, env });
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain(`no codeloop daemon is running: resuming session ${sessionId} here (Ctrl-C stops it; resume again later)`);
    expect(resumed.stdout).toContain('-exports.add = (a, b) => a - b;\n+exports.add = (a, b) => a + b;');
    expect(resumed.stderr).toMatch(new RegExp(`session ${sessionId}: applied; \\d+ tokens`));
    expect(fs.readFileSync(path.join(root, 'src/math.js'), 'utf8')).toBe('exports.add = (a, b) => a + b;\n');
    expect(JSON.stringify(fake.requests[requestsBefore].messages)).toContain(INTERRUPTED_NOTE);
    expect(cli('show', sessionId).stdout).toContain(`session ${sessionId}: applied`);
  });
});
