import fs from 'node:fs';
import path from 'node:path';
import type { IgnoreRules } from './ignore-rules.js';
import { pseudoFilesystemOf } from '../workspace/pseudo-filesystems.js';

/** Events arriving within this window are written in one transaction. */
const BATCH_WINDOW_MS = 15;
/** Errors that mean the system will not let us watch this tree at all (too many watches or open files). */
const LIMIT_ERRORS = new Set(['ENOSPC', 'EMFILE', 'ENFILE']);

/**
 * How many inotify watches this user may hold (Linux; the lower of the system's and the user namespace's
 * limits), or null where that is not known. Other programs of the user hold some of them too.
 */
export function inotifyWatchLimit(): number | null {
  const limits = ['/proc/sys/fs/inotify/max_user_watches', '/proc/sys/user/max_inotify_watches'].map((file) => {
    try {
      return Number(fs.readFileSync(file, 'utf8').trim());
    } catch {
      return Number.NaN;
    }
  }).filter((limit) => Number.isFinite(limit));
  return limits.length ? Math.min(...limits) : null;
}

const join = (dir: string, name: string) => (dir ? `${dir}/${name}` : name);

/**
 * Watches every folder of the root that is not ignored — one watch per folder, not per file (a folder's watch
 * reports its files' changes), so a kernel-sized tree needs thousands of watches, not a hundred thousand — and
 * hands batches of changed root-relative paths to `onChanges`. Symlinks are not followed. A folder that
 * disappears is reported as its path with a trailing slash, so the caller drops everything indexed below it.
 */
export class IndexWatcher {
  /** Root-relative folder ('' is the root) → its watch. */
  private readonly watchers = new Map<string, fs.FSWatcher>();
  private pending = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    private readonly root: string,
    private readonly rules: IgnoreRules,
    private readonly onChanges: (paths: string[]) => void,
    /** Called once if a system limit stops the watcher (it has closed itself by then); `code` is the errno. */
    private readonly onLimit: (code: string) => void,
  ) {}

  /** Resolves once the whole tree is watched, or once a system limit has stopped it (see `onLimit`). */
  async start(): Promise<void> {
    await this.watchTree('', false);
  }

  /** Watches `top` and every folder below it; with `reportFiles`, their files are reported too (a folder moved in). */
  private async watchTree(top: string, reportFiles: boolean): Promise<void> {
    const pending = [top];
    while (pending.length && !this.stopped) {
      const dir = pending.pop()!;
      if (dir && pseudoFilesystemOf(path.join(this.root, dir))) continue; // left out as the crawl leaves it out
      // Watch before listing, so nothing created in between is missed.
      if (!this.watchFolder(dir)) return;
      let entries: fs.Dirent[];
      try {
        entries = await fs.promises.readdir(path.join(this.root, dir), { withFileTypes: true });
      } catch {
        continue; // gone or unreadable: its parent's watch reports what happens to it
      }
      for (const entry of entries) {
        const child = join(dir, entry.name);
        if (entry.isDirectory()) {
          if (!this.rules.isIgnored(child, true)) pending.push(child);
        } else if (reportFiles) {
          this.queue(child);
        }
      }
    }
  }

  /** False when a system limit stopped watching altogether. */
  private watchFolder(dir: string): boolean {
    if (this.stopped) return false;
    if (this.watchers.has(dir)) return true;
    try {
      const watcher = fs.watch(path.join(this.root, dir), (_event, name) => this.changed(dir, name));
      watcher.on('error', () => this.forget(dir)); // the folder itself went away
      this.watchers.set(dir, watcher);
      return true;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? '';
      if (!LIMIT_ERRORS.has(code)) return true; // this one folder cannot be watched (vanished, no permission)
      void this.stop().then(() => this.onLimit(code));
      return false;
    }
  }

  private changed(dir: string, name: string | Buffer | null): void {
    if (this.stopped) return;
    if (name === null) {
      // The system did not say which entry changed: look at the whole folder again.
      void this.watchTree(dir, true);
      return;
    }
    const changed = join(dir, String(name));
    this.queue(changed);
    // A folder that appeared (made, or moved in) is watched and its files reported; one that went away takes its
    // watches and its index entries with it.
    fs.promises.lstat(path.join(this.root, changed)).then((stat) => {
      if (stat.isDirectory() && !this.watchers.has(changed) && !this.rules.isIgnored(changed, true)) void this.watchTree(changed, true);
    }, () => {
      if (!this.watchers.has(changed)) return; // a file: the path queued above is enough
      this.forget(changed);
      this.queue(`${changed}/`);
    });
  }

  /** Closes the watches of a folder and everything below it. */
  private forget(dir: string): void {
    for (const [watched, watcher] of this.watchers) {
      if (watched === dir || watched.startsWith(`${dir}/`)) {
        watcher.close();
        this.watchers.delete(watched);
      }
    }
  }

  private queue(relative: string): void {
    this.pending.add(relative);
    this.timer ??= setTimeout(() => this.flush(), BATCH_WINDOW_MS);
  }

  private flush(): void {
    this.timer = null;
    const paths = [...this.pending];
    this.pending.clear();
    if (paths.length) this.onChanges(paths);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const watcher of this.watchers.values()) watcher.close();
    this.watchers.clear();
  }
}
