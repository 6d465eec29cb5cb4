import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CodeloopError } from '../errors.js';

const MAX_PATH_LENGTH = 4096;

function refuse(what: string, reason: string): never {
  throw new CodeloopError('pathOutsideWorkspace', `${what} ${reason}`);
}

/** The real path of the deepest ancestor of `absolute` that exists (symlinks resolved), plus the rest. */
function realPathOfPrefix(absolute: string): string {
  let existing = absolute;
  const rest: string[] = [];
  for (;;) {
    try {
      return path.join(fs.realpathSync(existing), ...rest.reverse());
    } catch {
      const parent = path.dirname(existing);
      if (parent === existing) return absolute;
      rest.push(path.basename(existing));
      existing = parent;
    }
  }
}

function isInside(realRoot: string, candidate: string): boolean {
  const relative = path.relative(realRoot, candidate);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

/**
 * Confines a path named by a client or the agent to the workspace: relative paths are taken from the root,
 * `..`, absolute paths elsewhere, `~`, NUL bytes, backslashes and symlinks (of the file or any parent) leading
 * out are refused. Returns the root-relative posix path.
 */
export function confinePath(realRoot: string, candidate: string): string {
  const shown = JSON.stringify(candidate.length > 200 ? `${candidate.slice(0, 200)}…` : candidate);
  if (candidate.length === 0) refuse('path', 'is empty');
  if (candidate.length > MAX_PATH_LENGTH) refuse(`path ${shown}`, `is longer than ${MAX_PATH_LENGTH} characters`);
  if (candidate.includes('\0')) refuse(`path ${shown}`, 'contains a NUL byte');
  if (candidate.includes('\\')) refuse(`path ${shown}`, 'uses backslashes; use / between folders');
  if (candidate.startsWith('~')) refuse(`path ${shown}`, 'starts with ~; give a path inside the workspace');
  const absolute = path.resolve(realRoot, candidate);
  if (!isInside(realRoot, absolute)) refuse(`path ${shown}`, `is outside the workspace ${realRoot}`);
  if (!isInside(realRoot, realPathOfPrefix(absolute))) refuse(`path ${shown}`, 'leads outside the workspace through a symlink');
  return path.relative(realRoot, absolute).split(path.sep).join('/');
}

/** A `file://` URI from a client, confined to the workspace; returns the root-relative posix path. */
export function uriToWorkspacePath(realRoot: string, uri: string): string {
  if (!uri.startsWith('file:')) refuse(`URI ${JSON.stringify(uri.slice(0, 200))}`, 'is not a file:// URI');
  let file: string;
  try {
    file = fileURLToPath(uri);
  } catch (error) {
    refuse(`URI ${JSON.stringify(uri.slice(0, 200))}`, `is not a valid file URI (${(error as Error).message})`);
  }
  return confinePath(realRoot, file);
}

export function workspacePathToUri(realRoot: string, relativePath: string): string {
  return pathToFileURL(path.join(realRoot, relativePath)).href;
}

/** Whether a URI names a file inside the root (no throw): for picking which workspace a document belongs to. */
export function isUriInside(realRoot: string, uri: string): boolean {
  try {
    uriToWorkspacePath(realRoot, uri);
    return true;
  } catch {
    return false;
  }
}
