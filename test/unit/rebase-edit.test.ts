import { describe, expect, it } from 'vitest';
import { rebaseEdit } from '../../server/edits/rebase-edit.js';

const lines = (...items: string[]) => items.map((item) => `${item}\n`).join('');
const base = lines('one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight');
const proposed = lines('one', 'TWO', 'three', 'four', 'five', 'six', 'SEVEN', 'eight');

describe('rebasing a proposal onto the current text', () => {
  it.each([
    ['a line typed above every hunk', lines('zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight'), lines('zero', 'one', 'TWO', 'three', 'four', 'five', 'six', 'SEVEN', 'eight')],
    ['a line changed between the hunks', lines('one', 'two', 'three', 'FOUR!', 'five', 'six', 'seven', 'eight'), lines('one', 'TWO', 'three', 'FOUR!', 'five', 'six', 'SEVEN', 'eight')],
    ['lines deleted between the hunks', lines('one', 'two', 'three', 'six', 'seven', 'eight'), lines('one', 'TWO', 'three', 'six', 'SEVEN', 'eight')],
    ['a line added at the end', `${base}nine\n`, `${proposed}nine\n`],
    ['a line right next to a hunk', lines('one', 'two', 'three!', 'four', 'five', 'six', 'seven', 'eight'), lines('one', 'TWO', 'three!', 'four', 'five', 'six', 'SEVEN', 'eight')],
    ['the same change the proposal makes', lines('one', 'TWO', 'three', 'four', 'five', 'six', 'seven', 'eight'), proposed],
    ['nothing', base, proposed],
    ['a line typed just above a changed line', lines('one', 'typed', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight'), lines('one', 'typed', 'TWO', 'three', 'four', 'five', 'six', 'SEVEN', 'eight')],
    ['a line typed just below a changed line', lines('one', 'two', 'typed', 'three', 'four', 'five', 'six', 'seven', 'eight'), lines('one', 'TWO', 'typed', 'three', 'four', 'five', 'six', 'SEVEN', 'eight')],
  ])('applies the proposal over %s', (_name, current, expected) => {
    const outcome = rebaseEdit(base, proposed, current);
    expect(outcome.ok).toBe(true);
    expect(outcome.ok && outcome.text).toBe(expected);
  });

  it('places the hunks where the lines are now, for a minimal editor edit', () => {
    const outcome = rebaseEdit(base, proposed, lines('zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight'));
    expect(outcome.ok && outcome.hunks).toEqual([{ start: 2, end: 3, lines: ['TWO\n'] }, { start: 7, end: 8, lines: ['SEVEN\n'] }]);
  });

  it('names exactly the hunk the user also changed, in both texts', () => {
    const current = lines('zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven?', 'eight');
    expect(rebaseEdit(base, proposed, current)).toEqual({ ok: false, conflicts: [{ proposalStart: 7, proposalEnd: 7, currentStart: 8, currentEnd: 8 }] });
  });

  it.each([
    ['both insert at the same place', lines('a', 'c'), lines('a', 'b', 'c'), lines('a', 'x', 'c')],
    ['the user deletes a line the proposal changes', lines('a', 'b', 'c'), lines('a', 'B', 'c'), lines('a', 'c')],
    ['the proposal inserts inside lines the user rewrote', lines('a', 'b', 'c', 'd'), lines('a', 'b', 'new', 'c', 'd'), lines('a', 'X', 'Y', 'd')],
  ])('refuses when %s', (_name, from, proposal, current) => {
    const outcome = rebaseEdit(from, proposal, current);
    expect(outcome.ok).toBe(false);
  });

  it('keeps CRLF lines and a missing final newline as they are', () => {
    const outcome = rebaseEdit('a\r\nb\r\nc', 'a\r\nB\r\nc', 'top\r\na\r\nb\r\nc');
    expect(outcome.ok && outcome.text).toBe('top\r\na\r\nB\r\nc');
  });
});
