import fs from 'node:fs';
import path from 'node:path';
import type { ProposedFile } from '../agent/session-store.js';
import { confinePath } from '../workspace/path-confinement.js';

/**
 * A private copy of the workspace (without `.git`) at its current state, unsaved editor buffers included,
 * where the agent edits and runs tests. The user's files are only read, never written, from here.
 */
export class ShadowWorkspace {
  private readonly touched = new Set<string>();

  private constructor(
    readonly userRoot: string,
    readonly dir: string,
  ) {}

  static create(userRoot: string, dir: string, unsavedBuffers: Map<string, string>): ShadowWorkspace {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(path.dirname(dir), { recursive: true, mode: 0o700 });
    // Symlinks are copied as links (never followed), so nothing outside the workspace is read or copied in.
    fs.cpSync(userRoot, dir, { recursive: true, verbatimSymlinks: true, filter: (source) => path.basename(source) !== '.git' });
    for (const [relative, text] of unsavedBuffers) {
      const target = path.join(dir, relative);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, text);
    }
    return new ShadowWorkspace(userRoot, dir);
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

  remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
