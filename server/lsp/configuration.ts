import { loadConfig } from '../config/load-config.js';
import { errorMessage } from '../errors.js';
import type { ClientContext } from './client-context.js';

/**
 * `workspace/didChangeConfiguration`: settings under `codeloop` are checked against every workspace of the editor
 * (a wrong one is an error message, and the old settings stay); sessions started later read them. Index
 * settings shape a shared index: they apply when a workspace is next opened by its first client.
 */
export function changeConfiguration(client: ClientContext, settings: unknown): void {
  const section = (settings as { codeloop?: unknown } | null)?.codeloop;
  if (section === undefined) return;
  const overrides = { values: section, source: `workspace/didChangeConfiguration from ${client.name}` };
  try {
    for (const workspace of client.workspaces()) loadConfig(workspace.root, overrides, process.env, (warning) => client.tell('warning', warning));
  } catch (error) {
    client.tell('error', errorMessage(error));
    return;
  }
  client.configuration = overrides;
}
