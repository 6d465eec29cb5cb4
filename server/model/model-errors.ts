import { CodeloopError } from '../errors.js';

/**
 * What went wrong talking to a model endpoint, as the agent needs to act on it:
 * - `contextOverflow`: the prompt does not fit the model's window (compact and retry);
 * - `authentication`: the key was refused (401/403);
 * - `rateLimit`: 429 after the SDK's own retries;
 * - `server`: 5xx after retries;
 * - `timeout` / `unreachable`: no answer in time / no connection;
 * - `unsupportedParameter`: the endpoint rejects a request field (e.g. `stream_options`);
 * - `unsupportedTools`: the endpoint rejects `tools` / function calling;
 * - `malformedAnswer`: a 2xx answer the agent cannot use (no choices, unparsable body);
 * - `badRequest`: any other refusal (unknown model, invalid value): retrying the same request cannot help.
 */
export type ModelErrorKind =
  | 'contextOverflow'
  | 'authentication'
  | 'rateLimit'
  | 'server'
  | 'timeout'
  | 'unreachable'
  | 'unsupportedParameter'
  | 'unsupportedTools'
  | 'malformedAnswer'
  | 'badRequest';

/** Facts some endpoints put in their error bodies. */
export interface ModelErrorDetails {
  /** The request field the endpoint refused (`unsupportedParameter`). */
  parameter?: string;
  /** The prompt's size in the endpoint's tokens, and the window it has (`contextOverflow`; llama.cpp, vLLM, LM Studio say). */
  promptTokens?: number;
  contextTokens?: number;
}

/**
 * A typed model-endpoint failure. `endpointMessage` is the endpoint's own words (whatever the body's shape),
 * `status` the HTTP status when there was one; `message` names the endpoint and says what to do.
 */
export class ModelError extends CodeloopError {
  constructor(
    readonly kind: ModelErrorKind,
    message: string,
    readonly endpointMessage: string,
    readonly status?: number,
    readonly details: ModelErrorDetails = {},
  ) {
    super('modelEndpoint', message);
    this.name = 'ModelError';
  }
}
