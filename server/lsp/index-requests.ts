import type { RequestParams, RequestResult } from '../../protocol/lsp-methods.js';
import { searchOutput } from '../cli/search-output.js';
import { BUILD_INFO } from '../build-info.js';
import { CodeloopError } from '../errors.js';
import type { WorkspaceIndex } from '../index/workspace-index.js';
import type { ClientContext } from './client-context.js';

/** `codeloop/search`: a search of one of the editor's workspaces (the last opened when none is named). */
export function search(client: ClientContext, params: RequestParams<'codeloop/search'>): Promise<RequestResult<'codeloop/search'>> {
  return client.workspaceFor(params.workspaceUri).index.search(params);
}

/** `codeloop/indexStatus` of one of the editor's workspaces. */
export function indexStatus(client: ClientContext, params: RequestParams<'codeloop/indexStatus'>): RequestResult<'codeloop/indexStatus'> {
  return client.workspaceFor(params.workspaceUri).index.status();
}

/**
 * Refuses a command-line answer from an index the daemon closed while it was being built (`codeloop daemon stop`,
 * or a newer codeloop replacing the daemon): the sync stopped part done, so the counts or hits would be partial.
 */
function refuseIfClosed(index: WorkspaceIndex, root: string): void {
  if (index.isClosed()) {
    throw new CodeloopError('daemonRequest', `the codeloop daemon stopped (\`codeloop daemon stop\`, or a newer codeloop replacing it) before it finished indexing ${root}; run the command again`);
  }
}

/** `codeloop/cliSearch`: `codeloop search` against any folder, opened (and then kept fresh) by the daemon. */
export async function cliSearch(client: ClientContext, params: RequestParams<'codeloop/cliSearch'>): Promise<RequestResult<'codeloop/cliSearch'>> {
  const { index } = (await client.server.registry.openForCommandLine(params.root)).workspace;
  refuseIfClosed(index, params.root); // a closed index's search would wait on its stopped threads
  const found = await index.search(params);
  refuseIfClosed(index, params.root);
  return found;
}

/** `codeloop/cliSearchOutput`: `codeloop/cliSearch` answered with what `codeloop search` prints (for the native client). */
export async function cliSearchOutput(client: ClientContext, params: RequestParams<'codeloop/cliSearchOutput'>): Promise<RequestResult<'codeloop/cliSearchOutput'>> {
  const { json, displayDir, buildId, ...search } = params;
  // The native client of another build hands over to its Node CLI, which meets this daemon (codeloop/hello).
  if (buildId !== undefined && buildId !== BUILD_INFO.buildId) {
    throw new CodeloopError('daemonRequest', `this daemon is build ${BUILD_INFO.buildId}, the client build ${buildId}`);
  }
  const { bytes, exitCode } = searchOutput(await cliSearch(client, search), { json, ...(displayDir === undefined ? {} : { displayDir }) });
  return { exitCode, output: bytes.toString('base64') };
}

/** `codeloop/cliIndex`: `codeloop index`, re-validating the index unless this call has just built it. */
export async function cliIndex(client: ClientContext, params: RequestParams<'codeloop/cliIndex'>): Promise<RequestResult<'codeloop/cliIndex'>> {
  const { workspace, opened } = await client.server.registry.openForCommandLine(params.root);
  const summary = (opened ? workspace.index.lastSyncSummary() : null) ?? await workspace.index.sync();
  refuseIfClosed(workspace.index, params.root);
  return { summary, status: workspace.index.status(), problems: workspace.index.problems() };
}
