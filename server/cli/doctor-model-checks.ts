import OpenAI from 'openai';
import type { ModelConfig } from '../../protocol/config.js';
import { errorMessage } from '../errors.js';
import { ModelClient } from '../model/model-client.js';
import { isLocalEndpoint, resolveBaseURL } from '../model/model-endpoint.js';

export type Check = { name: string; ok: boolean; detail: string };

/** Longest a doctor probe waits for a model (a local server may be loading it). */
const PROBE_TIMEOUT_SECONDS = 60;

/**
 * `codeloop doctor`'s model checks: the key, the endpoint (and where its URL came from), the context window and
 * how it was found, and the tool-call mode — discovered and probed afresh, and cached for sessions.
 */
export async function modelChecks(config: ModelConfig, env: NodeJS.ProcessEnv = process.env): Promise<Check[]> {
  const checks: Check[] = [];
  let endpoint;
  try {
    endpoint = resolveBaseURL(config, env);
  } catch (error) {
    return [{ name: 'model endpoint', ok: false, detail: errorMessage(error) }];
  }
  const { baseURL, source } = endpoint;
  const key = env[config.apiKeyEnv];
  const local = isLocalEndpoint(baseURL);
  checks.push({ name: 'model key', ok: Boolean(key) || local, detail: key ? `${config.apiKeyEnv} is set` : local ? 'not needed for a local endpoint' : `set ${config.apiKeyEnv} (or model.apiKeyEnv)` });
  let answers = false;
  try {
    const client = new OpenAI({ baseURL, apiKey: key || 'no-key', timeout: 5000, maxRetries: 0 });
    const models = [];
    for await (const entry of client.models.list()) models.push(entry.id);
    const known = models.includes(config.model);
    answers = true;
    checks.push({ name: 'model endpoint', ok: true, detail: `${baseURL} (from ${source}) answers; ${known ? `model ${config.model} is listed` : `model ${config.model} is not among its ${models.length} models (it may still work)`}` });
  } catch (error) {
    checks.push({ name: 'model endpoint', ok: false, detail: `${baseURL} (from ${source}): ${errorMessage(error)}` });
  }
  if (!key && !local) return checks;
  const model = new ModelClient({ ...config, timeoutSeconds: Math.min(config.timeoutSeconds, PROBE_TIMEOUT_SECONDS), maxRetries: 0 }, env);
  const window = await model.contextWindow({ refresh: true });
  checks.push({ name: 'context window', ok: true, detail: `${window.tokens} tokens, from ${window.source}` });
  if (!answers) {
    checks.push({ name: 'tool calls', ok: false, detail: 'not probed: the endpoint does not answer' });
    return checks;
  }
  try {
    const mode = await model.toolMode({ refresh: true });
    const how = mode.source === 'config' ? mode.reason : `probed: ${mode.reason}`;
    checks.push({ name: 'tool calls', ok: true, detail: mode.mode === 'native' ? `native (${how})` : `prompted: tools are described in the prompt and calls read from the text (${how})` });
  } catch (error) {
    checks.push({ name: 'tool calls', ok: false, detail: `the probe failed: ${errorMessage(error)}` });
  }
  return checks;
}
