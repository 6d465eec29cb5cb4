import { ErrorCodes, LSPErrorCodes, ResponseError } from 'vscode-languageserver';
import type { z } from 'zod';
import { CodeloopError } from '../errors.js';

/** Validates params against a protocol schema; a mismatch is JSON-RPC InvalidParams with the first problem named. */
export function parseParams<S extends z.ZodType>(schema: S, params: unknown, method: string): z.infer<S> {
  // No params, `null` and `[]` all mean "nothing given" (clients differ in how they say it).
  const given = params === null || params === undefined || (Array.isArray(params) && params.length === 0) ? {} : params;
  const parsed = schema.safeParse(given);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue.path.length ? ` at ${issue.path.join('.')}` : '';
  throw new ResponseError(ErrorCodes.InvalidParams, `${method}: invalid params${where}: ${issue.message}`);
}

/**
 * The params of a request from the arguments vscode-jsonrpc passes a by-name handler: `(params, token)`, or
 * only `(token)` when the params were absent or `[]`, or `(...positional, token)`. Absent and `[]` count as
 * no params (every method with nothing required accepts them, like `null` and `{}`); one positional object is
 * taken as the params; more are InvalidParams.
 */
export function requestParams(args: unknown[], method: string): unknown {
  const params = args.slice(0, -1);
  if (params.length > 1) throw new ResponseError(ErrorCodes.InvalidParams, `${method}: invalid params: expected one object, got ${params.length} positional values`);
  return params[0];
}

/** Maps anything a handler throws to a JSON-RPC error a client can show: never a crash, never a stack. */
export function toResponseError(error: unknown): ResponseError<void> {
  if (error instanceof ResponseError) return error;
  if (error instanceof CodeloopError) {
    const invalid = error.code === 'invalidArgument' || error.code === 'invalidRegex' || error.code === 'pathOutsideWorkspace';
    return new ResponseError(invalid ? ErrorCodes.InvalidParams : LSPErrorCodes.RequestFailed, error.message);
  }
  return new ResponseError(ErrorCodes.InternalError, `codeloop internal error: ${error instanceof Error ? error.message : String(error)}`);
}

/** Wraps a handler so every failure becomes a proper JSON-RPC error response. */
export function guarded<A extends unknown[], R>(handler: (...args: A) => R | Promise<R>): (...args: A) => Promise<R | ResponseError<void>> {
  return async (...args) => {
    try {
      return await handler(...args);
    } catch (error) {
      return toResponseError(error);
    }
  };
}
