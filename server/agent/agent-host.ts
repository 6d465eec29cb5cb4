import path from 'node:path';
import { stateHome } from '../config/state-paths.js';
import { prepareShadowStrategy } from '../sandbox/shadow-strategy.js';
import { AgentService } from './agent-service.js';
import { SessionStore, type SessionEvent, type SessionRecord } from './session-store.js';

/** One session store and agent service per process (the daemon, a standalone server, or `codeloop run`). */
export function createAgentService(announce: (session: SessionRecord, event: SessionEvent) => void): { agent: AgentService; store: SessionStore } {
  const home = stateHome();
  const store = new SessionStore(path.join(home, 'sessions.db'));
  const shadows = path.join(home, 'shadows');
  const agent = new AgentService(store, shadows, announce);
  agent.recoverAfterRestart();
  // Probed now, off the event loop: the first session would otherwise wait on it with every editor (issue 13).
  void prepareShadowStrategy(shadows);
  return { agent, store };
}
