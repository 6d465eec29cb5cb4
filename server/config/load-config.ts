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

/** User config, then the workspace's `.codeloop.json`, then overrides (LSP initializationOptions, CLI flags). */
export function loadConfig(root: string, overrides?: unknown, env: NodeJS.ProcessEnv = process.env): Config {
  const userFile = path.join(configHome(env), 'config.json');
  const workspaceFile = path.join(root, '.codeloop.json');
  const merged = mergeLayers(readJsonLayer(userFile), readJsonLayer(workspaceFile), overrides);
  return parseConfig(merged, `${userFile} + ${workspaceFile}`);
}
