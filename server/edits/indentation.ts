/**
 * A file's indentation unit and re-indenting text into it, so a block the model wrote with spaces lands in a
 * tab-indented file as tabs (and 2-space blocks in a 4-space file as 4 spaces), every level of it.
 */

/** One level of indentation: a tab, or `width` spaces. */
export type IndentUnit = { kind: 'tab' } | { kind: 'space'; width: number };

function leadingWhitespace(line: string): string {
  return /^[ \t]*/.exec(line)![0];
}

const isBlank = (line: string) => line.trim() === '';

/**
 * The indentation unit of some lines, or null when none of them is indented. Tabs win when more lines start with
 * a tab than with a space. The space width is the most frequent change of indentation between consecutive
 * lines (as detect-indent does), one-space changes left out (they are alignment, like ` * ` in doc
 * comments); with no such change, `widthWithoutChanges` when given (lines all at one depth say nothing of the
 * width), else the smallest indentation.
 */
export function indentUnitOf(lines: string[], widthWithoutChanges?: number): IndentUnit | null {
  const indented = lines.filter((line) => !isBlank(line));
  const tabLed = indented.filter((line) => line.startsWith('\t')).length;
  const spaceLed = indented.filter((line) => line.startsWith(' ')).length;
  if (tabLed === 0 && spaceLed === 0) return null;
  if (tabLed > spaceLed) return { kind: 'tab' };
  const widths = indented.map((line) => (line.startsWith('\t') ? -1 : leadingWhitespace(line).length)).filter((width) => width >= 0);
  const deltas = new Map<number, number>();
  for (let i = 1; i < widths.length; i++) {
    const delta = Math.abs(widths[i] - widths[i - 1]);
    if (delta) deltas.set(delta, (deltas.get(delta) ?? 0) + 1);
  }
  const ranked = [...deltas].filter(([delta]) => delta > 1).sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  const width = ranked[0]?.[0] ?? widthWithoutChanges ?? Math.min(...widths.filter(Boolean));
  return { kind: 'space', width };
}

export function sameUnit(a: IndentUnit, b: IndentUnit): boolean {
  return a.kind === b.kind && (a.kind === 'tab' || a.width === (b as { width: number }).width);
}

/** How deep a line is in `unit`: whole levels, plus spaces left over (alignment, kept as spaces). */
export function indentLevelOf(line: string, unit: IndentUnit): { levels: number; rest: number } {
  const whitespace = leadingWhitespace(line);
  const tabs = whitespace.split('').filter((c) => c === '\t').length;
  const spaces = whitespace.length - tabs;
  // In a tab-indented block, spaces after the tabs are alignment; in a space-indented one they are levels
  if (unit.kind === 'tab') return { levels: tabs, rest: spaces };
  return { levels: tabs + Math.floor(spaces / unit.width), rest: spaces % unit.width };
}

/**
 * Re-indents lines written in `from` into `to`, moving each by `shift` levels (never below zero); blank lines
 * and a line's text after its indentation are left as they are.
 */
export function reindentLines(lines: string[], from: IndentUnit, to: IndentUnit, shift = 0): string[] {
  const level = to.kind === 'tab' ? '\t' : ' '.repeat(to.width);
  return lines.map((line) => {
    if (isBlank(line)) return line;
    const { levels, rest } = indentLevelOf(line, from);
    return level.repeat(Math.max(0, levels + shift)) + ' '.repeat(rest) + line.slice(leadingWhitespace(line).length);
  });
}
