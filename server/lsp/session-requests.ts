import type { RequestParams, RequestResult } from '../../protocol/lsp-methods.js';
import type { SessionFollower } from '../agent/session-follower.js';
import { quoted, undoneText } from '../agent/session-messages.js';
import { transcriptText } from '../agent/transcript-text.js';
import { workspaceHost, type ClientContext } from './client-context.js';

/**
 * The session requests of one editor: each checks the session belongs to one of its workspaces, calls the agent,
 * and has the editor follow the session when it sets it to work (see SessionFollower).
 */
export function startTask(client: ClientContext, follower: SessionFollower, params: RequestParams<'codeloop/startTask'>): RequestResult<'codeloop/startTask'> {
  const { workspace, relativePath } = params.uri
    ? client.workspaceOf(params.uri)
    : { workspace: client.workspaceFor(undefined), relativePath: undefined };
  const host = client.sessionHost(workspace.root);
  const session = client.server.agent.start(host.workspace, host.config, host.model,
    { prompt: params.prompt, kind: params.kind, path: relativePath, range: params.range, autoApprovePlan: params.autoApprovePlan });
  void follower.follow(session.sessionId);
  return { sessionId: session.sessionId };
}

/** Approves a waiting plan (rebuilt from its checkpoint if the daemon restarted since) and follows the work. */
export function approvePlan(client: ClientContext, follower: SessionFollower, params: RequestParams<'codeloop/approvePlan'>): null {
  const session = client.ownSession(params.sessionId);
  client.server.agent.approvePlan(params.sessionId, params.plan, () => client.sessionHost(session.root));
  void follower.follow(params.sessionId);
  return null;
}

/** Rejects a plan or proposal; with feedback the session goes back to work (followed), else it ends. */
export function reject(client: ClientContext, follower: SessionFollower, params: RequestParams<'codeloop/reject'>): null {
  const session = client.ownSession(params.sessionId);
  follower.actedHere(params.sessionId);
  const after = client.server.agent.reject(params.sessionId, params.feedback, () => client.sessionHost(session.root));
  const what = session.state === 'awaitingPlanApproval' ? 'plan' : 'proposal';
  if (params.feedback) {
    client.tell('info', `sent your feedback on the ${what} of ${quoted(session.prompt)}: it is ${what === 'plan' ? 'planning' : 'working'} again`);
    void follower.follow(params.sessionId);
  } else client.tell('info', `rejected the ${what} of ${quoted(session.prompt)} (${after.state}; its transcript stays in codeloop/getSession)`);
  return null;
}

export function resume(client: ClientContext, follower: SessionFollower, params: RequestParams<'codeloop/resume'>): null {
  const session = client.ownSession(params.sessionId);
  client.server.agent.resume(params.sessionId, client.sessionHost(session.root));
  void follower.follow(params.sessionId);
  return null;
}

/** Takes a session back to a turn (see AgentService.rewind) and tells the editor what that undid. */
export function rewind(client: ClientContext, params: RequestParams<'codeloop/rewind'>): RequestResult<'codeloop/rewind'> {
  const session = client.ownSession(params.sessionId);
  const { turn, undone } = client.server.agent.rewind(params.sessionId, params.turn);
  client.tell('info', `rewound ${quoted(session.prompt)} to turn ${turn}${undoneText(undone)}; it waits until you resume it`);
  return { turn };
}

/** `codeloop/cliRewind`: `codeloop sessions rewind` through the daemon, for any session of its store (see AgentService.rewind). */
export function cliRewind(client: ClientContext, params: RequestParams<'codeloop/cliRewind'>): RequestResult<'codeloop/cliRewind'> {
  const { session, turn, undone } = client.server.agent.rewind(params.sessionId, params.turn);
  return { ...client.summaryOf(session), turn, undone };
}

export function pause(client: ClientContext, params: RequestParams<'codeloop/pause'>): null {
  client.ownSession(params.sessionId);
  client.server.agent.pause(params.sessionId);
  return null;
}

export function steer(client: ClientContext, params: RequestParams<'codeloop/steer'>): null {
  const session = client.ownSession(params.sessionId);
  client.server.agent.steer(params.sessionId, params.message);
  // Stock clients show nothing of a command's result: said here, as cancel is.
  client.tell('info', `sent your message to ${quoted(session.prompt)}: the model reads it at its next step`);
  return null;
}

export function cancel(client: ClientContext, follower: SessionFollower, params: RequestParams<'codeloop/cancel'>): null {
  const session = client.ownSession(params.sessionId);
  follower.actedHere(params.sessionId);
  client.server.agent.cancel(params.sessionId);
  client.tell('info', `cancelled ${quoted(session.prompt)}`);
  return null;
}

export function getSession(client: ClientContext, params: RequestParams<'codeloop/getSession'>): RequestResult<'codeloop/getSession'> {
  const session = client.ownSession(params.sessionId);
  return { ...session, verdict: client.summaryOf(session).verdict, events: client.server.agent.events(params.sessionId), checkpoints: client.server.agent.checkpoints(params.sessionId) };
}

export function listSessions(client: ClientContext): RequestResult<'codeloop/listSessions'> {
  return { sessions: client.sessions().map((session) => client.summaryOf(session)) };
}

/** `codeloop/sessionTranscript`: the session as `codeloop sessions show` prints it (see transcriptText). */
export function sessionTranscript(client: ClientContext, params: RequestParams<'codeloop/sessionTranscript'>): RequestResult<'codeloop/sessionTranscript'> {
  return { text: transcriptText(client.ownSession(params.sessionId), client.server.agent.events(params.sessionId)) };
}

/**
 * `codeloop/cliResume`: `codeloop sessions resume` through the daemon, for a session of any workspace (opened for
 * the command line when no editor has it); editors of that workspace hear its updates as for any session.
 */
export async function cliResume(client: ClientContext, params: RequestParams<'codeloop/cliResume'>): Promise<RequestResult<'codeloop/cliResume'>> {
  const { agent, registry } = client.server;
  const { workspace } = await registry.openForCommandLine(agent.get(params.sessionId).root);
  return agent.summary(agent.resume(params.sessionId, workspaceHost(workspace)));
}

/** `codeloop/cliPause`: `codeloop sessions pause` through the daemon, for a session of any workspace. */
export function cliPause(client: ClientContext, params: RequestParams<'codeloop/cliPause'>): null {
  client.server.agent.pause(params.sessionId);
  return null;
}

/** `codeloop/cliSteer`: `codeloop sessions steer` through the daemon, for a session of any workspace. */
export function cliSteer(client: ClientContext, params: RequestParams<'codeloop/cliSteer'>): null {
  client.server.agent.steer(params.sessionId, params.message);
  return null;
}
