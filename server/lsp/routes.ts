import { ErrorCodes, ResponseError, type WorkspaceFolder } from 'vscode-languageserver';
import {
  clientRequests, lspRequests, type ClientRequestMethod, type LspRequestParams, type RequestParams, type RequestResult,
} from '../../protocol/lsp-methods.js';
import type { z } from 'zod';
import type { SessionFollower } from '../agent/session-follower.js';
import type { ClientContext } from './client-context.js';
import { codeActions } from './code-action-request.js';
import { commandRequest } from './command-arguments.js';
import { changeConfiguration } from './configuration.js';
import { daemonHello, daemonStatus, stopDaemon } from './daemon-requests.js';
import { OVERSIZED_MESSAGE_METHOD, OversizedMessageSchema, oversizedMessageText } from './frame-guard.js';
import { cliIndex, cliSearch, cliSearchOutput, indexStatus, search } from './index-requests.js';
import { applyProposal, revertProposal, showPlan, showProposal } from './proposal-requests.js';
import { parseParams } from './response-errors.js';
import {
  approvePlan, cancel, cliPause, cliResume, cliRewind, cliSteer, getSession, listSessions, pause, reject, resume, rewind, sessionTranscript, startTask, steer,
} from './session-requests.js';
import type { WorkspaceFolders } from './workspace-folders.js';
import { workspaceSymbols } from './workspace-symbols.js';

type StandardMethod = keyof typeof lspRequests;
export type RequestMethod = ClientRequestMethod | StandardMethod | typeof OVERSIZED_MESSAGE_METHOD;
type Params<M extends RequestMethod> = M extends ClientRequestMethod ? RequestParams<M> : M extends StandardMethod ? LspRequestParams<M> : z.infer<typeof OversizedMessageSchema>;
type Result<M extends RequestMethod> = M extends ClientRequestMethod ? RequestResult<M> : unknown;

/** One handler per request method, its params already validated by the method's schema. */
export type RequestRoutes = { [M in RequestMethod]: (params: Params<M>) => Result<M> | Promise<Result<M>> };

/** The routing table of one editor connection (see clientRoutes). */
export interface ClientRoutes {
  requests: RequestRoutes;
  notifications: Record<string, (params: unknown) => void>;
}

/** The schema a request's params are checked against before its route runs: a mismatch is InvalidParams. */
function requestSchema(method: RequestMethod): z.ZodType {
  if (method === OVERSIZED_MESSAGE_METHOD) return OversizedMessageSchema;
  return method in lspRequests ? lspRequests[method as StandardMethod] : clientRequests[method as ClientRequestMethod][0];
}

/**
 * The routing table of one editor connection: every request (codeloop's, the standard ones codeloop answers,
 * the frame guard's stand-in for an over-long one) and every notification codeloop handles beyond the buffers.
 * Commands (`workspace/executeCommand`) are aliases of requests (protocol/lsp-methods.ts `commands`) and run
 * their request's route. Adding a request: its schema in protocol/lsp-methods.ts, one line here, one function.
 */
export function clientRoutes(client: ClientContext, follower: SessionFollower, folders: WorkspaceFolders): ClientRoutes {
  const requests: RequestRoutes = {
    'codeloop/startTask': (p) => startTask(client, follower, p),
    'codeloop/approvePlan': (p) => approvePlan(client, follower, p),
    'codeloop/reject': (p) => reject(client, follower, p),
    'codeloop/cancel': (p) => cancel(client, follower, p),
    'codeloop/resume': (p) => resume(client, follower, p),
    'codeloop/pause': (p) => pause(client, p),
    'codeloop/steer': (p) => steer(client, p),
    'codeloop/applyProposal': (p) => applyProposal(client, follower, p),
    'codeloop/rewind': (p) => rewind(client, p),
    'codeloop/revert': (p) => revertProposal(client, follower, p),
    'codeloop/showPlan': (p) => showPlan(client, p),
    'codeloop/showProposal': (p) => showProposal(client, p),
    'codeloop/listSessions': () => listSessions(client),
    'codeloop/getSession': (p) => getSession(client, p),
    'codeloop/sessionTranscript': (p) => sessionTranscript(client, p),
    'codeloop/search': (p) => search(client, p),
    'codeloop/indexStatus': (p) => indexStatus(client, p),
    'codeloop/status': () => daemonStatus(client.server),
    'codeloop/stopDaemon': () => stopDaemon(client.server),
    'codeloop/hello': () => daemonHello(client.server),
    'codeloop/cliSearch': (p) => cliSearch(client, p),
    'codeloop/cliSearchOutput': (p) => cliSearchOutput(client, p),
    'codeloop/cliIndex': (p) => cliIndex(client, p),
    'codeloop/cliResume': (p) => cliResume(client, p),
    'codeloop/cliPause': (p) => cliPause(client, p),
    'codeloop/cliSteer': (p) => cliSteer(client, p),
    'codeloop/cliRewind': (p) => cliRewind(client, p),
    'workspace/symbol': (p) => workspaceSymbols(client, p.query),
    'textDocument/codeAction': (p) => codeActions(client, p),
    'workspace/executeCommand': (p) => {
      const { method, params } = commandRequest(client, p.command, p.arguments);
      return route(requests, method, params as Params<typeof method>);
    },
    // The frame guard's stand-in for a request over the size limit: refused, saying which limit.
    [OVERSIZED_MESSAGE_METHOD]: (p) => {
      throw new ResponseError(ErrorCodes.InvalidParams, `codeloop: ${oversizedMessageText(p)}`);
    },
  };
  const notifications: Record<string, (params: unknown) => void> = {
    'workspace/didChangeConfiguration': (p) => changeConfiguration(client, (p as { settings?: unknown } | null)?.settings),
    // For clients that do not advertise `workspaceFolders` (see LspClientSession.listen for the others).
    'workspace/didChangeWorkspaceFolders': (p) => {
      const event = (p as { event?: { added?: WorkspaceFolder[]; removed?: WorkspaceFolder[] } } | null)?.event;
      folders.change(event?.added ?? [], event?.removed ?? []);
    },
    // A notification over the size limit (a huge didOpen) is ignored, with a word to the user.
    [OVERSIZED_MESSAGE_METHOD]: (p) => {
      const parsed = OversizedMessageSchema.safeParse(p);
      if (parsed.success) client.tell('warning', oversizedMessageText(parsed.data));
    },
  };
  return { requests, notifications };
}

/** Serves one request: its params checked by `requestSchema(method)` (a mismatch is InvalidParams), then its route. */
export function handleRequest(requests: RequestRoutes, method: RequestMethod, params: unknown): unknown {
  return route(requests, method, parseParams(requestSchema(method), params, method) as Params<typeof method>);
}

/** Runs one route; the params have passed `requestSchema(method)`. */
function route<M extends RequestMethod>(requests: RequestRoutes, method: M, params: Params<M>): Result<M> | Promise<Result<M>> {
  return (requests[method] as (params: Params<M>) => Result<M> | Promise<Result<M>>)(params);
}
