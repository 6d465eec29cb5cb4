import { diffArrays } from 'diff';

/**
 * A text's lines with their line breaks kept (`"a\r\nb"` → `["a\r\n", "b"]`), breaking where LSP does: at
 * `\r\n`, `\n` and a lone `\r`. Joining the result gives the text back; an empty text has no lines.
 */
export function splitLinesKeepingEnds(text: string): string[] {
  return text.match(/[^\r\n]*(?:\r\n|\n|\r)|[^\r\n]+$/g) ?? [];
}

/** A line's break (`"\r\n"`, `"\n"`, `"\r"` or `""` for a last line without one). */
export function lineBreakOf(line: string): string {
  return /(?:\r\n|\n|\r)$/.exec(line)?.[0] ?? '';
}

/**
 * Whether two lines are the same apart from the kind of their break: `"x\r\n"` = `"x\n"`, but `"x"` ≠ `"x\n"`
 * (the presence of a break is content). Editors disagree on how they hand a CRLF file over: Neovim and Helix
 * send its CRLFs, Emacs (eglot) sends the buffer's LFs and writes CRLFs back on save.
 */
export function sameButBreakKind(a: string, b: string): boolean {
  const plain = (line: string) => (line.endsWith('\r\n') ? `${line.slice(0, -2)}\n` : line);
  return plain(a) === plain(b);
}

/**
 * One place where `other` differs from `base`: base lines [start, end) (0-based, end exclusive; start = end for
 * a pure insertion before line `start`) are replaced by `lines` (with their breaks).
 */
export interface ChangedRegion {
  start: number;
  end: number;
  lines: string[];
}

/**
 * Where `otherLines` differs from `baseLines`, as non-overlapping regions in base order (a line diff, from the
 * `diff` package). `equal` decides which lines count as the same (default: identical strings).
 */
export function changedRegions(baseLines: string[], otherLines: string[], equal?: (a: string, b: string) => boolean): ChangedRegion[] {
  const regions: ChangedRegion[] = [];
  let at = 0;
  let open: ChangedRegion | null = null;
  for (const change of diffArrays(baseLines, otherLines, equal ? { comparator: equal } : {})) {
    if (!change.added && !change.removed) {
      open = null;
      at += change.count;
      continue;
    }
    if (!open) {
      open = { start: at, end: at, lines: [] };
      regions.push(open);
    }
    if (change.removed) {
      at += change.count;
      open.end = at;
    } else open.lines.push(...change.value);
  }
  return regions;
}
