/** A context window in tokens and where the number came from (shown by `codeloop doctor`). */
export interface ContextWindow {
  tokens: number;
  source: string;
}

/** Assumed when neither the config nor the endpoint says: small enough for most local models. */
export const DEFAULT_CONTEXT_WINDOW = 8192;
/** Ollama serves a model with this many tokens unless num_ctx or OLLAMA_CONTEXT_LENGTH says otherwise (its docs: 4k below 24 GiB of VRAM). */
const OLLAMA_DEFAULT_NUM_CTX = 4096;

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function positive(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined;
}

interface Requester {
  (url: string, body?: unknown): Promise<unknown>;
}

/** GET (or POST with a JSON body) that yields parsed JSON, or undefined on any failure: discovery never throws. */
function requester(apiKey: string | undefined, timeoutMs: number): Requester {
  return async (url, body) => {
    try {
      const response = await fetch(url, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (!response.ok) return undefined;
      return await response.json();
    } catch {
      return undefined;
    }
  };
}

/** The server's root (`http://host:8000` for `http://host:8000/v1`), where llama.cpp, Ollama and LM Studio keep their own routes. */
function serverRoot(baseURL: string): string {
  return baseURL.replace(/\/+$/, '').replace(/\/v1$/, '');
}

/** vLLM's `/v1/models` entries carry `max_model_len`; some servers use `context_length` or `max_context_length`. */
async function fromModelList(get: Requester, baseURL: string, model: string): Promise<ContextWindow | undefined> {
  const list = await get(`${baseURL.replace(/\/+$/, '')}/models`);
  const entries = isObject(list) && Array.isArray(list.data) ? list.data.filter(isObject) : [];
  const entry = entries.find((candidate) => candidate.id === model) ?? (entries.length === 1 ? entries[0] : undefined);
  if (!entry) return undefined;
  for (const field of ['max_model_len', 'context_length', 'max_context_length', 'context_window']) {
    const tokens = positive(entry[field]);
    if (tokens) return { tokens, source: `the endpoint's model list (${field} of ${String(entry.id)})` };
  }
  return undefined;
}

/** llama.cpp's server: `GET /props` → `default_generation_settings.n_ctx` (the `-c` it was started with, per slot). */
async function fromLlamaCppProps(get: Requester, root: string): Promise<ContextWindow | undefined> {
  const props = await get(`${root}/props`);
  if (!isObject(props)) return undefined;
  const settings = isObject(props.default_generation_settings) ? props.default_generation_settings : {};
  const tokens = positive(settings.n_ctx) ?? positive(props.n_ctx);
  return tokens ? { tokens, source: 'llama.cpp server /props (n_ctx)' } : undefined;
}

/**
 * Ollama: a loaded model's real window is in `GET /api/ps` (`context_length`); otherwise `POST /api/show` gives
 * the model's `num_ctx` parameter when its Modelfile sets one, else Ollama's default applies — its OpenAI route
 * silently cuts longer prompts, so the default is what counts, not the model's trained length.
 */
async function fromOllama(get: Requester, root: string, model: string): Promise<ContextWindow | undefined> {
  const names = new Set([model, `${model}:latest`]);
  const running = await get(`${root}/api/ps`);
  const loaded = isObject(running) && Array.isArray(running.models)
    ? running.models.filter(isObject).find((entry) => names.has(String(entry.name)) || names.has(String(entry.model)))
    : undefined;
  const loadedTokens = positive(loaded?.context_length);
  if (loadedTokens) return { tokens: loadedTokens, source: 'Ollama /api/ps (context_length of the loaded model)' };
  const shown = await get(`${root}/api/show`, { model });
  if (!isObject(shown) || (shown.parameters === undefined && shown.model_info === undefined)) return undefined;
  const numCtx = typeof shown.parameters === 'string' ? /(?:^|\n)\s*num_ctx\s+(\d+)/.exec(shown.parameters) : null;
  if (numCtx) return { tokens: Number(numCtx[1]), source: 'Ollama /api/show (num_ctx in the model\'s parameters)' };
  const info = isObject(shown.model_info) ? shown.model_info : {};
  const trained = Object.entries(info).find(([name]) => name.endsWith('.context_length'))?.[1];
  const supports = positive(trained) ? `; the model supports ${trained}` : '';
  return {
    tokens: OLLAMA_DEFAULT_NUM_CTX,
    source: `Ollama's default num_ctx${supports} — raise it with OLLAMA_CONTEXT_LENGTH=32768 (ollama serve) or PARAMETER num_ctx in a Modelfile, then set model.contextWindow`,
  };
}

/** LM Studio: `GET /api/v0/models/{model}` → `loaded_context_length` when loaded, else `max_context_length`. */
async function fromLmStudio(get: Requester, root: string, model: string): Promise<ContextWindow | undefined> {
  const info = await get(`${root}/api/v0/models/${encodeURIComponent(model)}`);
  if (!isObject(info)) return undefined;
  const loaded = positive(info.loaded_context_length);
  if (loaded) return { tokens: loaded, source: 'LM Studio /api/v0/models (loaded_context_length)' };
  const maximum = positive(info.max_context_length);
  if (!maximum) return undefined;
  // Not loaded yet: LM Studio picks the length when it loads the model, at most the maximum.
  const tokens = Math.min(maximum, DEFAULT_CONTEXT_WINDOW);
  return { tokens, source: `LM Studio /api/v0/models (not loaded; max_context_length ${maximum}, assuming ${tokens} — set model.contextWindow to the length you load it with)` };
}

/**
 * Asks the endpoint for the model's context window: vLLM's model list, llama.cpp's `/props`, Ollama's
 * `/api/ps` and `/api/show`, LM Studio's `/api/v0/models`, in that order. Returns undefined when none answers
 * (hosted APIs publish no window); never throws.
 */
export async function discoverContextWindow(baseURL: string, model: string, apiKey?: string, timeoutMs = 3000): Promise<ContextWindow | undefined> {
  const get = requester(apiKey, timeoutMs);
  const root = serverRoot(baseURL);
  return await fromModelList(get, baseURL, model)
    ?? await fromLlamaCppProps(get, root)
    ?? await fromOllama(get, root, model)
    ?? await fromLmStudio(get, root, model);
}
