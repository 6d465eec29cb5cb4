import fs from 'node:fs';
import path from 'node:path';
import type { RequestParams, RequestResult } from '../../protocol/lsp-methods.js';
import type { SessionFollower } from '../agent/session-follower.js';
import { writePlanDocument, writeProposalDocument } from '../agent/session-documents.js';
import { quoted } from '../agent/session-messages.js';
import { diskText, planProposalApply } from '../edits/apply-proposal.js';
import { CodeloopError } from '../errors.js';
import { workspacePathToUri } from '../workspace/path-confinement.js';
import type { ClientContext } from './client-context.js';
import { proposalWorkspaceEdit } from './proposal-edits.js';

/**
 * `codeloop/applyProposal`: sends the proposal to this editor as a WorkspaceEdit it can take (see
 * proposalWorkspaceEdit), each file rebased onto its text now (the open buffer, else the disk): later edits that
 * touch none of the proposal's hunks are kept; a hunk that was also edited is a conflict naming the file and
 * lines, and that file is left alone.
 */
export async function applyProposal(client: ClientContext, follower: SessionFollower, params: RequestParams<'codeloop/applyProposal'>): Promise<RequestResult<'codeloop/applyProposal'>> {
  const session = client.ownSession(params.sessionId);
  if (session.state !== 'awaitingApproval' || !session.proposal) {
    throw new CodeloopError('invalidArgument', `session ${session.sessionId} has no proposal waiting (it is ${session.state})`);
  }
  const wanted = params.files ? new Set(params.files) : null;
  const plan = planProposalApply(session.proposal.filter((file) => !wanted || wanted.has(file.path)), (relative) => {
    const buffer = client.documents.get(workspacePathToUri(session.root, relative))?.getText();
    // Confined (links leading out refused) whether the text comes from the buffer or the disk
    const onDisk = diskText(session.root, relative);
    return buffer ?? onDisk;
  });
  const files = plan.files.filter((file) => file.action !== 'unchanged');
  if (!files.length) return { applied: plan.files.length > 0 && plan.conflicts.length === 0, conflicts: plan.conflicts };
  const { edit, deleteAfterwards } = proposalWorkspaceEdit(files, (relative) => workspacePathToUri(session.root, relative),
    (uri) => client.documents.get(uri)?.version ?? null, client.workspaceEditCapabilities);
  const result = await client.editor.applyEdit(`codeloop: ${session.prompt.slice(0, 60)}`, edit);
  if (!result.applied) {
    client.tell('error', `${client.name} did not apply the proposal ${quoted(session.prompt)}${result.failureReason ? `: ${result.failureReason}` : ''}`);
    return { applied: false, conflicts: plan.conflicts };
  }
  // Only files the plan found unchanged since the proposal (read through the confined diskText) are deleted.
  for (const relative of deleteAfterwards) fs.rmSync(path.join(session.root, relative), { force: true });
  if (deleteAfterwards.length) client.tell('info', `deleted ${deleteAfterwards.join(', ')} (the proposal removes them)`);
  if (plan.conflicts.length === 0) {
    follower.actedHere(session.sessionId);
    client.server.agent.markApplied(session.sessionId, plan.files.map((file) => file.path));
  }
  return { applied: true, conflicts: plan.conflicts };
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
