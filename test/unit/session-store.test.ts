import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { SessionStore } from '../../server/agent/session-store.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

function storeFile(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codeloop-store-'));
  dirs.push(dir);
  return path.join(dir, 'sessions.db');
}

/** CPU (ms) of `runs` calls of `work`, in this thread: a busy machine stretches wall time, not this. */
function cpuMs(runs: number, work: () => void): number {
  const start = process.cpuUsage();
  for (let i = 0; i < runs; i++) work();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

describe('session checkpoints in the store', () => {
  it('lists the turns and the files each changed without reading the stored conversations', () => {
    const store = new SessionStore(storeFile());
    const small = store.create('/w', 'small', 'prompt');
    const large = store.create('/w', 'large', 'prompt');
    for (let turn = 1; turn <= 8; turn++) {
      const changes: [string, string | null][] = [[`src/b${turn}.ts`, 'x'], [`src/a${turn}.ts`, null]];
      store.saveCheckpoint(small.sessionId, turn, { transcript: ['hi'], changes });
      // A pasted 2 MB log stays in every checkpoint's conversation.
      store.saveCheckpoint(large.sessionId, turn, { transcript: ['y'.repeat(2_000_000)], changes });
    }
    expect(store.checkpointSummaries(large.sessionId).map(({ turn, files }) => ({ turn, files }))[2]).toEqual({ turn: 3, files: ['src/a3.ts', 'src/b3.ts'] });
    expect(store.checkpointSummaries(large.sessionId).map(({ files }) => files)).toEqual(store.checkpointSummaries(small.sessionId).map(({ files }) => files));
    // Every getSession lists them: 16 MB of conversation must not be parsed for it (it held the loop 170 ms).
    const smallMs = cpuMs(50, () => store.checkpointSummaries(small.sessionId));
    const largeMs = cpuMs(50, () => store.checkpointSummaries(large.sessionId));
    expect(largeMs).toBeLessThan(Math.max(20, smallMs * 4));
  });

  it('opens a store made before the files column and lists its checkpoints from their data', () => {
    const file = storeFile();
    const old = new Database(file);
    old.exec(`CREATE TABLE session_checkpoints (session_id TEXT NOT NULL, seq INTEGER NOT NULL, data TEXT NOT NULL, at TEXT NOT NULL, PRIMARY KEY (session_id, seq));
      INSERT INTO session_checkpoints VALUES ('s1', 1, '{"changes":[["src/z.ts","1"],["src/a.ts",null]]}', '2026-11-30T00:00:00Z');`);
    old.close();
    const store = new SessionStore(file);
    expect(store.checkpointSummaries('s1')).toEqual([{ turn: 1, at: '2026-11-30T00:00:00Z', files: ['src/a.ts', 'src/z.ts'] }]);
    store.saveCheckpoint('s1', 2, { changes: [['src/new.ts', 'n']] });
    expect(store.checkpointSummaries('s1').map(({ files }) => files)).toEqual([['src/a.ts', 'src/z.ts'], ['src/new.ts']]);
    // Opening it again does not add the column twice.
    expect(() => new SessionStore(file)).not.toThrow();
  });
});

describe('a session\'s proposal in the store', () => {
  it('is parsed once while its text is unchanged, and read anew when this or another process changes it', () => {
    const file = storeFile();
    const store = new SessionStore(file);
    const other = new SessionStore(file);
    const session = store.create('/w', 'fix it', 'prompt');
    const big = (n: number) => `export const value = ${n};\n`.repeat(40_000);
    const proposal = [{ path: 'src/a.ts', before: big(1), after: big(2) }, { path: 'src/b.ts', before: null, after: big(3) }];
    store.update(session.sessionId, { state: 'awaitingApproval', proposal, diff: '' });
    const first = store.get(session.sessionId)!.proposal!;
    expect(first).toEqual(proposal);
    // The same parsed files are handed out again (frozen, since every reader shares them).
    expect(store.get(session.sessionId)!.proposal).toBe(first);
    expect(Object.isFrozen(first[0])).toBe(true);
    // A change made by another process (the CLI beside the daemon) is seen.
    const changed = [{ path: 'src/a.ts', before: big(1), after: big(4) }];
    other.update(session.sessionId, { proposal: changed });
    expect(store.get(session.sessionId)!.proposal).toEqual(changed);
    store.update(session.sessionId, { proposal: null });
    expect(store.get(session.sessionId)!.proposal).toBeNull();
    store.close();
    other.close();
  });
});
