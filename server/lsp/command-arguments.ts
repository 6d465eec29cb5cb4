import { LSPErrorCodes, ResponseError } from 'vscode-languageserver';
import { clientRequests, commands, type ClientRequestMethod, type CommandAlias, type CommandId, type SessionState, type StartTaskParamsSchema } from '../../protocol/lsp-methods.js';
import type { z } from 'zod';
import { CodeloopError } from '../errors.js';
import type { ClientContext } from './client-context.js';
import { commentDirective } from './code-actions.js';
import { parseParams } from './response-errors.js';

/** A command resolved to the request it stands for, with that request's validated params. */
export interface CommandRequest {
  method: ClientRequestMethod;
  params: unknown;
}

/**
 * The request a `workspace/executeCommand` stands for (its CommandAlias in protocol/lsp-methods.ts), with params
 * made from its plain-JSON `arguments[0]` (or plain string), the missing parts found, then checked by the
 * request's own schema. An unknown command is RequestFailed; arguments that do not fit are InvalidParams.
 */
export function commandRequest(client: ClientContext, command: string, args: unknown[] | undefined): CommandRequest {
  if (!Object.hasOwn(commands, command)) throw new ResponseError(LSPErrorCodes.RequestFailed, `codeloop: unknown command ${JSON.stringify(command)}`);
  const alias: CommandAlias = commands[command as CommandId];
  const [first] = args ?? [];
  const given = parseParams(alias.arguments, typeof first === 'string' ? { [alias.stringArgument]: first } : first, command);
  const filled = 'sessionStates' in alias.missing
    ? { ...given, sessionId: given.sessionId ?? newestSession(client, command, alias.missing.sessionStates) }
    : given.prompt ? given : { ...given, ...newestCommentTask(client) };
  return { method: alias.request, params: parseParams(clientRequests[alias.request][0], filled, command) };
}

/** The newest session of the editor's workspaces a command without a sessionId can act on. */
function newestSession(client: ClientContext, command: string, states: readonly SessionState[]): string {
  const session = client.sessions()
    .filter((candidate) => states.includes(candidate.state))
    .sort((a, b) => b.updatedAt.localeCompare(a.updatedAt))[0];
  if (!session) throw new CodeloopError('invalidArgument', `${command}: no session is ${states.join(' or ')} in this editor's workspaces`);
  return session.sessionId;
}

/**
 * What startTask runs when the client sent no prompt (Helix's command picker sends no arguments): the newest
 * `codeloop:` comment in the buffers this client edited, newest buffer first, that no session runs yet.
 */
function newestCommentTask(client: ClientContext): Pick<z.infer<typeof StartTaskParamsSchema>, 'prompt' | 'kind' | 'uri' | 'range'> {
  const running = new Set(client.openSessions().map((session) => session.prompt));
  const documents = client.documents.all().sort((a, b) => b.version - a.version);
  for (const document of documents) {
    const lines = document.getText().split('\n');
    for (let line = lines.length - 1; line >= 0; line--) {
      const directive = commentDirective(lines[line]);
      if (directive && !running.has(directive)) {
        return { prompt: directive, kind: 'commentTask', uri: document.uri, range: { start: { line, character: 0 }, end: { line, character: lines[line].length } } };
      }
    }
  }
  throw new CodeloopError('invalidArgument', 'codeloop.startTask needs a prompt: write a comment such as "// codeloop: add a --verbose flag" in a file and run it again (or use the code action on that line)');
}
