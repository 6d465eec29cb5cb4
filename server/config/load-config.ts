import fs from 'node:fs';
import path from 'node:path';
import { ConfigSchema, type Config } from '../../protocol/config.js';
import { CodeloopError } from '../errors.js';
import { configHome } from './state-paths.js';

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Later layers win; objects merge key by key, arrays and scalars replace. */
export function mergeLayers(...layers: unknown[]): JsonObject {
  const result: JsonObject = {};
  for (const layer of layers) {
    if (!isObject(layer)) continue;
    for (const [key, value] of Object.entries(layer)) {
      result[key] = isObject(value) && isObject(result[key]) ? mergeLayers(result[key], value) : value;
    }
  }
  return result;
}

function readJsonLayer(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new CodeloopError('invalidConfig', `cannot read config ${file}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CodeloopError('invalidConfig', `config ${file} is not valid JSON: ${(error as Error).message}`);
  }
}

export function parseConfig(raw: unknown, source: string): Config {
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue.path.length ? issue.path.join('.') : '(top level)';
    throw new CodeloopError('invalidConfig', `invalid config (${source}) at ${where}: ${issue.message}`);
  }
  return parsed.data;
}

/** The user config alone (for settings that are not per workspace, like the daemon's). */
export function loadUserConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const userFile = path.join(configHome(env), 'config.json');
  return parseConfig(readJsonLayer(userFile) ?? {}, userFile);
}

/** Where a layer of overrides came from, for messages: e.g. "initializationOptions from Neovim". */
export interface ConfigOverrides {
  values: unknown;
  source: string;
}

/**
 * Removes the keys the schema does not know from one layer (a copy), telling `warn` about each with the layer's
 * source: a typo or a key of a newer version is ignored, never a reason to refuse a workspace. A layer that is
 * not an object at all (a list, a string) is ignored with a warning too.
 */
function withoutUnknownKeys(layer: unknown, source: string, warn: (message: string) => void): unknown {
  if (layer === undefined || layer === null) return layer;
  if (!isObject(layer)) {
    // A Lua list or a bare string where settings belong (Neovim's init_options = { "…" }) says nothing usable.
    warn(`${source}: settings must be a JSON object, not ${Array.isArray(layer) ? 'a list' : `a ${typeof layer}`} (ignored)`);
    return undefined;
  }
  const copy = structuredClone(layer);
  for (const issue of ConfigSchema.safeParse(copy).error?.issues ?? []) {
    if (issue.code !== 'unrecognized_keys') continue;
    let parent: unknown = copy;
    for (const key of issue.path) parent = isObject(parent) ? parent[key as string] : undefined;
    if (!isObject(parent)) continue;
    for (const key of issue.keys) delete parent[key];
    warn(`${source}: unknown setting ${issue.keys.map((key) => [...issue.path, key].join('.')).join(', ')} (ignored)`);
  }
  return copy;
}

/** Checks each layer on its own, so a wrong value is blamed on the file or client it came from. */
function checkLayer(layer: unknown, source: string): void {
  if (layer !== undefined) parseConfig(mergeLayers(layer), source);
}

/**
 * User config, then the workspace's `.codeloop.json`, then overrides (LSP initializationOptions, CLI flags).
 * Unknown keys are reported through `warn` and ignored; a wrong value throws `invalidConfig` naming its source.
 */
export function loadConfig(root: string, overrides?: ConfigOverrides, env: NodeJS.ProcessEnv = process.env, warn: (message: string) => void = () => undefined): Config {
  const userFile = path.join(configHome(env), 'config.json');
  const workspaceFile = path.join(root, '.codeloop.json');
  const layers = [
    { values: readJsonLayer(userFile), source: userFile },
    { values: readJsonLayer(workspaceFile), source: workspaceFile },
    ...(overrides ? [overrides] : []),
  ].map((layer) => ({ ...layer, values: withoutUnknownKeys(layer.values, layer.source, warn) }));
  for (const layer of layers) checkLayer(layer.values, layer.source);
  return parseConfig(mergeLayers(...layers.map((layer) => layer.values)), layers.map((layer) => layer.source).join(' + '));
}
