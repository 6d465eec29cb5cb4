import { describe, expect, it } from 'vitest';
import { elideOldest } from '../../server/agent/conversation/context-policy.js';
import { emptyTranscript, type TranscriptData } from '../../server/agent/conversation/transcript.js';
import { changesSince, foldCheckpoints, snapshotEntries, storedCheckpoint, type SessionCheckpoint, type StoredEntries } from '../../server/agent/session-checkpoint.js';
import { taskMessage } from '../../server/agent/prompts.js';

function checkpoint(version: 1 | 2, turns: number, changes: [string, string | null][]) {
  return { version, transcript: emptyTranscript(), changes, turns, repairs: 0, reviewed: false };
}

describe('checkpoints store a turn\'s changes, folded back into the shadow', () => {
  it('a checkpoint holds only the files whose text changed since the one before (created, changed, deleted)', () => {
    const base = new Map<string, string | null>([['a.js', 'one'], ['b.js', 'two'], ['gone.js', null]]);
    const now = new Map<string, string | null>([['a.js', 'one'], ['b.js', 'TWO'], ['gone.js', null], ['c.js', 'new'], ['d.js', null]]);
    expect(changesSince(base, now)).toEqual([['b.js', 'TWO'], ['c.js', 'new'], ['d.js', null]]);
    expect(changesSince(now, now)).toEqual([]);
  });

  it('folding writes each turn\'s changes over the earlier ones; `before` is the state as of the checkpoint before the newest', () => {
    const folded = foldCheckpoints([
      checkpoint(2, 1, []),
      checkpoint(2, 2, [['a.js', 'v1']]),
      checkpoint(2, 3, [['a.js', 'v2'], ['b.js', null]]),
    ], 'the prompt');
    expect(folded?.checkpoint.turns).toBe(3);
    expect(new Map(folded?.checkpoint.changes)).toEqual(new Map([['a.js', 'v2'], ['b.js', null]]));
    expect(folded?.before).toEqual(new Map([['a.js', 'v1']]));
  });

  it('a version-1 checkpoint (every change so far) folds the same way, and an unreadable one makes the whole unusable', () => {
    const folded = foldCheckpoints([checkpoint(1, 2, [['a.js', 'v1']]), checkpoint(1, 3, [['a.js', 'v1'], ['b.js', 'v1']])], 'the prompt');
    expect(new Map(folded?.checkpoint.changes)).toEqual(new Map([['a.js', 'v1'], ['b.js', 'v1']]));
    expect(foldCheckpoints([], 'the prompt')).toBeNull();
    expect(foldCheckpoints([checkpoint(2, 1, []), { version: 4 }], 'the prompt')).toBeNull();
  });

  it('stores each turn\'s new conversation entries only, without the prompt, and folds back the whole conversation', () => {
    const prompt = `pasted log ${'x'.repeat(1_000_000)} end of log`;
    const task = taskMessage('prompt', prompt);
    const transcript: TranscriptData = { ...emptyTranscript(), task: { text: task, context: 'map' }, entries: [{ kind: 'system', text: 'system' }, { kind: 'user', text: `${task}\n\nmap` }] };
    const bigFile = 'export const v = 1;\n'.repeat(50_000);
    const stored: object[] = [];
    const sizes: number[] = [];
    const expected: string[] = [];
    let before: StoredEntries = [];
    const save = (turns: number) => {
      const checkpoint: SessionCheckpoint = { phase: 'working', transcript, changes: [[`f${turns}.js`, String(turns)]], turns, repairs: 0, reviewed: false };
      const data = storedCheckpoint(checkpoint, before, prompt);
      const json = JSON.stringify(data);
      stored.push(JSON.parse(json));
      sizes.push(json.length);
      expected.push(JSON.stringify(transcript));
      before = snapshotEntries(transcript.entries);
      // Folding what is stored so far gives this checkpoint's conversation back, the prompt in place.
      expect(foldCheckpoints(stored, prompt)?.checkpoint.transcript).toEqual(JSON.parse(expected.at(-1)!));
    };
    save(0);
    transcript.entries.push({ kind: 'assistant', text: null, toolCalls: [{ id: 'c1', name: 'read_file', arguments: '{"path":"big.js"}' }] },
      { kind: 'toolResult', callId: 'c1', name: 'read_file', arguments: '{"path":"big.js"}', output: bigFile });
    save(1);
    transcript.entries.push({ kind: 'assistant', text: null, toolCalls: [{ id: 'c2', name: 'propose_edit', arguments: JSON.stringify({ path: 'big.js', edit: { kind: 'content', content: bigFile } }) }] },
      { kind: 'toolResult', callId: 'c2', name: 'propose_edit', arguments: '{}', output: 'wrote the whole file' });
    save(2);
    transcript.entries.push({ kind: 'user', text: 'the tests fail' });
    save(3);
    // Elision changes old entries in place (a placeholder; shortened arguments): they are stored again, from the first changed.
    elideOldest(transcript.entries, 1_000_000);
    expect(transcript.entries[3]).toHaveProperty('placeholder');
    save(4);
    // A compaction rebuilds the entries: the task message (with the prompt) is stored again, still by reference.
    transcript.entries = [transcript.entries[0], { kind: 'user', text: `${task}\n\nanchor` }, { kind: 'user', text: 'go on' }];
    save(5);
    // No checkpoint holds the prompt; the first holds the task, the next ones what their turn added (the 1 MB read,
    // the 1 MB edit), the elision's the entries from the first one it changed on.
    expect(stored.filter((data) => JSON.stringify(data).includes('x'.repeat(1000)))).toEqual([]);
    expect(sizes[0], sizes.join(' ')).toBeLessThan(2_000);
    expect(sizes[3]).toBeLessThan(2_000);
    expect(sizes[5]).toBeLessThan(2_000);
    expect(sizes[1]).toBeGreaterThan(bigFile.length);
    expect(sizes[4]).toBeLessThan(sizes[1] + sizes[2] + sizes[3]);
    expect(stored.map((data) => (data as { entriesKept: number }).entriesKept)).toEqual([0, 2, 4, 6, 3, 1]);
    // `entriesBefore`: the conversation of the checkpoint before the newest, for the next one stored at the same turn.
    expect(foldCheckpoints(stored, prompt)?.entriesBefore).toEqual(JSON.parse(expected[4]).entries);
    // A checkpoint that keeps more entries than the one before it had cannot be folded.
    expect(foldCheckpoints([stored[0], { ...stored[2], entriesKept: 9 }], prompt)).toBeNull();
  });

  it('folds version-2 checkpoints (whole conversations, the prompt inline) followed by version-3 ones stored after a resume', () => {
    const prompt = 'y'.repeat(5_000);
    const task = taskMessage('prompt', prompt);
    const transcript: TranscriptData = { ...emptyTranscript(), task: { text: task, context: '' }, entries: [{ kind: 'system', text: 's' }, { kind: 'user', text: task }] };
    const old = { version: 2, phase: 'working', transcript: structuredClone(transcript), changes: [['a.js', 'v1']], turns: 1, repairs: 0, reviewed: false };
    const resumed = foldCheckpoints([old], prompt)!;
    expect(resumed.checkpoint.transcript).toEqual(transcript);
    resumed.checkpoint.transcript.entries.push({ kind: 'user', text: 'resumed' });
    const next = storedCheckpoint({ ...resumed.checkpoint, turns: 2, changes: [] }, snapshotEntries(transcript.entries), prompt);
    expect(JSON.stringify(next).length).toBeLessThan(1_000);
    const folded = foldCheckpoints([old, JSON.parse(JSON.stringify(next))], prompt);
    expect(folded?.checkpoint.transcript.entries).toEqual([...transcript.entries, { kind: 'user', text: 'resumed' }]);
    expect(folded?.checkpoint.transcript.task.text).toBe(task);
    expect(new Map(folded?.checkpoint.changes)).toEqual(new Map([['a.js', 'v1']]));
  });
});
