import type { RequestParams, RequestResult } from '../../protocol/lsp-methods.js';
import type { ClientContext } from './client-context.js';

/** `codeloop/search`: a search of one of the editor's workspaces (the last opened when none is named). */
export function search(client: ClientContext, params: RequestParams<'codeloop/search'>): Promise<RequestResult<'codeloop/search'>> {
  return client.workspaceFor(params.workspaceUri).index.search(params);
}

/** `codeloop/indexStatus` of one of the editor's workspaces. */
export function indexStatus(client: ClientContext, params: RequestParams<'codeloop/indexStatus'>): RequestResult<'codeloop/indexStatus'> {
  return client.workspaceFor(params.workspaceUri).index.status();
}

/** `codeloop/cliSearch`: `codeloop search` against any folder, opened (and then kept fresh) by the daemon. */
export async function cliSearch(client: ClientContext, params: RequestParams<'codeloop/cliSearch'>): Promise<RequestResult<'codeloop/cliSearch'>> {
  return (await client.server.registry.openForCommandLine(params.root)).workspace.index.search(params);
}

/** `codeloop/cliIndex`: `codeloop index`, re-validating the index unless this call has just built it. */
export async function cliIndex(client: ClientContext, params: RequestParams<'codeloop/cliIndex'>): Promise<RequestResult<'codeloop/cliIndex'>> {
  const { workspace, opened } = await client.server.registry.openForCommandLine(params.root);
  const summary = (opened ? workspace.index.lastSyncSummary() : null) ?? await workspace.index.sync();
  return { summary, status: workspace.index.status(), problems: workspace.index.problems() };
}
