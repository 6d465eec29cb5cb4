import type { SessionState } from '../../protocol/session-lifecycle.js';
import { CodeloopError } from '../errors.js';

/** Where a session stands, as a user would say it (completes "session ID …"). */
const STATE_WORDING: Record<SessionState, string> = {
  planning: 'is writing its plan',
  awaitingPlanApproval: 'is waiting for you to approve or reject its plan',
  working: 'is at work',
  testing: 'is running its tests',
  awaitingApproval: 'is waiting for you to apply or reject its proposal',
  interrupted: 'is interrupted (paused, or stopped with the daemon)',
  applied: 'has ended: its proposal was applied',
  rejected: 'has ended: it was rejected',
  cancelled: 'has ended: it was cancelled',
  failed: 'has ended: it failed',
  finished: 'has ended with nothing to change',
  reverted: 'has ended: its applied proposal was reverted',
};

/** What the user asked of a session that its state refuses. */
export type SessionAction = 'resume' | 'pause' | 'steer';

/** What each action needs, and what to do instead, by the state that refused it. */
function remedy(action: SessionAction, state: SessionState): string {
  switch (action) {
    case 'resume':
      return state === 'awaitingPlanApproval' || state === 'awaitingApproval'
        ? 'only an interrupted session can be resumed; this one is waiting for your answer, not stopped'
        : 'only an interrupted session can be resumed';
    case 'pause':
      return state === 'interrupted' ? 'it is not at work, so there is nothing to pause; resume it to go on' : 'only a session at work (planning, working, testing) can be paused';
    case 'steer':
      if (state === 'awaitingApproval') return 'a message reaches only a session at work; reject the proposal with your feedback instead';
      if (state === 'interrupted') return 'a message reaches only a session at work; resume it first, then send the message';
      if (state === 'awaitingPlanApproval') return 'a message reaches only a session at work; approve the plan, or reject it with your feedback';
      return 'a message reaches only a session at work';
  }
}

/** The invalidArgument error for an action the session's state refuses, worded for a user: where it stands and what to do. */
export function refusedAction(sessionId: string, state: SessionState, action: SessionAction): CodeloopError {
  return new CodeloopError('invalidArgument', `session ${sessionId} ${STATE_WORDING[state]}: ${remedy(action, state)}`);
}

/**
 * The session is at work, but in another process this one cannot reach (a `codeloop run` in a terminal, or a
 * standalone language server): pause and steer must be sent there.
 */
export function workingElsewhere(sessionId: string, state: SessionState, ownerPid: number, action: SessionAction): CodeloopError {
  const verb = action === 'steer' ? 'take a message' : action;
  return new CodeloopError('invalidArgument', `session ${sessionId} ${STATE_WORDING[state]} in process ${ownerPid} (a \`codeloop run\` or a standalone server), which cannot ${verb} from here; stop that process (Ctrl-C) and \`codeloop sessions resume ${sessionId}\` goes on from its last step`);
}
