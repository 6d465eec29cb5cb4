import type { ModelConfig } from '../../protocol/config.js';
import { CodeloopError } from '../errors.js';

/** OpenAI's own API: the endpoint when neither the config nor the environment names one. */
export const OPENAI_BASE_URL = 'https://api.openai.com/v1';

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/**
 * The endpoint every model call goes to: `model.baseURL` from the config, else `OPENAI_BASE_URL` from the
 * environment (the convention of the openai SDKs, which read it when no baseURL is given), else OpenAI's API.
 * `source` says which, for `codeloop doctor`. Throws CodeloopError (`invalidConfig`) when OPENAI_BASE_URL is not
 * an http(s) URL.
 */
export function resolveBaseURL(config: Pick<ModelConfig, 'baseURL'>, env: NodeJS.ProcessEnv = process.env): { baseURL: string; source: string } {
  if (config.baseURL) return { baseURL: config.baseURL, source: 'model.baseURL in the config' };
  const fromEnv = env.OPENAI_BASE_URL?.trim();
  if (fromEnv) {
    if (!/^https?:$/.test(safeURL(fromEnv)?.protocol ?? '')) {
      throw new CodeloopError('invalidConfig', `OPENAI_BASE_URL is not an http(s) URL: ${JSON.stringify(fromEnv)} (set it to the endpoint, e.g. http://localhost:11434/v1, or set model.baseURL in the config)`);
    }
    return { baseURL: fromEnv, source: 'OPENAI_BASE_URL in the environment' };
  }
  return { baseURL: OPENAI_BASE_URL, source: 'the default (OpenAI)' };
}

function safeURL(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

/** Whether an endpoint runs on this machine (no API key needed). */
export function isLocalEndpoint(baseURL: string): boolean {
  return LOCAL_HOSTS.has(safeURL(baseURL)?.hostname ?? '');
}
