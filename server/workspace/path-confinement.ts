import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CodeloopError } from '../errors.js';

const MAX_PATH_LENGTH = 4096;

function refuse(what: string, reason: string): never {
  throw new CodeloopError('pathOutsideWorkspace', `${what} ${reason}`);
}

function isInside(realRoot: string, candidate: string): boolean {
  const relative = path.relative(realRoot, candidate);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

/** Links followed while resolving one path, as Linux's own limit (ELOOP after 40). */
const MAX_LINK_HOPS = 40;

/**
 * Resolves `absolute` component by component the way the kernel will when the file is opened, without ever
 * trusting a link: each symlink met (the file itself or any parent, dangling or not, a link to a link) is read
 * and its target resolved in turn, and the walk stops with a refusal as soon as it leaves `realRoot`. Parts
 * that do not exist yet are plain names. `components` are the path's parts below the root, as written (`..`
 * included). An absolute link target must name the root itself (its real path) to stay inside. Returns the
 * resolved absolute path (inside the root).
 */
function resolveInsideRoot(realRoot: string, components: string[], refuse: (reason: string) => never): string {
  let hops = 0;
  const pending = [...components];
  let current = realRoot;
  let lastLink: string | null = null;
  while (pending.length) {
    const name = pending.shift()!;
    if (name === '' || name === '.') continue;
    if (name === '..') {
      // `..` after a link climbs from the link's target, as the kernel does, not from the name written before it
      current = path.dirname(current);
      if (!isInside(realRoot, current)) refuse(lastLink ? `leads outside the workspace through the symlink ${lastLink}` : 'leads outside the workspace');
      continue;
    }
    const next = path.join(current, name);
    let stat: fs.Stats;
    try {
      stat = fs.lstatSync(next);
    } catch {
      current = next; // does not exist yet: a plain name
      continue;
    }
    if (!stat.isSymbolicLink()) {
      current = next;
      continue;
    }
    if (++hops > MAX_LINK_HOPS) refuse(`goes through more than ${MAX_LINK_HOPS} symlinks (a loop?)`);
    // The target is walked as written, not normalised: its own `..` and links are resolved like the kernel's
    const target = fs.readlinkSync(next);
    lastLink = `${path.relative(realRoot, next).split(path.sep).join('/')} -> ${target}`;
    if (path.isAbsolute(target)) {
      if (target !== realRoot && !target.startsWith(`${realRoot}/`)) refuse(`leads outside the workspace through the symlink ${lastLink}`);
      pending.unshift(...target.slice(realRoot.length).split('/'));
      current = realRoot;
    } else pending.unshift(...target.split('/'));
  }
  return current;
}

/**
 * Confines a path named by a client or the agent to the workspace: relative paths are taken from the root,
 * `..`, absolute paths elsewhere, `~`, NUL bytes, backslashes and symlinks leading out are refused — of the file
 * or any parent, dangling or not, links to links (see resolveInsideRoot). Returns the root-relative posix path
 * of the file that will really be opened: links inside the workspace are resolved (`link-in/b.ts` → `inner/b.ts`),
 * so callers read and write exactly the path that was checked.
 * Throws `CodeloopError('pathOutsideWorkspace')` with a message naming the path and the link.
 * `realRoot` must already be a real path (no links in it).
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
  // An absolute path is walked from the root as written: `/root/a/../b` must not be normalised before `a` is known
  const written = !path.isAbsolute(candidate) ? candidate
    : candidate === realRoot || candidate.startsWith(`${realRoot}/`) ? candidate.slice(realRoot.length)
      : refuse(`path ${shown}`, `does not start with the workspace ${realRoot}`);
  const resolved = resolveInsideRoot(realRoot, written.split('/'), (reason) => refuse(`path ${shown}`, reason));
  return path.relative(realRoot, resolved).split(path.sep).join('/');
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

/**
 * Whether a URI's path is written under the root, links not considered (no throw): a URI under a root that
 * {@link uriToWorkspacePath} still refuses leads out through a link, and is told so rather than "not inside".
 */
export function isUriUnder(realRoot: string, uri: string): boolean {
  try {
    return isInside(realRoot, path.resolve(fileURLToPath(uri)));
  } catch {
    return false;
  }
}
