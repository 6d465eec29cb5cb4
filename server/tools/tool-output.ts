/**
 * Tool output capped at the source: what goes to the model is bounded, and a shortened output says how to get
 * the rest (the full text stays in the session's events, readable with `read_output`).
 */

/** Lines that name a failure in the output of common test runners (node, vitest/jest, pytest, go, cargo, tap). */
const FAILURE_LINE = /\b(fail(ed|ure|ing)?|error|exception|assert(ion)?|expected|panic(ked)?|traceback|not ok)\b|✗|×|✘/i;
const HEAD_LINES = 15;
const TAIL_LINES = 25;
/** Lines kept around each failure line: the message and the location are usually next to it. */
const FAILURE_CONTEXT = 2;

/**
 * A long command or test output reduced to its first lines, every line that names a failure (with a little
 * context) and its last lines, within `limit` characters. Output within the limit is returned as is.
 */
export function reduceCommandOutput(output: string, limit: number): string {
  if (output.length <= limit) return output;
  const lines = output.split('\n');
  const keep = new Set<number>();
  for (let i = 0; i < Math.min(HEAD_LINES, lines.length); i++) keep.add(i);
  for (let i = Math.max(0, lines.length - TAIL_LINES); i < lines.length; i++) keep.add(i);
  lines.forEach((line, i) => {
    if (!FAILURE_LINE.test(line)) return;
    for (let j = Math.max(0, i - FAILURE_CONTEXT); j <= Math.min(lines.length - 1, i + FAILURE_CONTEXT); j++) keep.add(j);
  });
  const parts: string[] = [];
  let previous = -1;
  for (const i of [...keep].sort((a, b) => a - b)) {
    if (i > previous + 1) parts.push(`… [${i - previous - 1} lines not shown] …`);
    parts.push(lines[i].length > 400 ? `${lines[i].slice(0, 400)}…` : lines[i]);
    previous = i;
  }
  if (previous < lines.length - 1) parts.push(`… [${lines.length - 1 - previous} lines not shown] …`);
  return capText(parts.join('\n'), limit);
}

/** Keeps head and tail of a text longer than `limit` characters, saying how much was cut. */
export function capText(text: string, limit: number): string {
  if (text.length <= limit) return text;
  const half = Math.floor(limit / 2);
  return `${text.slice(0, half)}\n… [${text.length - limit} characters cut] …\n${text.slice(-half)}`;
}

/**
 * The numbered lines `startLine`… of a text (1-based) that fit in `limit` characters and `maxLines` lines, with
 * the range shown; when more follows, a note names the call that reads on.
 */
export function numberedSlice(
  title: string,
  text: string,
  range: { startLine: number; endLine?: number },
  limits: { characters: number; maxLines: number },
  readMore: (nextLine: number) => string,
): string {
  const lines = text.split('\n');
  const wanted = Math.min(lines.length, range.endLine ?? lines.length);
  const shown: string[] = [];
  let size = 0;
  let line = range.startLine;
  for (; line <= wanted && shown.length < limits.maxLines; line++) {
    const numbered = `${line}: ${lines[line - 1]}`;
    if (shown.length && size + numbered.length + 1 > limits.characters) break;
    shown.push(numbered.length > limits.characters ? `${numbered.slice(0, limits.characters)}…` : numbered);
    size += numbered.length + 1;
  }
  const last = line - 1;
  const header = `${title} (lines ${range.startLine}-${last} of ${lines.length})`;
  const more = last < wanted ? `\n[shortened: lines ${last + 1}-${wanted} not shown; ${readMore(last + 1)}]` : '';
  return `${header}\n${shown.join('\n')}${more}`;
}
