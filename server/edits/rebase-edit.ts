import { detectLineEndings } from '../workspace/file-encoding.js';
import { changedRegions, lineBreakOf, sameButBreakKind, splitLinesKeepingEnds, type ChangedRegion } from './text-lines.js';

/**
 * Rebasing a proposal onto the text a file has now: a three-way merge of base = the text the proposal was made
 * from, ours = the current text (the user kept editing), theirs = the proposal. The proposal's hunks that no
 * edit of the user touched are moved to where those lines are now; a hunk the user also changed is a conflict,
 * reported with its lines, and then nothing of the file is applied (half a change is worse than none).
 * Line breaks that differ only in kind (CRLF against LF) are not edits: Emacs hands a CRLF file over with LFs.
 */

/** One hunk of the proposal placed in the current text: current lines [start, end) (0-based) become `lines`. */
export interface RebasedHunk {
  start: number;
  end: number;
  lines: string[];
}

/** A hunk of the proposal that the user's edits also touched, in 1-based inclusive lines for messages. */
export interface HunkConflict {
  /** The proposal's lines in the text it was made from (`end` < `start` for a pure insertion before `start`). */
  proposalStart: number;
  proposalEnd: number;
  /** Where those lines are in the current text. */
  currentStart: number;
  currentEnd: number;
}

export type RebaseOutcome =
  | { ok: true; text: string; hunks: RebasedHunk[] }
  | { ok: false; conflicts: HunkConflict[] };

const sameRegion = (a: ChangedRegion, b: ChangedRegion) => a.start === b.start && a.end === b.end && a.lines.length === b.lines.length
  && a.lines.every((line, index) => sameButBreakKind(line, b.lines[index]));

/**
 * The proposal's lines with the breaks of the text they go into: the break of the current line just above them
 * (below them at the top), else that text's dominant one; a last line without a break, and a lone CR, stay.
 */
function inBreaksOf(currentLines: string[], start: number, end: number, lines: string[], dominant: string): string[] {
  const neighbour = [currentLines[start - 1], currentLines[end]].map((line) => (line ? lineBreakOf(line) : ''))
    .find((lineBreak) => lineBreak === '\n' || lineBreak === '\r\n') ?? dominant;
  return lines.map((line) => line.replace(/\r?\n$/, neighbour));
}

/**
 * Whether two edits of the same base cannot both be applied: they overlap, both insert at the same place (which
 * lines come first would be a guess), or one inserts strictly inside lines the other replaces. Edits on adjacent
 * lines, and a line inserted just above or below the other's lines, are independent: the order is clear.
 */
function collide(a: ChangedRegion, b: ChangedRegion): boolean {
  if (a.start < b.end && b.start < a.end) return true;
  const aInserts = a.start === a.end;
  const bInserts = b.start === b.end;
  if (aInserts && bInserts) return a.start === b.start;
  if (aInserts) return b.start < a.start && a.start < b.end;
  if (bInserts) return a.start < b.start && b.start < a.end;
  return false;
}

/** Describes where a text range is for the user: `lines 4-6`, `line 4`, or an insertion point. */
export function describeLines(start: number, end: number): string {
  if (end < start) return `the insertion before line ${start}`;
  return start === end ? `line ${start}` : `lines ${start}-${end}`;
}

/**
 * Rebases `proposed` (made from `base`) onto `current`. `ok` carries the merged text and the proposal's hunks in
 * current-text lines (for a minimal editor edit); otherwise every conflicting hunk. Identical changes on both
 * sides are not conflicts (the user already made that change).
 */
export function rebaseEdit(base: string, proposed: string, current: string): RebaseOutcome {
  const baseLines = splitLinesKeepingEnds(base);
  const currentLines = splitLinesKeepingEnds(current);
  const theirs = changedRegions(baseLines, splitLinesKeepingEnds(proposed));
  const ours = changedRegions(baseLines, currentLines, sameButBreakKind);
  const { dominant } = detectLineEndings(current);
  const hunks: RebasedHunk[] = [];
  const conflicts: HunkConflict[] = [];
  for (const hunk of theirs) {
    if (ours.some((edit) => sameRegion(edit, hunk))) continue;
    const shift = ours.filter((edit) => edit.end <= hunk.start && !collide(edit, hunk)).reduce((sum, edit) => sum + edit.lines.length - (edit.end - edit.start), 0);
    const colliding = ours.filter((edit) => collide(edit, hunk));
    if (!colliding.length) {
      hunks.push({ start: hunk.start + shift, end: hunk.end + shift, lines: inBreaksOf(currentLines, hunk.start + shift, hunk.end + shift, hunk.lines, dominant) });
      continue;
    }
    // The user's side of the conflict: the hunk's lines and the user's overlapping edits, as they are now
    const start = Math.min(hunk.start, ...colliding.map((edit) => edit.start));
    const end = Math.max(hunk.end, ...colliding.map((edit) => edit.end)) + colliding.reduce((sum, edit) => sum + edit.lines.length - (edit.end - edit.start), 0);
    conflicts.push({ proposalStart: hunk.start + 1, proposalEnd: hunk.end, currentStart: start + shift + 1, currentEnd: end + shift });
  }
  if (conflicts.length) return { ok: false, conflicts };
  const merged: string[] = [];
  let at = 0;
  for (const hunk of hunks) {
    merged.push(...currentLines.slice(at, hunk.start), ...hunk.lines);
    at = hunk.end;
  }
  merged.push(...currentLines.slice(at));
  return { ok: true, text: merged.join(''), hunks };
}
