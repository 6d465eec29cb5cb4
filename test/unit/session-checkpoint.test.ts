import { describe, expect, it } from 'vitest';
import { changesSince, foldCheckpoints } from '../../server/agent/session-checkpoint.js';
import { emptyTranscript } from '../../server/agent/conversation/transcript.js';

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
    ]);
    expect(folded?.checkpoint.turns).toBe(3);
    expect(new Map(folded?.checkpoint.changes)).toEqual(new Map([['a.js', 'v2'], ['b.js', null]]));
    expect(folded?.before).toEqual(new Map([['a.js', 'v1']]));
  });

  it('a version-1 checkpoint (every change so far) folds the same way, and an unreadable one makes the whole unusable', () => {
    const folded = foldCheckpoints([checkpoint(1, 2, [['a.js', 'v1']]), checkpoint(1, 3, [['a.js', 'v1'], ['b.js', 'v1']])]);
    expect(new Map(folded?.checkpoint.changes)).toEqual(new Map([['a.js', 'v1'], ['b.js', 'v1']]));
    expect(foldCheckpoints([])).toBeNull();
    expect(foldCheckpoints([checkpoint(2, 1, []), { version: 3 }])).toBeNull();
  });

});
