import type { SessionUpdate } from '../../protocol/lsp-methods.js';
import { FINAL_SESSION_STATES } from '../../protocol/session-lifecycle.js';
import { errorMessage } from '../errors.js';
import type { EditorChannel, EditorProgress } from '../lsp/editor-channel.js';
import type { AgentService } from './agent-service.js';
import { writeExplanationDocument, writePlanDocument } from './session-documents.js';
import { progressMessage, quoted, settledMessage } from './session-messages.js';

/** How the follower applies a proposal without asking: the editor's own Apply (buffers, versions, conflicts). */
export type ApplyProposal = (sessionId: string) => Promise<{ applied: boolean; conflicts: string[] }>;

/**
 * The policy that follows sessions for one editor, saying everything through its EditorChannel:
 * - a session this editor started (or sent back to work) gets a work-done progress saying what it does while
 *   it works; when it settles, what to do next, the plan or explanation opened as a document, and the
 *   auto-apply rules applied when its proposal qualifies;
 * - a session of its workspaces that another editor (or the CLI) took to its end is announced, since this
 *   editor may be waiting on it — unless this editor made that change itself (`actedHere`).
 */
export class SessionFollower {
  /** Sessions followed with a progress (null while the editor creates it). */
  private readonly following = new Map<string, EditorProgress | null>();
  /** Sessions whose last change this editor made itself (apply, reject, cancel): no need to announce it back. */
  private readonly changedHere = new Set<string>();

  constructor(
    private readonly agent: AgentService,
    private readonly editor: EditorChannel,
    private readonly applyProposal: ApplyProposal,
    /** Whether the editor has gone (then nothing more is said). */
    private readonly gone: () => boolean,
  ) {}

  /** This editor changed the session itself: its next end is not announced back to it. */
  actedHere(sessionId: string): void {
    this.changedHere.add(sessionId);
  }

  /** Follows a session from now until it next waits for the user or ends; see the class comment. */
  async follow(sessionId: string): Promise<void> {
    if (this.gone() || this.following.has(sessionId)) return;
    this.following.set(sessionId, null);
    const session = this.agent.get(sessionId);
    const progress = await this.editor.beginProgress({
      title: `codeloop ${quoted(session.prompt)}`, message: session.state === 'planning' ? 'planning' : 'working', cancellable: true,
    });
    this.following.set(sessionId, progress);
    const stopListening = this.agent.onModelProgress(sessionId, (characters) => progress.report(`model writing… ${characters} characters`));
    const settled = await this.agent.nextSettle(sessionId);
    stopListening();
    this.following.delete(sessionId);
    progress.done();
    if (this.gone()) return;
    const summary = this.agent.summary(settled);
    const auto = this.agent.autoApplyVerdict(sessionId);
    if (auto.allowed) {
      const result = await this.applyProposal(sessionId).then((outcome) => ({ ...outcome, error: null }), (error: unknown) => ({ applied: false, conflicts: [], error: errorMessage(error) }));
      if (result.applied && !result.conflicts.length) {
        this.editor.showMessage('info', `applied without asking (${auto.reason}; ${summary.verdict?.text ?? 'no tests ran'})`);
        return;
      }
      // Apply has said what stopped it (the editor's refusal, the files left alone); an error it threw has not.
      this.editor.showMessage('warning', `could not auto-apply ${quoted(settled.prompt)}${result.error ? `: ${result.error}` : ''}; it waits for you: code action "Apply proposal", "Show proposal" or "Reject proposal"`);
      return;
    }
    const message = settledMessage({ ...summary, error: settled.error });
    this.editor.showMessage(message.severity, message.text);
    if (settled.state === 'awaitingPlanApproval') {
      if (settled.plan) await this.editor.showDocument(writePlanDocument(settled));
      void this.follow(sessionId);
    }
    if (settled.state === 'finished' && settled.kind === 'explain' && settled.summary) {
      await this.editor.showDocument(writeExplanationDocument(settled));
    }
  }

  /** Every session update of the editor's workspaces passes here (see the class comment). */
  sessionUpdated(update: SessionUpdate): void {
    if (this.gone()) return;
    const progress = this.following.get(update.sessionId);
    if (progress) {
      const message = progressMessage(update);
      if (message) progress.report(message);
      return;
    }
    if (this.following.has(update.sessionId) || !FINAL_SESSION_STATES.has(update.state) || update.event.type === 'proposal') return;
    if (this.changedHere.delete(update.sessionId)) return;
    const session = this.agent.get(update.sessionId);
    const message = settledMessage({ ...this.agent.summary(session), error: session.error }, ' (from another editor)');
    this.editor.showMessage(message.severity, message.text);
  }
}
