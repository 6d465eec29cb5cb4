/**
 * A file's indentation unit and re-indenting text into it, so a block the model wrote with spaces lands in a
 * tab-indented file as tabs (and 2-space blocks in a 4-space file as 4 spaces), every level of it.
 */

/** One level of indentation: a tab, or `width` spaces. */
export type IndentUnit = { kind: 'tab' } | { kind: 'space'; width: number };

const isBlank = (line: string) => line.trim() === '';

function leadingWhitespace(line: string): string {
  return /^[ \t]*/.exec(line)![0];
}

/**
 * The indentation unit of some lines, or null when none of them is indented. Tabs win when more lines start with
 * a tab than with a space. The space width is the most frequent change of indentation between consecutive
 * lines (as detect-indent does), one-space changes left out (they are alignment, like ` * ` in doc
 * comments); with no such change, `widthWithoutChanges` when given (lines all at one depth say nothing of the
 * width), else the smallest indentation.
 */
export function indentUnitOf(lines: string[], widthWithoutChanges?: number): IndentUnit | null {
  // One pass without copying lines: this runs over whole files (a 900 KB file at every search/replace block).
  let tabLed = 0;
  let spaceLed = 0;
  let previous = -1;
  let least = Infinity;
  const deltas = new Map<number, number>();
  for (const line of lines) {
    let width = 0;
    while (width < line.length && (line[width] === ' ' || line[width] === '\t')) width++;
    if (width === line.length || (/\s/.test(line[width]) && line.trim() === '')) continue;
    if (line[0] === '\t') {
      tabLed++;
      continue;
    }
    if (line[0] === ' ') spaceLed++;
    if (previous >= 0 && width !== previous) deltas.set(Math.abs(width - previous), (deltas.get(Math.abs(width - previous)) ?? 0) + 1);
    if (width > 0 && width < least) least = width;
    previous = width;
  }
  if (tabLed === 0 && spaceLed === 0) return null;
  if (tabLed > spaceLed) return { kind: 'tab' };
  const ranked = [...deltas].filter(([delta]) => delta > 1).sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  return { kind: 'space', width: ranked[0]?.[0] ?? widthWithoutChanges ?? least };
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
