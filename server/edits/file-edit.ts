import { applyPatch, parsePatch } from 'diff';
import { indentUnitOf, reindentLines, sameUnit } from './indentation.js';
import { keepLineEndings, toLf } from './line-endings.js';
import { applyBlock, type SearchReplaceBlock } from './search-replace.js';
import { changedRegions, splitLinesKeepingEnds } from './text-lines.js';

/**
 * One edit of one file, as the model means it — exactly one of: search/replace `blocks`, the whole new
 * `content`, a unified-diff `patch`, or `delete`.
 */
export type FileEdit =
  | { kind: 'blocks'; blocks: SearchReplaceBlock[] }
  | { kind: 'content'; content: string }
  | { kind: 'patch'; patch: string }
  | { kind: 'delete' };

export type FileEditOutcome =
  | { ok: true; text: string | null; report: string }
  | { ok: false; message: string };

/**
 * Whole new content for an existing file, in that file's indentation unit when the content brings another one
 * (detected over each text as a whole, so only a clear difference converts).
 */
function inFileIndentation(current: string, content: string): string {
  const fileUnit = indentUnitOf(current.split('\n'));
  const contentUnit = indentUnitOf(content.split('\n'));
  if (!fileUnit || !contentUnit || sameUnit(fileUnit, contentUnit)) return content;
  return reindentLines(content.split('\n'), contentUnit, fileUnit).join('\n');
}

/**
 * A patched text with the lines the patch added re-indented in the file's unit when they bring another one (the
 * patch's context lines matched the file, so only added lines can differ).
 */
function addedLinesInFileIndentation(current: string, patched: string): string {
  const fileUnit = indentUnitOf(current.split('\n'));
  const originalLines = splitLinesKeepingEnds(current);
  const regions = changedRegions(originalLines, splitLinesKeepingEnds(patched));
  const addedUnit = indentUnitOf(regions.flatMap((region) => region.lines), fileUnit?.kind === 'space' ? fileUnit.width : undefined);
  if (!fileUnit || !addedUnit || sameUnit(fileUnit, addedUnit)) return patched;
  const result: string[] = [];
  let at = 0;
  for (const region of regions) {
    result.push(...originalLines.slice(at, region.start), ...reindentLines(region.lines, addedUnit, fileUnit));
    at = region.end;
  }
  return [...result, ...originalLines.slice(at)].join('');
}

/**
 * A patch that does not apply as it is, applied hunk by hunk as search/replace blocks (old side → new side), so
 * the blocks' matching forgives what models get wrong in patches — an indentation unit other than the file's,
 * line numbers that are off. Null when the patch cannot be read or a hunk matches nowhere (or twice).
 */
function patchAsBlocks(text: string, patch: string): string | null {
  let files: ReturnType<typeof parsePatch>;
  try {
    files = parsePatch(patch);
  } catch {
    return null;
  }
  const hunks = files.flatMap((file) => file.hunks);
  if (!hunks.length) return null;
  let result = text;
  for (const hunk of hunks) {
    const side = (keep: string) => hunk.lines.filter((line) => line[0] === ' ' || line[0] === keep).map((line) => `${line.slice(1)}\n`).join('');
    const outcome = applyBlock(result, { search: side('-'), replace: side('+') });
    if (!outcome.ok) return null;
    result = outcome.text;
  }
  return result;
}

/**
 * Applies an edit to a file's current text (`null`: the file does not exist) and returns the new text (`null`:
 * delete) with a one-line report for the model, or why nothing was changed. Edits are matched in LF form and the
 * result keeps the file's line endings (line-endings.ts) and indentation unit (indentation.ts), whatever the
 * model wrote; encoding is the writer's business (file-encoding.ts).
 */
export function applyFileEdit(current: string | null, edit: FileEdit): FileEditOutcome {
  if (edit.kind === 'delete') return { ok: true, text: null, report: 'deleted' };
  if (edit.kind === 'content') {
    if (current === null) return { ok: true, text: edit.content, report: `created (${edit.content.split('\n').length} lines)` };
    const text = keepLineEndings(current, inFileIndentation(toLf(current), toLf(edit.content)));
    return { ok: true, text, report: `wrote the whole file (${text.split('\n').length} lines)` };
  }
  if (current === null) return { ok: false, message: 'the file does not exist; to create it, send edit {"kind": "content", "content": …}' };
  const lf = toLf(current);
  if (edit.kind === 'patch') {
    // A little fuzz: models often get a context line's whitespace slightly wrong.
    const patched = applyPatch(lf, toLf(edit.patch), { fuzzFactor: 2 });
    if (patched === false) {
      const asBlocks = patchAsBlocks(lf, toLf(edit.patch));
      if (asBlocks !== null) return { ok: true, text: keepLineEndings(current, asBlocks), report: 'patch applied (its hunks matched as search/replace blocks)' };
    }
    if (patched === false) return { ok: false, message: 'the patch does not apply: its context lines do not match the file; read the file again or use blocks' };
    return { ok: true, text: keepLineEndings(current, addedLinesInFileIndentation(lf, patched)), report: 'patch applied' };
  }
  let text = lf;
  const report: string[] = [];
  for (const [i, block] of edit.blocks.entries()) {
    const outcome = applyBlock(text, { search: toLf(block.search), replace: toLf(block.replace) });
    if (!outcome.ok) return { ok: false, message: `block ${i + 1} not applied (${outcome.reason}): ${outcome.message}\nNo block of this call was applied.` };
    text = outcome.text;
    report.push(`block ${i + 1}: applied (${outcome.how} match)`);
  }
  return { ok: true, text: keepLineEndings(current, text), report: report.join('; ') };
}
