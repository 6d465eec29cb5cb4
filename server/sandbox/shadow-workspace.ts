import fs from 'node:fs';
import path from 'node:path';
import type { ProposedFile } from '../agent/session-store.js';
import { CodeloopError, errorMessage } from '../errors.js';
import { encodingForWrite, readTextFile, removeFile, writeTextFile } from '../workspace/confined-files.js';
import { DEFAULT_ENCODING, type FileEncoding } from '../workspace/file-encoding.js';
import { confinePath } from '../workspace/path-confinement.js';
import { copyTree } from './copy-tree.js';

/**
 * Writes an unsaved buffer over its copied file in that file's encoding (the buffer is the editor's view of the
 * file as stored); a buffer that encoding cannot hold (a binary file, or `€` typed into a Latin-1 file) is
 * written as UTF-8, as the editor would have to save it. A path leading out still throws.
 */
function copyBuffer(realDir: string, relative: string, text: string): void {
  try {
    writeTextFile(realDir, relative, text, encodingForWrite(realDir, relative));
  } catch (error) {
    if (!(error instanceof CodeloopError) || error.code === 'pathOutsideWorkspace') throw error;
    writeTextFile(realDir, relative, text, DEFAULT_ENCODING);
  }
}

/**
 * A private copy of the workspace (without `.git`) at its current state, unsaved editor buffers included,
 * where the agent edits and runs tests. The user's files are only read, never written, from here.
 */
export class ShadowWorkspace {
  private readonly touched = new Set<string>();
  /**
   * Settles when the copy is complete. The copy is asynchronous: a synchronous one froze the whole daemon
   * (every editor attached to it) for as long as copying a large workspace takes.
   */
  readonly ready: Promise<void>;

  constructor(
    readonly userRoot: string,
    readonly dir: string,
    unsavedBuffers: Map<string, string>,
  ) {
    this.ready = this.copy(new Map(unsavedBuffers));
    this.ready.catch(() => undefined); // whoever awaits it hears the failure; nobody may be waiting yet
  }

  private async copy(unsavedBuffers: Map<string, string>): Promise<void> {
    try {
      await fs.promises.rm(this.dir, { recursive: true, force: true });
      await fs.promises.mkdir(path.dirname(this.dir), { recursive: true, mode: 0o700 });
      await copyTree(this.userRoot, this.dir, new Set(['.git']));
      const realDir = fs.realpathSync(this.dir);
      for (const [relative, text] of unsavedBuffers) copyBuffer(realDir, relative, text);
    } catch (error) {
      throw new Error(`could not copy the workspace for the session into ${this.dir}: ${errorMessage(error)}`);
    }
  }

  /** Confines an agent-named path to the shadow; returns it root-relative. */
  resolve(candidate: string): string {
    return confinePath(fs.realpathSync(this.dir), candidate);
  }

  /**
   * A file's text in the shadow, null when it does not exist; a path leading out or a file that is not text
   * throws (the model is told why).
   */
  read(relative: string): string | null {
    return readTextFile(fs.realpathSync(this.dir), relative)?.text ?? null;
  }

  /** The encoding a file is written back in (its own, or UTF-8 for a new one); see file-encoding.ts. */
  encodingOf(relative: string): FileEncoding {
    return encodingForWrite(fs.realpathSync(this.dir), relative);
  }

  /**
   * Writes (or, for null, deletes) a file in the shadow, in the encoding it already has; returns its confined
   * path. Throws before writing anything when the path leads out, the file is not text, or the text does not fit
   * the file's encoding.
   */
  write(relative: string, text: string | null): string {
    const realDir = fs.realpathSync(this.dir);
    const confined = text === null ? removeFile(realDir, relative) : writeTextFile(realDir, relative, text, encodingForWrite(realDir, relative));
    this.touched.add(confined);
    return confined;
  }

  touchedFiles(): string[] {
    return [...this.touched].sort();
  }

  /** Files whose shadow text differs from the user's (`before` is the user's text now). */
  changes(userText: (relative: string) => string | null): ProposedFile[] {
    const files: ProposedFile[] = [];
    for (const relative of this.touchedFiles()) {
      const before = userText(relative);
      const after = this.read(relative);
      if (before !== after) files.push({ path: relative, before, after, encoding: after === null ? undefined : this.encodingOf(relative) });
    }
    return files;
  }

  /** Removes the copy (after any copying still under way has stopped, so nothing is left behind). */
  async remove(): Promise<void> {
    await this.ready.catch(() => undefined);
    await fs.promises.rm(this.dir, { recursive: true, force: true });
  }
}
