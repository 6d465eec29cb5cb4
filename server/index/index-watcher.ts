import fs from 'node:fs';
import path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import type { IgnoreRules } from './ignore-rules.js';

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

/**
 * Watches the root (not following symlinks, skipping ignored folders) and hands batches of changed
 * root-relative paths to `onChanges`. Directory removals are reported as the directory's path with a
 * trailing slash so the caller can drop everything below it.
 */
export class IndexWatcher {
  private watcher: FSWatcher | null = null;
  private pending = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  /** The errno of the system limit that stopped this watcher, if one did. */
  private stoppedBy: string | null = null;

  constructor(
    private readonly root: string,
    private readonly rules: IgnoreRules,
    private readonly onChanges: (paths: string[]) => void,
    /** Called once if a system limit stops the watcher (it has closed itself by then); `code` is the errno. */
    private readonly onLimit: (code: string) => void,
  ) {}

  /** Resolves once watching, or once a system limit has stopped it (see `onLimit`). */
  start(): Promise<void> {
    const relative = (absolute: string) => path.relative(this.root, absolute).split(path.sep).join('/');
    this.watcher = watch(this.root, {
      ignoreInitial: true,
      followSymlinks: false,
      ignored: (absolute, stats) => {
        const rel = relative(absolute);
        if (!rel || rel.startsWith('..')) return false;
        if (!stats) return this.rules.isIgnored(rel, true) && this.rules.isIgnored(rel, false);
        return this.rules.isIgnored(rel, stats.isDirectory());
      },
    });
    const queue = (rel: string) => {
      this.pending.add(rel);
      this.timer ??= setTimeout(() => this.flush(), BATCH_WINDOW_MS);
    };
    this.watcher.on('add', (file) => queue(relative(file)));
    this.watcher.on('change', (file) => queue(relative(file)));
    this.watcher.on('unlink', (file) => queue(relative(file)));
    this.watcher.on('unlinkDir', (dir) => queue(`${relative(dir)}/`));
    return new Promise((resolve) => {
      this.watcher!.once('ready', resolve);
      this.watcher!.on('error', (error) => {
        const code = (error as NodeJS.ErrnoException).code ?? '';
        // Other errors concern one path (a folder we may not read, say); the rest of the tree is still watched.
        if (!LIMIT_ERRORS.has(code) || this.stoppedBy) return;
        this.stoppedBy = code;
        void this.stop().finally(() => {
          this.onLimit(code);
          resolve();
        });
      });
    });
  }

  private flush(): void {
    this.timer = null;
    const paths = [...this.pending];
    this.pending.clear();
    if (paths.length) this.onChanges(paths);
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.watcher?.close();
    this.watcher = null;
  }
}
