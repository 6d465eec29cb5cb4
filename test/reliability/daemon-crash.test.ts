import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startFakeModel, type FakeStep } from '../fake-model/fake-model-server.js';
import { daemonFigures, reportFigures } from '../helpers/daemon-figures.js';
import { makeStateHome, makeTree, removeTree } from '../helpers/fixture-tree.js';
import { waitUntilIndexed } from '../helpers/lsp-client.js';
import { CLI_PATH, runCli } from '../helpers/run-cli.js';
import { socketEditor } from '../helpers/socket-editor.js';

/**
 * Crash consistency of the daemon: SIGKILL it at random moments — while indexing, while files change, mid-session,
 * between proposal and apply — CRASH_KILLS times (default 3 in `npm test`; the reliability run uses 100). After each
 * restart: the index passes SQLite's integrity check and matches the tree, every session started is still there
 * exactly once and none is left "running", and no shadow workspace is left behind.
 */
const KILLS = Number(process.env.CRASH_KILLS ?? 3);
const FILES = 1500;

const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

let seed = 99;
const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);

describe('daemon crash consistency', () => {
  it(`survives ${KILLS} SIGKILLs at random moments with its index and sessions intact`, { timeout: 60_000 + KILLS * 40_000 }, async () => {
    const files: Record<string, string> = { 'package.json': JSON.stringify({ name: 'crash', scripts: { test: 'node -e "process.exit(0)"' } }) };
    for (let i = 0; i < FILES; i++) files[`src/part${i % 30}/file${i}.ts`] = `export const marker${i} = "crashmarker";\n${'// filler line\n'.repeat(40)}`;
    const root = fs.realpathSync(makeTree(files, { git: true }));
    const state = makeStateHome();
    const steps: FakeStep[] = [];
    for (let i = 0; i < KILLS * 4; i++) {
      steps.push({ kind: 'text', content: '1. Edit' },
        { kind: 'tools', calls: [{ name: 'propose_edit', arguments: { path: `src/new${i}.ts`, content: `export const created${i} = 1;\n` } }] },
        { kind: 'tools', calls: [{ name: 'done', arguments: { summary: 'created' } }] });
    }
    const fake = await startFakeModel(steps);
    const env = { ...process.env, XDG_STATE_HOME: state, XDG_CONFIG_HOME: path.join(state, 'config'), CODELOOP_RUNTIME_DIR: path.join(state, 'runtime'), OPENAI_API_KEY: '' };
    fs.mkdirSync(path.join(state, 'config', 'codeloop'), { recursive: true });
    fs.writeFileSync(path.join(state, 'config', 'codeloop', 'config.json'), JSON.stringify({
      model: { baseURL: fake.baseURL, model: 'fake', maxRetries: 0 }, agent: { autoApprovePlan: true },
    }));
    let daemon: ChildProcess | null = null;
    cleanups.push(() => removeTree(root, state), () => fake.close(), () => daemon?.kill('SIGKILL'));

    const startDaemon = async () => {
      daemon = spawn(process.execPath, [CLI_PATH, 'daemon', '--idle-seconds', '0'], { env, stdio: 'ignore' });
      for (let waited = 0; ; waited += 25) {
        const socket = await new Promise<net.Socket | null>((resolve) => {
          const candidate = net.connect(path.join(state, 'runtime', 'daemon.sock'));
          candidate.once('connect', () => resolve(candidate)).once('error', () => resolve(null));
        });
        if (socket) return socket;
        if (waited > 10_000) throw new Error('the daemon did not start');
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    };
    const attach = (socket: net.Socket) => socketEditor(socket, root, 'crash');
    const started = new Set<string>();
    const proposed = new Map<string, unknown>();
    let appliedAfterRestart = 0;

    for (let kill = 0; kill < KILLS; kill++) {
      const connection = await attach(await startDaemon());
      // Work to interrupt: file changes for the watcher, and a session or two.
      fs.writeFileSync(path.join(root, `src/part0/file${kill}.ts`), `export const marker${kill} = "crashmarker"; // edited ${kill}\n`);
      // Every third round kills between proposal and apply: it waits for a session of its own to propose.
      const betweenProposalAndApply = kill % 3 === 1;
      const sessions = Math.max(betweenProposalAndApply ? 1 : 0, Math.floor(random() * 3));
      const startedNow: string[] = [];
      for (let s = 0; s < sessions; s++) {
        const result = await connection.sendRequest<any>('codeloop/startTask', { prompt: `create file ${kill}.${s}` }).catch(() => null);
        if (result) startedNow.push(result.sessionId);
      }
      startedNow.forEach((id) => started.add(id));
      if (betweenProposalAndApply) {
        await expect.poll(async () => (await connection.sendRequest<any>('codeloop/listSessions', {})).sessions
          .some((session: any) => startedNow.includes(session.sessionId) && session.state === 'awaitingApproval'), { timeout: 30_000, interval: 20 }).toBe(true);
      }
      await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * (betweenProposalAndApply ? 50 : 700))));
      // Proposals waiting just before the kill must all be waiting, whole and appliable, after it.
      const listedBefore = await connection.sendRequest<any>('codeloop/listSessions', {}).catch(() => ({ sessions: [] }));
      for (const session of listedBefore.sessions) if (session.state === 'awaitingApproval') proposed.set(session.sessionId, session.proposal);
      daemon!.kill('SIGKILL');
      await new Promise((resolve) => daemon!.once('exit', resolve));
      connection.dispose();

      // Restart and check every invariant.
      const check = await attach(await startDaemon());
      await waitUntilIndexed(check);
      const figuresBefore = await daemonFigures(check);
      const status = JSON.parse(runCli(['status', '--json', '--check', root], { stateHome: state, env }).stdout);
      expect(status.integrity, `kill ${kill}`).toBe('ok');
      const onDisk = fs.readdirSync(path.join(root, 'src'), { recursive: true }).filter((file) => String(file).endsWith('.ts')
        && fs.readFileSync(path.join(root, 'src', String(file)), 'utf8').includes('crashmarker')).length;
      const hits = await check.sendRequest<any>('codeloop/search', { query: 'crashmarker', limit: 10_000 });
      expect(new Set(hits.matches.map((m: any) => m.path)).size, `kill ${kill}: index matches the tree`).toBe(onDisk);
      const listed = (await check.sendRequest<any>('codeloop/listSessions', {})).sessions as { sessionId: string; state: string }[];
      const ids = listed.map((s) => s.sessionId);
      expect(new Set(ids).size, `kill ${kill}: no duplicated session`).toBe(ids.length);
      for (const id of started) expect(ids, `kill ${kill}: session ${id} lost`).toContain(id);
      expect(listed.filter((s) => ['planning', 'working', 'testing'].includes(s.state)), `kill ${kill}: sessions left running`).toEqual([]);
      for (const [id, proposal] of proposed) {
        expect(listed.find((s) => s.sessionId === id), `kill ${kill}: proposal of ${id}`).toMatchObject({ state: 'awaitingApproval', proposal });
      }
      // One of them is applied now (the editor answers the edit): it must still apply after the crash.
      const toApply = [...proposed.keys()].at(-1);
      if (toApply) {
        expect(await check.sendRequest('codeloop/applyProposal', { sessionId: toApply }), `kill ${kill}: apply after restart`).toEqual({ applied: true, conflicts: [] });
        proposed.delete(toApply);
        appliedAfterRestart++;
      }
      const shadows = path.join(state, 'codeloop', 'shadows');
      expect(fs.existsSync(shadows) ? fs.readdirSync(shadows) : [], `kill ${kill}: stray shadows`).toEqual([]);
      if (kill === 0 || kill === KILLS - 1) reportFigures(`crash: the daemon restarted after kill ${kill + 1} of ${KILLS}, through its checks`, figuresBefore, await daemonFigures(check));
      check.dispose();
      daemon!.kill('SIGKILL');
      await new Promise((resolve) => daemon!.once('exit', resolve));
    }
    process.stdout.write(`crash: ${KILLS} kills survived; ${started.size} sessions started, ${appliedAfterRestart} proposals applied after a restart, ${proposed.size} more kept waiting\n`);
  });
});
