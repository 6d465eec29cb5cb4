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

/**
 * How messages name the edit being made: a proposal being applied, or an applied proposal being reverted (its
 * inverse, see `inverseProposal`). `since` is the moment the edit's `before` texts were taken.
 */
export interface EditWording {
  /** The edit as a subject: "the proposal", "the revert". */
  edit: string;
  /** The past moment its base was taken: "the proposal was made", "it was applied". */
  since: string;
  /** What a file left alone was not: "applied", "reverted". */
  done: string;
}

export const APPLY_WORDING: EditWording = { edit: 'the proposal', since: 'the proposal was made', done: 'applied' };
export const REVERT_WORDING: EditWording = { edit: 'the revert', since: 'it was applied', done: 'reverted' };

function planFile(file: ProposedFile, current: string | null, wording: EditWording): FilePlan | string {
  if (current === file.after) return { path: file.path, action: 'unchanged' };
  if (file.before === null) {
    return current === null ? { path: file.path, action: 'create', text: file.after! } : `${file.path}: ${wording.edit} creates it, but it exists now`;
  }
  if (current === null) return `${file.path}: the file was deleted since ${wording.since}`;
  if (file.after === null) return current === file.before ? { path: file.path, action: 'delete' } : `${file.path}: ${wording.edit} deletes it, but you changed it since ${wording.since}`;
  const rebased = rebaseEdit(file.before, file.after, current);
  if (rebased.ok) return { path: file.path, action: 'modify', current, text: rebased.text, hunks: rebased.hunks };
  return rebased.conflicts.map((conflict) => `${file.path}: ${wording.edit}'s change to ${describeLines(conflict.proposalStart, conflict.proposalEnd)} `
    + `conflicts with your edit, now ${describeLines(conflict.currentStart, conflict.currentEnd)}`).join('\n');
}

/**
 * The edit that undoes an applied proposal: each file from its proposed text back to the text it had before
 * (a created file deleted, a deleted one created again). Planned like the proposal itself (planProposalApply with
 * REVERT_WORDING), so a file changed since the apply is rebased, or reported with its lines, never overwritten. A
 * file created again is written in UTF-8 (the proposal does not record a deleted file's encoding).
 */
export function inverseProposal(files: ProposedFile[]): ProposedFile[] {
  return files.map((file) => ({ path: file.path, before: file.after, after: file.before, encoding: file.encoding }));
}

/**
 * Decides, file by file, what applying a proposal takes now: each file's proposal rebased onto its current text
 * (see rebase-edit.ts), so edits the user made since that touch none of its hunks are kept, and a hunk they did
 * touch is reported with its lines.
 */
export function planProposalApply(files: ProposedFile[], currentText: CurrentText, wording: EditWording = APPLY_WORDING): ApplyPlan {
  const plan: ApplyPlan = { files: [], conflicts: [] };
  for (const file of files) {
    let outcome: FilePlan | string;
    try {
      outcome = planFile(file, currentText(file.path), wording);
    } catch (error) {
      if (!(error instanceof CodeloopError)) throw error;
      outcome = `${file.path}: not ${wording.done}: ${errorMessage(error)}`;
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
 * Writes a proposal into the user's workspace (the CLI's Apply, or with REVERT_WORDING and `inverseProposal` its
 * Revert), file by file, rebased onto what each file holds now; each file keeps its encoding, a new one gets the
 * proposal's. Paths are confined again (confined-files.ts). Returns the files written and a message per file left alone.
 */
export function applyProposalToDisk(realRoot: string, files: ProposedFile[], wording: EditWording = APPLY_WORDING): { applied: string[]; conflicts: string[] } {
  const plan = planProposalApply(files, (relative) => diskText(realRoot, relative), wording);
  const applied: string[] = [];
  for (const file of plan.files) {
    const proposed = files.find((candidate) => candidate.path === file.path)!;
    try {
      if (file.action === 'delete') removeFile(realRoot, file.path);
      else if (file.action === 'create') writeTextFile(realRoot, file.path, file.text, proposed.encoding ?? DEFAULT_ENCODING);
      else if (file.action === 'modify') writeTextFile(realRoot, file.path, file.text, readTextFile(realRoot, file.path)?.encoding ?? DEFAULT_ENCODING);
    } catch (error) {
      // Refused (a link, an encoding) or the file system said no (a folder in the way, permissions): that file only
      if (!(error instanceof CodeloopError) && (error as NodeJS.ErrnoException).code === undefined) throw error;
      plan.conflicts.push(`${file.path}: not ${wording.done}: ${errorMessage(error)}`);
      continue;
    }
    applied.push(file.path);
  }
  return { applied, conflicts: plan.conflicts };
}
