/**
 * Errors a user can act on. `code` is stable (tests and clients match on it); `message` says what to do.
 * Anything that is not a CodeloopError is a bug and is reported as such.
 */
export type CodeloopErrorCode =
  | 'invalidArgument'
  | 'invalidRegex'
  | 'unreadableDirectory'
  | 'corruptIndex'
  | 'invalidConfig'
  | 'pathOutsideWorkspace'
  | 'notFound'
  | 'sandboxUnavailable'
  | 'modelEndpoint';

export class CodeloopError extends Error {
  constructor(
    readonly code: CodeloopErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'CodeloopError';
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
