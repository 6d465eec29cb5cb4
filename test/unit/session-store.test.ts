import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { SessionStore, type SessionRecord } from '../../server/agent/session-store.js';

const dirs: string[] = [];
const opened: SessionStore[] = [];
afterAll(() => {
  for (const store of opened) store.close();
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

function storeFile(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'codeloop-store-'));
  dirs.push(dir);
  return path.join(dir, 'sessions.db');
}

/**
 * Two connections to one fresh store file — this process's and another's (the CLI beside the daemon) — with one
 * session created through the first; closed after the tests.
 */
function sharedStore(prompt = 'p'): { file: string; store: SessionStore; other: SessionStore; session: SessionRecord } {
  const file = storeFile();
  const store = new SessionStore(file);
  const other = new SessionStore(file);
  opened.push(store, other);
  return { file, store, other, session: store.create('/w', prompt, 'prompt') };
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
    const { store, other, session } = sharedStore('fix it');
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
  });
});

describe('a session read again', () => {
  it('is read from the database only after this or another process changed the store', () => {
    const { file, store, other, session } = sharedStore('p'.repeat(1_000_000));
    const first = store.get(session.sessionId)!;
    expect(store.get(session.sessionId)).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    // This store's own changes, whichever method made them.
    expect(store.update(session.sessionId, { state: 'working', plan: 'do it' })).toMatchObject({ state: 'working', plan: 'do it' });
    expect(store.get(session.sessionId)).toMatchObject({ state: 'working', plan: 'do it' });
    // Another connection's change (the CLI beside the daemon), to this session or any other.
    other.update(session.sessionId, { state: 'testing' });
    expect(store.get(session.sessionId)!.state).toBe('testing');
    const cached = store.get(session.sessionId);
    other.create('/w', 'another', 'prompt');
    const reread = store.get(session.sessionId);
    expect(reread).not.toBe(cached);
    expect(reread).toEqual(cached);
    // Taking a session over is seen at once.
    const raw = new Database(file);
    raw.prepare('UPDATE sessions SET owner_pid = 1 WHERE id = ?').run(session.sessionId);
    raw.close();
    expect(store.get(session.sessionId)!.ownerPid).toBe(1);
    store.takeOver(session.sessionId);
    expect(store.get(session.sessionId)!.ownerPid).toBe(process.pid);
    expect(store.get('none')).toBeNull();
  });
});

describe('a session with megabytes of prompt and proposal', () => {
  it('changes state and token counts for about what a small session costs, and reads back the same record', () => {
    const file = storeFile();
    const store = new SessionStore(file);
    const small = store.create('/w', 'small', 'prompt');
    const large = store.create('/w', 'l'.repeat(1_000_000), 'prompt');
    const big = (n: number) => `export const value${n} = compute(${n}, 'a fairly long string literal');\n`.repeat(25_000);
    const proposal = [{ path: 'src/a.ts', before: big(1), after: big(2) }, { path: 'src/b.ts', before: null, after: big(3) }];
    store.update(large.sessionId, { proposal, diff: big(4) });
    store.update(small.sessionId, { proposal: [{ path: 'src/a.ts', before: 'a', after: 'b' }], diff: '+b' });
    // A state change or a model call's token counts used to rewrite and re-read the whole 10 MB row (30–100 ms).
    const changes = (id: string) => (n: number) => store.update(id, { state: n % 2 ? 'working' : 'testing', promptTokens: n * 1001, completionTokens: n });
    let n = 0;
    const smallMs = cpuMs(40, () => changes(small.sessionId)(n++));
    const largeMs = cpuMs(40, () => changes(large.sessionId)(n++));
    expect(largeMs).toBeLessThan(Math.max(40, smallMs * 4));
    // Commits do not wait for the disk (fsync: 4–45 ms each on a busy disk, with no CPU to show for it in the
    // stall log); WAL keeps them atomic and durable through a killed process.
    expect(new Database(file).pragma('journal_mode', { simple: true })).toBe('wal');
    expect((store as unknown as { db: Database.Database }).db.pragma('synchronous', { simple: true })).toBe(1);
    // What update returned is what a fresh read (another process) finds.
    const returned = store.update(large.sessionId, { state: 'awaitingApproval', summary: 'done' });
    const other = new SessionStore(file);
    expect(other.get(large.sessionId)).toEqual(returned);
    expect(returned.prompt).toHaveLength(1_000_000);
    expect(returned.proposal).toEqual(proposal);
    // The caller's proposal stays its own: the stored one is a frozen copy.
    expect(Object.isFrozen(proposal[0])).toBe(false);
    store.update(large.sessionId, { proposal: null, diff: null });
    expect(other.get(large.sessionId)).toMatchObject({ proposal: null, diff: null, prompt: returned.prompt });
    store.close();
    other.close();
  });

  it('reads a session stored before session_texts, its prompt and proposal in its own row', () => {
    const file = storeFile();
    new SessionStore(file).close();
    const raw = new Database(file);
    raw.prepare(`INSERT INTO sessions (id, root, state, prompt, kind, proposal, diff, created_at, updated_at) VALUES ('old', '/w', 'awaitingApproval', 'the old prompt', 'prompt', ?, '+x', '2026-11-01T00:00:00Z', '2026-11-01T00:00:00Z')`)
      .run(JSON.stringify([{ path: 'src/x.ts', before: null, after: 'x' }]));
    raw.close();
    const store = new SessionStore(file);
    expect(store.get('old')).toMatchObject({ prompt: 'the old prompt', proposal: [{ path: 'src/x.ts', after: 'x' }], diff: '+x' });
    expect(store.update('old', { state: 'rejected', proposal: null })).toMatchObject({ prompt: 'the old prompt', proposal: null, state: 'rejected' });
    expect(new SessionStore(file).get('old')).toMatchObject({ prompt: 'the old prompt', proposal: null, diff: '+x', state: 'rejected' });
    store.close();
  });
});

describe('a session\'s transcript read again', () => {
  it('parses only the events added since the last read, in this or another process', () => {
    const { store, other, session } = sharedStore();
    for (let i = 0; i < 30; i++) store.addEvent(session.sessionId, 'toolResult', { id: `c${i}`, output: 'o'.repeat(90_000) });
    const first = store.events(session.sessionId);
    expect(first).toHaveLength(30);
    // Read every half second by an editor showing the session: the 2.7 MB already parsed are not parsed again.
    const again = cpuMs(20, () => store.events(session.sessionId));
    expect(again).toBeLessThan(20);
    other.addEvent(session.sessionId, 'message', { text: 'from the CLI' });
    store.addEvent(session.sessionId, 'testRun', { passed: true });
    const events = store.events(session.sessionId);
    expect(events.map((event) => event.seq)).toEqual(Array.from({ length: 32 }, (_, i) => i + 1));
    expect(events[30].data).toEqual({ text: 'from the CLI' });
    expect(store.events(session.sessionId, 'testRun').map((event) => event.data)).toEqual([{ passed: true }]);
    // The array is the caller's: reversing it does not reorder the next reader's.
    events.reverse();
    expect(store.events(session.sessionId)[0].seq).toBe(1);
    // A transcript over the memory kept for them (16 Mi characters in all) is read whole at each read instead.
    const long = store.create('/w', 'long', 'prompt');
    for (let i = 0; i < 175; i++) store.addEvent(long.sessionId, 'toolResult', { id: `l${i}`, output: 'o'.repeat(99_000) });
    for (let read = 0; read < 2; read++) expect(store.events(long.sessionId).map((event) => (event.data as { id: string }).id)).toEqual(Array.from({ length: 175 }, (_, i) => `l${i}`));
    expect(store.events(session.sessionId)).toHaveLength(32);
  });
});
