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
  /** Text the file's encoding cannot store (a non-Latin-1 character written into a Latin-1 file). */
  | 'unencodableText'
  /** A file that is not text (binary, UTF-32, broken UTF-16) and so cannot be read or edited as text. */
  | 'fileNotEditable'
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
