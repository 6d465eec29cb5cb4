import fs from 'node:fs';
import path from 'node:path';
import type { RequestParams, RequestResult } from '../../protocol/lsp-methods.js';
import type { SessionFollower } from '../agent/session-follower.js';
import { writePlanDocument, writeProposalDocument } from '../agent/session-documents.js';
import { quoted } from '../agent/session-messages.js';
import type { ProposedFile, SessionRecord } from '../agent/session-store.js';
import { APPLY_WORDING, diskText, inverseProposal, planProposalApply, REVERT_WORDING, type EditWording } from '../edits/apply-proposal.js';
import { CodeloopError } from '../errors.js';
import { workspacePathToUri } from '../workspace/path-confinement.js';
import type { ClientContext } from './client-context.js';
import { proposalWorkspaceEdit } from './proposal-edits.js';

/**
 * `codeloop/applyProposal`: sends the proposal to this editor as a WorkspaceEdit it can take (see sendEdit):
 * later edits that touch none of the proposal's hunks are kept; a hunk that was also edited is a conflict naming
 * the file and lines, and that file is left alone. The session is applied once no file is left.
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
  }
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
  } else if (sent.conflicts.length) {
    const done = sent.taken && sent.changed.length ? `reverted ${sent.changed.join(', ')} of ${quoted(session.prompt)}; ` : '';
    client.tell('warning', `${done}not reverted: ${sent.conflicts.join('; ')}`);
  }
  return { reverted: sent.taken, conflicts: sent.conflicts };
}

/**
 * Sends `proposed` (a proposal, or its inverse) to this editor as one WorkspaceEdit it can take (see
 * proposalWorkspaceEdit), each file rebased onto its text now (the open buffer, else the disk) and pinned to the
 * buffer's version; files the editor cannot delete are deleted after it took the rest. Returns whether the
 * editor took it (or nothing needed changing), the files planned (`files`) and changed (`changed`), and a
 * message per file left alone.
 */
async function sendEdit(client: ClientContext, session: SessionRecord, proposed: ProposedFile[], wording: EditWording): Promise<{ taken: boolean; files: string[]; changed: string[]; conflicts: string[] }> {
  const plan = planProposalApply(proposed, (relative) => {
    const buffer = client.documents.get(workspacePathToUri(session.root, relative))?.getText();
    // Confined (links leading out refused) whether the text comes from the buffer or the disk
    const onDisk = diskText(session.root, relative);
    return buffer ?? onDisk;
  }, wording);
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
