import { detectLineEndings } from '../workspace/file-encoding.js';
import { changedRegions, lineBreakOf, sameButBreakKind, splitLinesKeepingEnds } from './text-lines.js';

/** Text with every CRLF turned into LF: the form edits are matched and applied in (a lone CR is content). */
export function toLf(text: string): string {
  return text.replaceAll('\r\n', '\n');
}

/** Whether `text` holds a CR that does not start a CRLF (a line break of its own, as LSP counts lines). */
function hasLoneCr(text: string): boolean {
  for (let at = text.indexOf('\r'); at !== -1; at = text.indexOf('\r', at + 1)) if (text[at + 1] !== '\n') return true;
  return false;
}

/**
 * Gives an edited text the line-ending style of the original it was made from, whatever breaks the edit used:
 * lines the edit left alone keep their own break (so a mixed file stays exactly as mixed as it was), and every
 * new or changed line takes the break of the original line just above it (below it at the top of the file) —
 * in a uniform file that is the file's style, in a mixed one the style of the part being edited. A line
 * without a break at the end of the file stays without one; an original without any line break imposes nothing.
 */
export function keepLineEndings(original: string, edited: string): string {
  const { style, dominant } = detectLineEndings(original);
  if (style === 'none') return edited;
  // A uniform original (no lone CR) and an edit without CR: every line, kept or new, takes the file's one break,
  // so the line diff below (tens of ms on a 1 MB file rewritten whole) is not needed.
  if ((style === 'lf' || style === 'crlf') && !edited.includes('\r') && !hasLoneCr(original)) {
    return style === 'lf' ? edited : edited.replaceAll('\n', '\r\n');
  }
  const originalLines = splitLinesKeepingEnds(original);
  const editedLines = splitLinesKeepingEnds(edited);
  const regions = changedRegions(originalLines, editedLines, sameButBreakKind);
  const result: string[] = [];
  let at = 0;
  for (const region of regions) {
    result.push(...originalLines.slice(at, region.start));
    const neighbour = [originalLines[region.start - 1], originalLines[region.end]].map((line) => (line ? lineBreakOf(line) : ''))
      .find((lineBreak) => lineBreak === '\n' || lineBreak === '\r\n') ?? dominant;
    result.push(...region.lines.map((line) => (/\r?\n$/.test(line) ? line.replace(/\r?\n$/, neighbour) : line)));
    at = region.end;
  }
  result.push(...originalLines.slice(at));
  return result.join('');
}
