import fs from 'node:fs';
import path from 'node:path';
import { CodeloopError } from '../errors.js';
import { DEFAULT_ENCODING, decodeFileBytes, encodeFileText, type FileEncoding } from './file-encoding.js';
import { confinePath } from './path-confinement.js';

/**
 * File operations confined to a root: every path goes through {@link confinePath} (each component resolved,
 * no link followed out of the root), and the final open refuses a link (`O_NOFOLLOW`) so a link swapped in
 * after the check is not followed either. Text is decoded and encoded by `file-encoding.ts`, so a file is
 * written back in the encoding it was read in, byte for byte. The shadow workspace and Apply both use these.
 */

/** A text file as read: its confined root-relative path, its text and how to write it back. */
export interface TextFile {
  path: string;
  text: string;
  encoding: FileEncoding;
}

function readBytes(absolute: string): Buffer | null {
  let fd: number;
  try {
    fd = fs.openSync(absolute, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    if (code === 'ELOOP') throw new CodeloopError('pathOutsideWorkspace', `${absolute} became a symlink; it is not followed`);
    throw error;
  }
  try {
    return fs.fstatSync(fd).isFile() ? fs.readFileSync(fd) : null;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Reads a file under `realRoot` as text. Returns null when it does not exist (or is a folder). Throws
 * `pathOutsideWorkspace` for a path leading out, `fileNotEditable` for a file that is not text (with the reason).
 */
export function readTextFile(realRoot: string, candidate: string): TextFile | null {
  const confined = confinePath(realRoot, candidate);
  const bytes = readBytes(path.join(realRoot, confined));
  if (bytes === null) return null;
  const decoded = decodeFileBytes(bytes);
  if (decoded.kind === 'binary') throw new CodeloopError('fileNotEditable', `${confined} ${decoded.reason}; codeloop does not read or edit it as text`);
  return { path: confined, text: decoded.text, encoding: decoded.encoding };
}

/**
 * The encoding a write to this file must keep: the existing file's, or UTF-8 without BOM for a new file.
 * Throws `fileNotEditable` when the existing file is not text (overwriting it with text would corrupt it).
 */
export function encodingForWrite(realRoot: string, candidate: string): FileEncoding {
  return readTextFile(realRoot, candidate)?.encoding ?? DEFAULT_ENCODING;
}

/**
 * Writes text under `realRoot` in `encoding` (parents created), never through a link; returns the confined
 * root-relative path. Throws `pathOutsideWorkspace` or `unencodableText` before anything is written.
 */
export function writeTextFile(realRoot: string, candidate: string, text: string, encoding: FileEncoding): string {
  const confined = confinePath(realRoot, candidate);
  const bytes = encodeFileText(text, encoding);
  const target = path.join(realRoot, confined);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  // Checked again after mkdir: a parent created meanwhile must still be a plain folder inside the root
  confinePath(realRoot, confined);
  const fd = fs.openSync(target, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC | fs.constants.O_NOFOLLOW, 0o666);
  try {
    fs.writeFileSync(fd, bytes);
  } finally {
    fs.closeSync(fd);
  }
  return confined;
}

/** Removes a file under `realRoot` (a link inside the root names the file removed); returns the confined path. */
export function removeFile(realRoot: string, candidate: string): string {
  const confined = confinePath(realRoot, candidate);
  fs.rmSync(path.join(realRoot, confined), { force: true });
  return confined;
}
