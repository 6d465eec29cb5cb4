import fs from 'node:fs';
import path from 'node:path';
import type { ProposedFile } from '../agent/session-store.js';
import { errorMessage } from '../errors.js';
import { confinePath } from '../workspace/path-confinement.js';
import { copyTree } from './copy-tree.js';

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
      for (const [relative, text] of unsavedBuffers) {
        const target = path.join(this.dir, relative);
        await fs.promises.mkdir(path.dirname(target), { recursive: true });
        await fs.promises.writeFile(target, text);
      }
    } catch (error) {
      throw new Error(`could not copy the workspace for the session into ${this.dir}: ${errorMessage(error)}`);
    }
  }

  /** Confines an agent-named path to the shadow; returns it root-relative. */
  resolve(candidate: string): string {
    return confinePath(fs.realpathSync(this.dir), candidate);
  }

  /** A file's text in the shadow, null when it does not exist; a path leading out throws (the model is told why). */
  read(relative: string): string | null {
    const confined = this.resolve(relative);
    try {
      return fs.readFileSync(path.join(this.dir, confined), 'utf8');
    } catch {
      return null;
    }
  }

  write(relative: string, text: string | null): string {
    const confined = this.resolve(relative);
    const target = path.join(this.dir, confined);
    if (text === null) fs.rmSync(target, { force: true });
    else {
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, text);
    }
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
      if (before !== after) files.push({ path: relative, before, after });
    }
    return files;
  }

  /** Removes the copy (after any copying still under way has stopped, so nothing is left behind). */
  async remove(): Promise<void> {
    await this.ready.catch(() => undefined);
    await fs.promises.rm(this.dir, { recursive: true, force: true });
  }
}
