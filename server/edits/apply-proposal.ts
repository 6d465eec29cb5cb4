import type { ProposedFile } from '../agent/session-store.js';
import { CodeloopError, errorMessage } from '../errors.js';
import { readTextFile, removeFile, writeTextFile } from '../workspace/confined-files.js';
import { DEFAULT_ENCODING } from '../workspace/file-encoding.js';
import { describeLines, rebaseEdit, type RebasedHunk } from './rebase-edit.js';

/**
 * What applying one proposed file takes, given the file as it is now:
 * - `create` / `delete`: the whole file;
 * - `modify`: the proposal rebased onto `current` (the user's later edits kept), as the merged `text` and the
 *   proposal's `hunks` in current lines;
 * - `unchanged`: the file already is as proposed.
 */
export type FilePlan =
  | { path: string; action: 'create'; text: string }
  | { path: string; action: 'delete' }
  | { path: string; action: 'modify'; current: string; text: string; hunks: RebasedHunk[] }
  | { path: string; action: 'unchanged' };

/** The applicable files, and one message per file that cannot be applied (naming the file and the hunk). */
export interface ApplyPlan {
  files: FilePlan[];
  conflicts: string[];
}

/**
 * A file's text now (an editor's unsaved buffer or the disk), null when it does not exist. It may throw a
 * CodeloopError (a path leading out of the workspace, a file that is not text): that file is then not applied.
 */
export type CurrentText = (relativePath: string) => string | null;

function planFile(file: ProposedFile, current: string | null): FilePlan | string {
  if (current === file.after) return { path: file.path, action: 'unchanged' };
  if (file.before === null) {
    return current === null ? { path: file.path, action: 'create', text: file.after! } : `${file.path}: the proposal creates it, but it exists now`;
  }
  if (current === null) return `${file.path}: the file was deleted since the proposal was made`;
  if (file.after === null) return current === file.before ? { path: file.path, action: 'delete' } : `${file.path}: the proposal deletes it, but you changed it since`;
  const rebased = rebaseEdit(file.before, file.after, current);
  if (rebased.ok) return { path: file.path, action: 'modify', current, text: rebased.text, hunks: rebased.hunks };
  return rebased.conflicts.map((conflict) => `${file.path}: the proposal's change to ${describeLines(conflict.proposalStart, conflict.proposalEnd)} `
    + `conflicts with your edit, now ${describeLines(conflict.currentStart, conflict.currentEnd)}`).join('\n');
}

/**
 * Decides, file by file, what applying a proposal takes now: each file's proposal rebased onto its current text
 * (see rebase-edit.ts), so edits the user made since that touch none of its hunks are kept, and a hunk they did
 * touch is reported with its lines.
 */
export function planProposalApply(files: ProposedFile[], currentText: CurrentText): ApplyPlan {
  const plan: ApplyPlan = { files: [], conflicts: [] };
  for (const file of files) {
    let outcome: FilePlan | string;
    try {
      outcome = planFile(file, currentText(file.path));
    } catch (error) {
      if (!(error instanceof CodeloopError)) throw error;
      outcome = `${file.path}: not applied: ${errorMessage(error)}`;
    }
    if (typeof outcome === 'string') plan.conflicts.push(...outcome.split('\n'));
    else plan.files.push(outcome);
  }
  return plan;
}

/**
 * The current text of a file on disk under `realRoot`, refusing (CodeloopError) a path that leads out of the
 * workspace or that became a link since the proposal (it would be written somewhere else than was shown).
 */
export function diskText(realRoot: string, relativePath: string): string | null {
  const file = readTextFile(realRoot, relativePath);
  if (file && file.path !== relativePath) {
    throw new CodeloopError('pathOutsideWorkspace', `${relativePath} is now a symlink to ${file.path}; the proposal was made for the file itself`);
  }
  return file?.text ?? null;
}

/**
 * Writes a proposal into the user's workspace (the CLI's Apply), file by file, rebased onto what each file holds
 * now; each file keeps its encoding, a new one gets the proposal's. Paths are confined again (confined-files.ts).
 * Returns the files written and a message per file left alone.
 */
export function applyProposalToDisk(realRoot: string, files: ProposedFile[]): { applied: string[]; conflicts: string[] } {
  const plan = planProposalApply(files, (relative) => diskText(realRoot, relative));
  const applied: string[] = [];
  for (const file of plan.files) {
    const proposed = files.find((candidate) => candidate.path === file.path)!;
    try {
      if (file.action === 'delete') removeFile(realRoot, file.path);
      else if (file.action === 'create') writeTextFile(realRoot, file.path, file.text, proposed.encoding ?? DEFAULT_ENCODING);
      else if (file.action === 'modify') writeTextFile(realRoot, file.path, file.text, readTextFile(realRoot, file.path)?.encoding ?? DEFAULT_ENCODING);
    } catch (error) {
      if (!(error instanceof CodeloopError)) throw error;
      plan.conflicts.push(`${file.path}: not applied: ${errorMessage(error)}`);
      continue;
    }
    applied.push(file.path);
  }
  return { applied, conflicts: plan.conflicts };
}
