import path from 'node:path';
import { stateHome } from '../config/state-paths.js';
import { prepareShadowStrategy } from '../sandbox/shadow-strategy.js';
import { AgentService } from './agent-service.js';
import { SessionStore, type SessionEvent, type SessionRecord } from './session-store.js';

/**
 * One session store and agent service per process (the daemon, a standalone server, `codeloop run` or a
 * `codeloop sessions` command). A process that runs sessions first recovers those a stopped process left
 * (`recover`); a command that only changes one session's record leaves the others as they are.
 */
export function createAgentService(announce: (session: SessionRecord, event: SessionEvent) => void, { recover = true } = {}): { agent: AgentService; store: SessionStore } {
  const home = stateHome();
  const store = new SessionStore(path.join(home, 'sessions.db'));
  const shadows = path.join(home, 'shadows');
  const agent = new AgentService(store, shadows, announce);
  if (recover) {
    agent.recoverAfterRestart();
    // Probed now, off the event loop: the first session would otherwise wait on it with every editor (issue 13).
    void prepareShadowStrategy(shadows);
  }
  return { agent, store };
}
