import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { SessionSummary, TaskKind } from '../../protocol/lsp-methods.js';
import type { CheckpointSummary, ProposedFile, SessionEvent, SessionRecord, SessionState } from '../../protocol/session-lifecycle.js';
import { proposalVerdict } from './session-verdict.js';

export type { ProposedFile, SessionEvent, SessionRecord } from '../../protocol/session-lifecycle.js';

/**
 * Transcript entries are capped so one huge tool output cannot bloat the store; the cap holds a command's whole
 * kept output (64 KiB, the runner's limit), which `read_output` serves back to the model.
 */
const MAX_EVENT_CHARS = 100_000;
/** A listing shows the start of each prompt: status, listSessions and code actions would otherwise carry every pasted log. */
const SUMMARY_PROMPT_CHARACTERS = 500;
/** Sessions whose parsed proposal, record and transcript are kept (see `proposalOf`, `records`, `transcripts`). */
const PARSED_PROPOSALS = 8;
/** Stored event text (characters) the transcripts kept parsed in memory may hold in all: 16 Mi. */
const TRANSCRIPT_CHARACTERS = 16 * 1024 * 1024;
/**
 * The columns that can hold megabytes (a pasted log, a proposal of large files, its diff): stored in
 * `session_texts`, one row each, so a change of state or token counts rewrites a small row instead of all of
 * them (SQLite rewrites a whole record on UPDATE: 28 ms for a 6 MB one, on the loop every editor shares).
 */
const LARGE_COLUMNS = { prompt: 'prompt', proposal: 'proposal', diff: 'diff' } as const;
type LargeColumn = keyof typeof LARGE_COLUMNS;

/**
 * Sessions and their transcripts in SQLite (WAL), written before anything is announced, so a restart can
 * always show what happened and resume or fail each session. No column assumes a single process.
 */
export class SessionStore {
  private readonly db: Database.Database;
  /**
   * The proposal last read per session, as stored (JSON) and parsed: a proposal of large files is
   * megabytes of JSON, and every getSession, transition and listing reads the session again.
   */
  private readonly parsedProposals = new Map<string, { text: string; files: readonly ProposedFile[] }>();
  /**
   * Sessions as last read, while no connection has changed the store since (see `sinceLastChange`): a session's
   * row holds its prompt (up to 1 MB) and proposal (megabytes), and each getSession, transition and code action
   * reads it again. Frozen: every reader shares them.
   */
  private readonly records = new Map<string, SessionRecord>();
  /** SQLite's data_version when `records` was last checked: it changes when another connection commits. */
  private dataVersion = -1;
  private readonly readDataVersion: Database.Statement;
  /**
   * Transcripts as last read, per session: events are only ever appended (seq grows), so a later read fetches
   * the rows after the last one seen — getSession asks every half second, and a transcript holds tool outputs of
   * up to MAX_EVENT_CHARS each. At most PARSED_PROPOSALS sessions and TRANSCRIPT_CHARACTERS of stored event text
   * in all (a longer transcript is parsed at each read, as before).
   */
  private readonly transcripts = new Map<string, { events: SessionEvent[]; characters: number }>();
  private transcriptCharacters = 0;

  constructor(file: string) {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    this.db = new Database(file);
    // The wait for another process's lock first: switching a new file to WAL takes the lock too.
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('journal_mode = WAL');
    // Each commit waited for the disk (fsync) on the loop every editor shares: 4 ms typically, 45 ms and more when
    // the disk is busy, for each event, checkpoint and state change of a session. In WAL mode NORMAL keeps every
    // commit atomic and durable through a crash or kill of the process; only the OS failing can lose the last ones.
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS sessions (
        id TEXT PRIMARY KEY, root TEXT NOT NULL, state TEXT NOT NULL, prompt TEXT NOT NULL, kind TEXT NOT NULL,
        plan TEXT, summary TEXT, error TEXT, proposal TEXT, diff TEXT,
        prompt_tokens INTEGER NOT NULL DEFAULT 0, completion_tokens INTEGER NOT NULL DEFAULT 0, cost_usd REAL NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
        owner_pid INTEGER NOT NULL DEFAULT 0
      );
      CREATE TABLE IF NOT EXISTS session_texts (
        session_id TEXT NOT NULL, name TEXT NOT NULL, text TEXT NOT NULL, PRIMARY KEY (session_id, name)
      );
      CREATE TABLE IF NOT EXISTS session_events (
        session_id TEXT NOT NULL, seq INTEGER NOT NULL, type TEXT NOT NULL, data TEXT NOT NULL, at TEXT NOT NULL,
        PRIMARY KEY (session_id, seq)
      );
    `);
    this.createCheckpointTable();
    this.readDataVersion = this.db.prepare('PRAGMA data_version').pluck();
  }

  /**
   * Checkpoints, with the paths each changed stored before its data: SQLite reads a row's columns in order, so a
   * column after a megabyte conversation would walk its overflow pages on every listing. A store made before the
   * files column is rebuilt once, its files read from each checkpoint's data.
   */
  private createCheckpointTable(): void {
    const create = (table: string) => `CREATE TABLE IF NOT EXISTS ${table} (
      session_id TEXT NOT NULL, seq INTEGER NOT NULL, at TEXT NOT NULL, files TEXT NOT NULL, data TEXT NOT NULL,
      PRIMARY KEY (session_id, seq))`;
    // Immediate: a second process opening the store (the CLI beside the daemon) waits instead of rebuilding it too.
    this.db.transaction(() => {
      const columns = this.db.prepare('PRAGMA table_info(session_checkpoints)').all() as { name: string }[];
      if (columns.length === 0 || columns.some((column) => column.name === 'files')) {
        this.db.exec(create('session_checkpoints'));
        return;
      }
      this.db.exec(`${create('session_checkpoints_new')};
        INSERT INTO session_checkpoints_new (session_id, seq, at, files, data)
          SELECT session_id, seq, at, (SELECT json_group_array(json_extract(change.value, '$[0]')) FROM json_each(data, '$.changes') AS change), data
          FROM session_checkpoints;
        DROP TABLE session_checkpoints;
        ALTER TABLE session_checkpoints_new RENAME TO session_checkpoints;`);
    }).immediate();
  }

  create(root: string, prompt: string, kind: TaskKind): SessionRecord {
    const now = new Date().toISOString();
    const sessionId = randomUUID().slice(0, 8);
    this.db.transaction(() => {
      this.db.prepare('INSERT INTO sessions (id, root, state, prompt, kind, created_at, updated_at, owner_pid) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
        .run(sessionId, root, 'planning', '', kind, now, now, process.pid);
      this.writeText(sessionId, 'prompt', prompt);
    })();
    return this.get(sessionId)!;
  }

  get(sessionId: string): SessionRecord | null {
    this.sinceLastChange();
    const cached = this.records.get(sessionId);
    if (cached) return cached;
    const row = this.db.prepare('SELECT * FROM sessions WHERE id = ?').get(sessionId) as Record<string, unknown> | undefined;
    if (!row) return null;
    const record = Object.freeze(this.toRecord(row));
    if (this.records.size >= PARSED_PROPOSALS) this.records.clear();
    this.records.set(sessionId, record);
    return record;
  }

  /** Forgets the sessions read before another connection (the CLI beside the daemon, say) changed the store. */
  private sinceLastChange(): void {
    const version = this.readDataVersion.get() as number;
    if (version === this.dataVersion) return;
    this.records.clear();
    this.dataVersion = version;
  }

  list(root?: string): SessionRecord[] {
    const rows = (root === undefined
      ? this.db.prepare('SELECT * FROM sessions ORDER BY created_at DESC').all()
      : this.db.prepare('SELECT * FROM sessions WHERE root = ? ORDER BY created_at DESC').all(root)) as Record<string, unknown>[];
    return rows.map((row) => this.toRecord(row));
  }

  /**
   * Changes a session and returns it as it now stands: from the record already read, with the changes applied,
   * rather than read back (a row of megabytes, converted from UTF-8 again at every state change).
   */
  update(sessionId: string, changes: Partial<Omit<SessionRecord, 'sessionId' | 'root' | 'createdAt' | 'updatedAt' | 'ownerPid'>>): SessionRecord {
    const columns: Record<string, string> = {
      state: 'state', plan: 'plan', summary: 'summary', error: 'error',
      promptTokens: 'prompt_tokens', completionTokens: 'completion_tokens', costUsd: 'cost_usd', kind: 'kind',
    };
    const current = this.get(sessionId);
    const updatedAt = new Date().toISOString();
    const sets: string[] = [];
    const values: unknown[] = [];
    let proposal: { text: string; files: readonly ProposedFile[] } | null = null;
    this.db.transaction(() => {
      for (const [key, value] of Object.entries(changes)) {
        if (!(key in LARGE_COLUMNS)) {
          sets.push(`${columns[key]} = ?`);
          values.push(value);
          continue;
        }
        // A session stored before session_texts may hold the value in its own column: cleared with it.
        if (value === null) sets.push(`${LARGE_COLUMNS[key as LargeColumn]} = NULL`);
        if (key === 'proposal' && value !== null) {
          proposal = { text: JSON.stringify(value), files: frozenFiles(value as ProposedFile[]) };
          this.writeText(sessionId, 'proposal', proposal.text);
        } else {
          this.writeText(sessionId, key as LargeColumn, value as string | null);
        }
      }
      sets.push('updated_at = ?');
      values.push(updatedAt, sessionId);
      this.db.prepare(`UPDATE sessions SET ${sets.join(', ')} WHERE id = ?`).run(...values);
    })();
    if (!current) return this.get(sessionId)!;
    if (proposal) this.rememberProposal(sessionId, proposal);
    const record = Object.freeze({ ...current, ...changes, ...(proposal ? { proposal: (proposal as { files: ProposedFile[] }).files } : {}), updatedAt });
    this.records.set(sessionId, record);
    return record;
  }

  /** Stores (or, for null, removes) one of a session's large texts. Call inside a transaction with the row's update. */
  private writeText(sessionId: string, name: LargeColumn, text: string | null): void {
    if (text === null) this.db.prepare('DELETE FROM session_texts WHERE session_id = ? AND name = ?').run(sessionId, name);
    else this.db.prepare('INSERT OR REPLACE INTO session_texts (session_id, name, text) VALUES (?, ?, ?)').run(sessionId, name, text);
  }

  addEvent(sessionId: string, type: SessionEvent['type'], data: unknown): SessionEvent {
    let text = JSON.stringify(data ?? null);
    if (text.length > MAX_EVENT_CHARS) text = JSON.stringify({ truncated: true, head: text.slice(0, MAX_EVENT_CHARS) });
    const at = new Date().toISOString();
    const seq = this.db.transaction(() => {
      const next = ((this.db.prepare('SELECT max(seq) FROM session_events WHERE session_id = ?').pluck().get(sessionId) as number | null) ?? 0) + 1;
      this.db.prepare('INSERT INTO session_events (session_id, seq, type, data, at) VALUES (?, ?, ?, ?, ?)').run(sessionId, next, type, text, at);
      return next;
    })();
    return { seq, type, data: JSON.parse(text), at };
  }

  /**
   * A session's transcript in order; only the events of one type when `type` is given. The events are shared
   * with later readers (frozen); the array is the caller's own.
   */
  events(sessionId: string, type?: SessionEvent['type']): SessionEvent[] {
    const known = this.transcripts.get(sessionId) ?? { events: [], characters: 0 };
    const rows = this.db.prepare('SELECT seq, type, data, at FROM session_events WHERE session_id = ? AND seq > ? ORDER BY seq')
      .all(sessionId, known.events.at(-1)?.seq ?? 0) as { seq: number; type: SessionEvent['type']; data: string; at: string }[];
    const events = rows.length ? [...known.events, ...rows.map((row) => Object.freeze({ ...row, data: JSON.parse(row.data) as unknown }))] : known.events;
    const characters = rows.reduce((sum, row) => sum + row.data.length, known.characters);
    this.transcripts.delete(sessionId);
    this.transcriptCharacters -= known.characters;
    if (characters <= TRANSCRIPT_CHARACTERS) {
      this.transcripts.set(sessionId, { events, characters });
      this.transcriptCharacters += characters;
    }
    for (const [oldest, transcript] of this.transcripts) {
      if (this.transcripts.size <= PARSED_PROPOSALS && this.transcriptCharacters <= TRANSCRIPT_CHARACTERS) break;
      this.transcripts.delete(oldest);
      this.transcriptCharacters -= transcript.characters;
    }
    return type === undefined ? [...events] : events.filter((event) => event.type === type);
  }

  /** Makes this process the session's owner (it resumes the work; a restart then knows whose it was). */
  takeOver(sessionId: string): void {
    this.db.prepare('UPDATE sessions SET owner_pid = ? WHERE id = ?').run(process.pid, sessionId);
    this.records.delete(sessionId);
  }

  /**
   * Stores a session's checkpoint after model turn `turn` (plain JSON: see session-checkpoint.ts), in the same
   * database as its state, so a session can be rebuilt from disk alone. A checkpoint already stored for that turn
   * is replaced (a resumed or sent-back session checkpoints again before its next model turn). The paths it
   * changed are kept beside it, so listing checkpoints (every getSession) never reads the stored conversations.
   */
  saveCheckpoint<Checkpoint extends { changes: [string, unknown][] }>(sessionId: string, turn: number, checkpoint: Checkpoint): void {
    const files = JSON.stringify(checkpoint.changes.map(([file]) => file));
    this.db.prepare('INSERT OR REPLACE INTO session_checkpoints (session_id, seq, at, files, data) VALUES (?, ?, ?, ?, ?)')
      .run(sessionId, turn, new Date().toISOString(), files, JSON.stringify(checkpoint));
  }

  /** The session's newest checkpoint as stored (parsed JSON), or null when it has none. */
  latestCheckpoint(sessionId: string): unknown {
    const text = this.db.prepare('SELECT data FROM session_checkpoints WHERE session_id = ? ORDER BY seq DESC LIMIT 1').pluck().get(sessionId) as string | undefined;
    return text === undefined ? null : JSON.parse(text);
  }

  /** Every checkpoint of a session, oldest first: its turn, when it was stored (ISO 8601) and its data as stored. */
  checkpoints(sessionId: string): { turn: number; at: string; data: unknown }[] {
    const rows = this.db.prepare('SELECT seq, data, at FROM session_checkpoints WHERE session_id = ? ORDER BY seq').all(sessionId) as { seq: number; data: string; at: string }[];
    return rows.map((row) => ({ turn: row.seq, at: row.at, data: JSON.parse(row.data) }));
  }

  /**
   * The turns a session can be rewound to, oldest first, each with the files its checkpoint changed (sorted):
   * from the files column, never from the stored conversations.
   */
  checkpointSummaries(sessionId: string): CheckpointSummary[] {
    const rows = this.db.prepare('SELECT seq, at, files FROM session_checkpoints WHERE session_id = ? ORDER BY seq').all(sessionId) as { seq: number; at: string; files: string }[];
    return rows.map((row) => ({ turn: row.seq, at: row.at, files: (JSON.parse(row.files) as string[]).sort() }));
  }

  /** Forgets a session's checkpoints after turn `turn` (a rewind to it). */
  dropCheckpointsAfter(sessionId: string, turn: number): void {
    this.db.prepare('DELETE FROM session_checkpoints WHERE session_id = ? AND seq > ?').run(sessionId, turn);
  }

  /** A session in a listing (status, listSessions, code actions): its prompt cut to SUMMARY_PROMPT_CHARACTERS. */
  summary(record: SessionRecord): SessionSummary {
    const proposal = record.proposal && record.diff !== null ? diffStats(record.diff, record.proposal.length) : null;
    const prompt = record.prompt.length > SUMMARY_PROMPT_CHARACTERS ? `${record.prompt.slice(0, SUMMARY_PROMPT_CHARACTERS)}…` : record.prompt;
    return {
      sessionId: record.sessionId, root: record.root, state: record.state, prompt, kind: record.kind,
      createdAt: record.createdAt, updatedAt: record.updatedAt, proposal,
      verdict: proposal ? proposalVerdict(record, this.events(record.sessionId, 'testRun')) : null,
    };
  }

  close(): void {
    this.db.close();
  }

  /**
   * A stored proposal parsed, from the cache when the text is the one last seen for the session (comparing the
   * texts costs far less than parsing them). The files are frozen: every reader shares them.
   */
  private proposalOf(sessionId: string, text: string): ProposedFile[] {
    const cached = this.parsedProposals.get(sessionId);
    if (cached?.text === text) return cached.files as ProposedFile[];
    const files = frozenFiles(JSON.parse(text) as ProposedFile[]);
    this.rememberProposal(sessionId, { text, files });
    return files;
  }

  private rememberProposal(sessionId: string, proposal: { text: string; files: readonly ProposedFile[] }): void {
    this.parsedProposals.delete(sessionId);
    this.parsedProposals.set(sessionId, proposal);
    if (this.parsedProposals.size > PARSED_PROPOSALS) this.parsedProposals.delete(this.parsedProposals.keys().next().value!);
  }

  /** A row of `sessions` as a record, its large texts from session_texts where stored there. */
  private toRecord(stored: Record<string, unknown>): SessionRecord {
    const row = { ...stored };
    for (const { name, text } of this.db.prepare('SELECT name, text FROM session_texts WHERE session_id = ?').all(row.id) as { name: string; text: string }[]) {
      row[name] = text;
    }
    return {
      sessionId: row.id as string,
      root: row.root as string,
      state: row.state as SessionState,
      prompt: row.prompt as string,
      kind: row.kind as TaskKind,
      plan: row.plan as string | null,
      summary: row.summary as string | null,
      error: row.error as string | null,
      proposal: row.proposal ? this.proposalOf(row.id as string, row.proposal as string) : null,
      diff: row.diff as string | null,
      promptTokens: row.prompt_tokens as number,
      completionTokens: row.completion_tokens as number,
      costUsd: row.cost_usd as number,
      createdAt: row.created_at as string,
      updatedAt: row.updated_at as string,
      ownerPid: row.owner_pid as number,
    };
  }
}

/** Proposed files frozen for sharing, as copies (the caller's objects stay its own). */
function frozenFiles(files: readonly ProposedFile[]): ProposedFile[] {
  return Object.freeze(files.map((file) => Object.freeze({ ...file, ...(file.encoding ? { encoding: Object.freeze({ ...file.encoding }) } : {}) }))) as ProposedFile[];
}

/** Lines added and removed in a unified diff. */
export function diffStats(diff: string, files: number): { files: number; added: number; removed: number } {
  let added = 0;
  let removed = 0;
  for (const line of diff.split('\n')) {
    if (line.startsWith('+') && !line.startsWith('+++')) added++;
    else if (line.startsWith('-') && !line.startsWith('---')) removed++;
  }
  return { files, added, removed };
}
