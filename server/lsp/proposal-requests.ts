import fs from 'node:fs';
import path from 'node:path';
import type { RequestParams, RequestResult } from '../../protocol/lsp-methods.js';
import type { SessionFollower } from '../agent/session-follower.js';
import { writePlanDocument, writeProposalDocument } from '../agent/session-documents.js';
import { quoted } from '../agent/session-messages.js';
import type { ProposedFile, SessionRecord } from '../agent/session-store.js';
import { APPLY_WORDING, diskText, inverseProposal, planProposalApply, REVERT_WORDING, type EditWording } from '../edits/apply-proposal.js';
import { toLf } from '../edits/line-endings.js';
import { CodeloopError } from '../errors.js';
import { workspacePathToUri } from '../workspace/path-confinement.js';
import type { ClientContext } from './client-context.js';
import { proposalWorkspaceEdit } from './proposal-edits.js';

/**
 * `codeloop/applyProposal`: sends the proposal to this editor as a WorkspaceEdit it can take (see sendEdit):
 * later edits that touch none of the proposal's hunks are kept; a hunk that was also edited is a conflict naming
 * the file and lines, and that file is left alone (and the user told so). The session is applied once no file
 * is left.
 */
export async function applyProposal(client: ClientContext, follower: SessionFollower, params: RequestParams<'codeloop/applyProposal'>): Promise<RequestResult<'codeloop/applyProposal'>> {
  const session = client.ownSession(params.sessionId);
  if (session.state !== 'awaitingApproval' || !session.proposal) {
    throw new CodeloopError('invalidArgument', `session ${session.sessionId} has no proposal waiting (it is ${session.state})`);
  }
  const wanted = params.files ? new Set(params.files) : null;
  const sent = await sendEdit(client, session, session.proposal.filter((file) => !wanted || wanted.has(file.path)), APPLY_WORDING);
  if (sent.taken && sent.conflicts.length === 0) {
    follower.actedHere(session.sessionId);
    client.server.agent.markApplied(session.sessionId, sent.files);
  } else tellConflicts(client, session, sent, APPLY_WORDING);
  return { applied: sent.taken, conflicts: sent.conflicts };
}

/**
 * `codeloop/revert`: sends the inverse of an applied proposal to this editor exactly like Apply (see sendEdit),
 * so a file changed since the apply where the revert would change it is reported (file and lines) and left
 * alone, and the others are reverted; the session is `reverted` once every file is. Tells the user the outcome.
 * Errors: invalidArgument when the session has no applied proposal.
 */
export async function revertProposal(client: ClientContext, follower: SessionFollower, params: RequestParams<'codeloop/revert'>): Promise<RequestResult<'codeloop/revert'>> {
  const session = client.ownSession(params.sessionId);
  if (session.state !== 'applied' || !session.proposal) {
    throw new CodeloopError('invalidArgument', `session ${session.sessionId} is ${session.state}; only an applied proposal can be reverted`);
  }
  const sent = await sendEdit(client, session, inverseProposal(session.proposal), REVERT_WORDING);
  if (sent.taken && sent.conflicts.length === 0) {
    follower.actedHere(session.sessionId);
    client.server.agent.markReverted(session.sessionId, sent.files);
    client.tell('info', `reverted ${quoted(session.prompt)} (${sent.files.join(', ')})`);
  } else tellConflicts(client, session, sent, REVERT_WORDING);
  return { reverted: sent.taken, conflicts: sent.conflicts };
}

/**
 * Tells the user which files an Apply or Revert left alone and why (stock clients show nothing of a command's
 * result), after the files it did change: `applied src/a.js of "…"; not applied: src/b.js: …`.
 */
function tellConflicts(client: ClientContext, session: SessionRecord, sent: { taken: boolean; changed: string[]; conflicts: string[] }, wording: EditWording): void {
  if (!sent.conflicts.length) return;
  const done = sent.taken && sent.changed.length ? `${wording.done} ${sent.changed.join(', ')} of ${quoted(session.prompt)}; ` : '';
  client.tell('warning', `${done}not ${wording.done}: ${sent.conflicts.join('; ')}`);
}

/**
 * Sends `proposed` (a proposal, or its inverse) to this editor as one WorkspaceEdit it can take (see
 * proposalWorkspaceEdit), each file rebased onto its text now (the open buffer, else the disk) and pinned to the
 * buffer's version; files the editor cannot delete are deleted after it took the rest. A file another editor
 * attached to the workspace holds in an unsaved buffer that differs from the disk is a conflict naming that
 * editor (see unsavedElsewhere). Returns whether the editor took it (or nothing needed changing), the files
 * planned (`files`) and changed (`changed`), and a message per file left alone.
 */
async function sendEdit(client: ClientContext, session: SessionRecord, proposed: ProposedFile[], wording: EditWording): Promise<{ taken: boolean; files: string[]; changed: string[]; conflicts: string[] }> {
  // A file another editor holds unsaved is left alone: writing it here would go under that editor's typing.
  const holders = new Map(proposed.flatMap((file) => {
    const holder = unsavedElsewhere(client, session.root, file.path);
    return holder ? [[file.path, holder] as const] : [];
  }));
  const plan = planProposalApply(proposed.filter((file) => !holders.has(file.path)), (relative) => {
    const buffer = client.documents.get(workspacePathToUri(session.root, relative))?.getText();
    // Confined (links leading out refused) whether the text comes from the buffer or the disk
    const onDisk = diskText(session.root, relative);
    return buffer ?? onDisk;
  }, wording);
  for (const [relative, holder] of holders) {
    plan.conflicts.push(`${relative}: ${holder} has unsaved changes to this file; save or close it there, then try again (codeloop does not write under another editor's unsaved typing)`);
  }
  const planned = plan.files.map((file) => file.path);
  const files = plan.files.filter((file) => file.action !== 'unchanged');
  const changed = files.map((file) => file.path);
  if (!files.length) return { taken: plan.files.length > 0 && plan.conflicts.length === 0, files: planned, changed, conflicts: plan.conflicts };
  const { edit, deleteAfterwards } = proposalWorkspaceEdit(files, (relative) => workspacePathToUri(session.root, relative),
    (uri) => client.documents.get(uri)?.version ?? null, client.workspaceEditCapabilities);
  const result = await client.editor.applyEdit(`codeloop: ${session.prompt.slice(0, 60)}`, edit);
  if (!result.applied) {
    client.tell('error', `${client.name} did not apply ${wording.edit} ${quoted(session.prompt)}${result.failureReason ? `: ${result.failureReason}` : ''}`);
    return { taken: false, files: planned, changed, conflicts: plan.conflicts };
  }
  // Only files the plan found unchanged since the edit's base (read through the confined diskText) are deleted.
  for (const relative of deleteAfterwards) fs.rmSync(path.join(session.root, relative), { force: true });
  if (deleteAfterwards.length) client.tell('info', `deleted ${deleteAfterwards.join(', ')} (${wording.edit} removes them)`);
  return { taken: true, files: planned, changed, conflicts: plan.conflicts };
}

/**
 * The other editor (by its name) holding an unsaved buffer of the file whose text differs from the disk, or
 * null (line breaks that differ only in kind do not count). Such a buffer cannot take this editor's edit: the edit lands on the disk (or in this editor's buffer,
 * saved later), and the other editor would then hold text that silently undoes it, or overwrite it on its
 * next save. So that file is a conflict, not rebased onto the other buffer's text.
 */
function unsavedElsewhere(client: ClientContext, root: string, relative: string): string | null {
  const others = client.workspaces().find((candidate) => candidate.root === root)?.buffersOf(relative)
    .filter((buffer) => buffer.client.id !== client.id) ?? [];
  if (!others.length) return null;
  let onDisk: string | null;
  try {
    onDisk = diskText(root, relative);
  } catch {
    return null; // a path leading out, or not text: planProposalApply reports it
  }
  // Emacs hands a CRLF file over with LFs (and writes CRLFs back): a buffer differing only so is not unsaved typing.
  const other = others.find((buffer) => onDisk === null || toLf(buffer.text) !== toLf(onDisk));
  return other ? `${other.client.name} (another editor)` : null;
}

/** `codeloop/showProposal`: writes the proposal's diff, headed by its verdict, under the state dir and opens it. */
export async function showProposal(client: ClientContext, params: RequestParams<'codeloop/showProposal'>): Promise<RequestResult<'codeloop/showProposal'>> {
  const session = client.ownSession(params.sessionId);
  if (!session.diff) throw new CodeloopError('invalidArgument', `session ${session.sessionId} has no proposal (it is ${session.state})`);
  const uri = writeProposalDocument(session, client.summaryOf(session).verdict);
  await client.editor.showDocument(uri);
  return { uri };
}

/** `codeloop/showPlan`: writes the plan as a document under the state dir and opens it. */
export async function showPlan(client: ClientContext, params: RequestParams<'codeloop/showPlan'>): Promise<RequestResult<'codeloop/showPlan'>> {
  const session = client.ownSession(params.sessionId);
  if (!session.plan) throw new CodeloopError('invalidArgument', `session ${session.sessionId} has no plan yet (it is ${session.state})`);
  const uri = writePlanDocument(session);
  await client.editor.showDocument(uri);
  return { uri };
}
