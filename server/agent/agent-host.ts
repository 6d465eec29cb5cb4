import path from 'node:path';
import { stateHome } from '../config/state-paths.js';
import { AgentService } from './agent-service.js';
import { SessionStore, type SessionEvent, type SessionRecord } from './session-store.js';

/** One session store and agent service per process (the daemon, a standalone server, or `codeloop run`). */
export function createAgentService(announce: (session: SessionRecord, event: SessionEvent) => void): { agent: AgentService; store: SessionStore } {
  const home = stateHome();
  const store = new SessionStore(path.join(home, 'sessions.db'));
  const agent = new AgentService(store, path.join(home, 'shadows'), announce);
  agent.recoverAfterRestart();
  return { agent, store };
}
