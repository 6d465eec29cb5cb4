import type { LineTerms } from './line-terms.js';

/** Lines in a ranked file's window (the part shown, and sent as context). */
const WINDOW_LINES = 30;
/** A line holding an identifier the question quotes weighs like a couple of rare words. */
const IDENTIFIER_LINE_WEIGHT = 4;

/** A ranked file's best window: 1-based lines [startLine, endLine] and its best line, trimmed (at most 200 characters). */
export interface LineWindow {
  startLine: number;
  endLine: number;
  preview: string;
}

/**
 * The WINDOW_LINES-line window that covers the most of the question: with `coverage`, each distinct query word in
 * the window counts its weight once (so the window where the report's rare words meet wins over one that repeats a
 * common word), plus the quoted identifiers on its lines, plus a tenth of the per-line weights to prefer density;
 * without it, the per-line weights alone.
 */
export function bestWindow(text: string, lines: LineTerms, weightById: readonly number[], coverage: boolean): LineWindow {
  const lineScores = new Float64Array(lines.lineCount);
  const seen = new Set<number>();
  for (let line = 0; line < lines.lineCount; line++) {
    seen.clear();
    let score = IDENTIFIER_LINE_WEIGHT * lines.identifierHits[line];
    for (let k = lines.lineStarts[line]; k < lines.lineStarts[line + 1]; k++) {
      const id = lines.termIds[k];
      if (!seen.has(id)) score += weightById[id];
      seen.add(id);
    }
    lineScores[line] = score;
  }
  const inWindow = new Uint32Array(weightById.length);
  const density = coverage ? 0.1 : 1;
  let covered = 0;
  let best = 0;
  let bestStart = 0;
  let running = 0;
  const slide = (line: number, step: 1 | -1) => {
    running += step * (density * lineScores[line] + (coverage ? IDENTIFIER_LINE_WEIGHT * lines.identifierHits[line] : 0));
    if (!coverage) return;
    for (let k = lines.lineStarts[line]; k < lines.lineStarts[line + 1]; k++) {
      const id = lines.termIds[k];
      if (step > 0 ? inWindow[id]++ === 0 : --inWindow[id] === 0) covered += step * weightById[id];
    }
  };
  for (let i = 0; i < lines.lineCount; i++) {
    slide(i, 1);
    if (i >= WINDOW_LINES) slide(i - WINDOW_LINES, -1);
    if (running + covered > best) {
      best = running + covered;
      bestStart = Math.max(0, i - WINDOW_LINES + 1);
    }
  }
  const endLine = Math.min(lines.lineCount, bestStart + WINDOW_LINES);
  let previewLine = bestStart;
  for (let i = bestStart; i < endLine; i++) if (lineScores[i] > lineScores[previewLine]) previewLine = i;
  let offset = 0;
  for (let line = 0; line < previewLine && offset >= 0; line++) offset = text.indexOf('\n', offset) + 1;
  const lineEnd = text.indexOf('\n', offset);
  const preview = text.slice(offset, lineEnd < 0 ? undefined : lineEnd).trim().slice(0, 200);
  return { startLine: bestStart + 1, endLine: Math.max(endLine, 1), preview };
}
