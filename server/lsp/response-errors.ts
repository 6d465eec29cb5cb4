import { ErrorCodes, LSPErrorCodes, ResponseError } from 'vscode-languageserver';
import type { z } from 'zod';
import { CodeloopError } from '../errors.js';

/** Validates params against a protocol schema; a mismatch is JSON-RPC InvalidParams with the first problem named. */
export function parseParams<S extends z.ZodType>(schema: S, params: unknown, method: string): z.infer<S> {
  const parsed = schema.safeParse(params ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue.path.length ? ` at ${issue.path.join('.')}` : '';
  throw new ResponseError(ErrorCodes.InvalidParams, `${method}: invalid params${where}: ${issue.message}`);
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
export function guarded<P, R>(handler: (params: P) => R | Promise<R>): (params: P) => Promise<R | ResponseError<void>> {
  return async (params) => {
    try {
      return await handler(params);
    } catch (error) {
      return toResponseError(error);
    }
  };
}
