import fs from 'node:fs';
import path from 'node:path';
import type { ProposedFile } from '../agent/session-store.js';
import { stateHome } from '../config/state-paths.js';
import { CodeloopError, errorMessage } from '../errors.js';
import { readTextFile, removeFile, writeTextFile, type TextFile } from '../workspace/confined-files.js';
import { DEFAULT_ENCODING, type FileEncoding } from '../workspace/file-encoding.js';
import { confinePath } from '../workspace/path-confinement.js';
import { scrubbedEnvironment, type SandboxSpec } from './command-runner.js';
import { copyTree } from './copy-tree.js';
import { hiddenPaths } from './home-access.js';
import { removeTree } from './remove-tree.js';
import { isWhiteout, makeWhiteout, type ShadowStrategy } from './shadow-strategy.js';

/** Where commands run by a session may read and write outside the tree. */
export interface ShadowHome {
  /** The user's home: readable by commands (toolchains), never writable. */
  home: string;
  /** Home-relative secret stores to hide on top of the built-in list (agent.hiddenHomePaths). */
  hiddenHomePaths: readonly string[];
}

/** A file the agent wrote (its text and the encoding it is written in), or null for one it deleted. */
type AgentFile = { text: string; encoding: FileEncoding } | null;

/** Folders the list_files tool does not descend into (dependencies, version control). */
const UNLISTED = (name: string) => name === 'node_modules' || name.startsWith('.git');

/**
 * A session's view of the workspace: the user's tree, plus what the session changed, without touching the
 * user's files. Three layers, top first:
 * - the agent's layer: the files the agent wrote or deleted (and the unsaved editor buffers of the start),
 *   kept apart so that only the agent's own writes are ever proposed;
 * - the commands' layer: what tests and commands wrote (caches, build output), never proposed;
 * - the user's tree, live (the user may go on editing it).
 * With `overlay`, the agent's layer is a folder of files and whiteouts that commands see as the upper lower
 * layer of an overlay mount over the user's root, writing into the commands' layer; nothing is copied. With
 * `clone`/`copy` (no overlays here), the tree is cloned or copied once; the agent's writes go to the copy too,
 * and commands write into it.
 */
export class ShadowWorkspace {
  /** What the agent wrote (null: deleted), and the unsaved buffers of the start. */
  private readonly agentLayer = new Map<string, AgentFile>();
  private readonly touched = new Set<string>();
  private readonly realRoot: string;
  /**
   * Settles when the shadow is usable (at once for an overlay; a clone or copy takes as long as the tree needs).
   * Asynchronous: a synchronous copy froze the whole daemon (every editor attached to it) while it ran.
   */
  readonly ready: Promise<void>;

  constructor(
    readonly userRoot: string,
    readonly dir: string,
    unsavedBuffers: Map<string, string>,
    readonly strategy: ShadowStrategy,
    private readonly home: ShadowHome,
  ) {
    this.realRoot = fs.realpathSync(userRoot);
    this.ready = this.prepare(new Map(unsavedBuffers));
    this.ready.catch(() => undefined); // whoever awaits it hears the failure; nobody may be waiting yet
  }

  private get overlay(): boolean {
    return this.strategy.kind === 'overlay';
  }

  private layer(name: 'agent' | 'upper' | 'work' | 'home-upper' | 'home-work' | 'home-merged' | 'tree' | 'cache'): string {
    return path.join(this.dir, name);
  }

  /** A layer's real path (confinement compares real paths). */
  private realLayer(name: 'agent' | 'upper' | 'tree'): string {
    return fs.realpathSync(this.layer(name));
  }

  private async prepare(unsavedBuffers: Map<string, string>): Promise<void> {
    try {
      await removeTree(this.dir);
      await fs.promises.mkdir(path.dirname(this.dir), { recursive: true, mode: 0o700 });
      await fs.promises.mkdir(this.dir, { mode: 0o700 });
      if (this.overlay) {
        for (const name of ['agent', 'upper', 'work', 'home-upper', 'home-work', 'home-merged'] as const) await fs.promises.mkdir(this.layer(name));
      } else {
        await fs.promises.mkdir(this.layer('cache'));
        await copyTree(this.userRoot, this.layer('tree'), new Set(['.git']), this.strategy.kind === 'clone');
      }
    } catch (error) {
      throw new Error(`could not prepare the session's workspace in ${this.dir} (${this.strategy.kind}): ${errorMessage(error)}`);
    }
    for (const [relative, text] of unsavedBuffers) this.copyBuffer(relative, text);
  }

  /**
   * An unsaved buffer over its file, in that file's encoding (the buffer is the editor's view of the file as
   * stored); a buffer that encoding cannot hold (a binary file, or `€` typed into a Latin-1 file) is kept as
   * UTF-8, as the editor would have to save it. A path leading out still throws.
   */
  private copyBuffer(relative: string, text: string): void {
    const confined = this.resolve(relative);
    try {
      this.writeLayers(confined, { text, encoding: this.mergedFile(confined)?.encoding ?? DEFAULT_ENCODING });
    } catch (error) {
      if (!(error instanceof CodeloopError) || error.code === 'pathOutsideWorkspace') throw error;
      this.writeLayers(confined, { text, encoding: DEFAULT_ENCODING });
    }
  }

  /** Confines an agent-named path to the workspace (never into `.git`); returns it root-relative. */
  resolve(candidate: string): string {
    const confined = confinePath(this.realRoot, candidate);
    if (confined === '.git' || confined.startsWith('.git/')) {
      throw new CodeloopError('pathOutsideWorkspace', `path ${JSON.stringify(candidate)} is inside .git; the repository's metadata is not part of the workspace`);
    }
    return confined;
  }

  /**
   * A file's text as the session sees it, null when it does not exist; a path leading out or a file that is not
   * text throws (the model is told why).
   */
  read(relative: string): string | null {
    const confined = this.resolve(relative);
    const own = this.agentLayer.get(confined);
    return own !== undefined ? own?.text ?? null : this.mergedFile(confined)?.text ?? null;
  }

  /** The encoding a file is written back in (its own, or UTF-8 for a new one); see file-encoding.ts. */
  encodingOf(relative: string): FileEncoding {
    const confined = this.resolve(relative);
    const own = this.agentLayer.get(confined);
    return (own !== undefined ? own?.encoding : this.mergedFile(confined)?.encoding) ?? DEFAULT_ENCODING;
  }

  /**
   * A file as the layers under the agent's show it: what commands left, else the user's tree (or the copy).
   * Symlinks a command made in its layer may not lead out of it (confined-files.ts).
   */
  private mergedFile(confined: string): TextFile | null {
    if (!this.overlay) return readTextFile(this.realLayer('tree'), confined);
    if (this.commandLayerHides(confined)) return null;
    return readTextFile(this.realLayer('upper'), confined) ?? readTextFile(this.realRoot, confined);
  }

  /** Whether commands deleted this file: a whiteout at it or at a folder above it, or a file where a folder was. */
  private commandLayerHides(relative: string): boolean {
    const parts = relative.split('/');
    for (let depth = 1; depth <= parts.length; depth++) {
      let stat: fs.Stats;
      try {
        stat = fs.lstatSync(path.join(this.layer('upper'), ...parts.slice(0, depth)));
      } catch {
        return false;
      }
      if (isWhiteout(stat)) return true;
      if (depth < parts.length && !stat.isDirectory()) return true;
    }
    return false;
  }

  /**
   * Writes (or, with null, deletes) a file for the agent, in the encoding it already has: it becomes part of the
   * proposal. Returns its confined path; throws before writing anything when the path leads out, the file is
   * not text, or the text does not fit the file's encoding.
   */
  write(relative: string, text: string | null): string {
    const confined = this.resolve(relative);
    this.writeLayers(confined, text === null ? null : { text, encoding: this.encodingOf(confined) });
    this.touched.add(confined);
    return confined;
  }

  private writeLayers(confined: string, file: AgentFile): void {
    if (!this.overlay) {
      const tree = this.realLayer('tree');
      if (file) writeTextFile(tree, confined, file.text, file.encoding);
      else removeFile(tree, confined);
      this.agentLayer.set(confined, file);
      return;
    }
    const agent = this.realLayer('agent');
    this.clearWhiteoutsAbove(confined);
    if (file) writeTextFile(agent, confined, file.text, file.encoding);
    else {
      removeFile(agent, confined);
      fs.mkdirSync(path.dirname(path.join(agent, confined)), { recursive: true });
      makeWhiteout(path.join(agent, confined));
    }
    // The agent's write supersedes whatever a command left at that path.
    const upper = this.realLayer('upper');
    const commandCopy = path.join(upper, confinePath(upper, confined));
    if (lstatOrNull(commandCopy)) fs.rmSync(commandCopy, { recursive: true, force: true });
    this.agentLayer.set(confined, file);
  }

  /** A file created where the agent deleted one of its folders' names: the whiteout gives way to a folder. */
  private clearWhiteoutsAbove(confined: string): void {
    const parts = confined.split('/');
    for (let depth = 1; depth < parts.length; depth++) {
      const ancestor = path.join(this.layer('agent'), ...parts.slice(0, depth));
      const stat = lstatOrNull(ancestor);
      if (!stat) return;
      if (!stat.isDirectory()) fs.rmSync(ancestor, { force: true });
    }
  }

  /** Files under `folder` as the session sees them (dependencies and `.git` not descended into), at most `limit`. */
  listFiles(folder: string, limit: number): string[] {
    const start = folder === '.' || folder === '' ? '' : this.resolve(folder);
    const layers = this.overlay ? [this.layer('upper'), this.realRoot] : [this.layer('tree')];
    const found = new Set<string>();
    const walk = (relative: string) => {
      const kinds = new Map<string, 'folder' | 'file' | 'gone'>();
      for (const layer of layers) {
        let entries: fs.Dirent[] = [];
        try {
          entries = fs.readdirSync(path.join(layer, relative), { withFileTypes: true });
        } catch {
          continue;
        }
        for (const entry of entries) {
          if (kinds.has(entry.name)) continue; // an upper layer's entry hides the lower one
          kinds.set(entry.name, entry.isCharacterDevice() ? 'gone' : entry.isDirectory() ? 'folder' : entry.isFile() ? 'file' : 'gone');
        }
      }
      for (const name of [...kinds.keys()].sort()) {
        if (found.size >= limit) return;
        const child = relative ? `${relative}/${name}` : name;
        if (kinds.get(name) === 'folder' && !UNLISTED(name)) walk(child);
        else if (kinds.get(name) === 'file') found.add(child);
      }
    };
    walk(start);
    for (const [relative, file] of this.agentLayer) {
      const inside = start === '' || relative.startsWith(`${start}/`);
      if (inside && file !== null && found.size < limit) found.add(relative);
      if (file === null) found.delete(relative);
    }
    return [...found].sort();
  }

  touchedFiles(): string[] {
    return [...this.touched].sort();
  }

  /** The agent's own changes: text per file it wrote, null for files it deleted (what search inside the session sees). */
  agentChanges(): Map<string, string | null> {
    return new Map(this.touchedFiles().map((relative) => [relative, this.agentLayer.get(relative)?.text ?? null]));
  }

  /** Files whose agent-written text differs from the user's (`before` is the user's text now). */
  changes(userText: (relative: string) => string | null): ProposedFile[] {
    const files: ProposedFile[] = [];
    for (const [relative, after] of this.agentChanges()) {
      const before = userText(relative);
      if (before !== after) files.push({ path: relative, before, after, encoding: after === null ? undefined : this.encodingOf(relative) });
    }
    return files;
  }

  /** What a command run by the session sees: the merged tree at the user's root, the home read-only, secrets hidden. */
  sandbox(): SandboxSpec {
    const { home } = this.home;
    const hidden = hiddenPaths(home, this.home.hiddenHomePaths, [stateHome()]);
    if (!this.overlay) return { cwd: this.realRoot, source: { kind: 'copy', dir: this.layer('tree') }, home, hidden, writable: [this.layer('cache')] };
    const homeIsFolder = home !== '/' && lstatOrNull(home)?.isDirectory() === true;
    return {
      cwd: this.realRoot,
      source: { kind: 'overlay', lowers: [this.layer('agent'), this.realRoot], upper: this.layer('upper'), work: this.layer('work') },
      home,
      homeLayer: homeIsFolder ? { lowers: [home], upper: this.layer('home-upper'), work: this.layer('home-work'), mountpoint: this.layer('home-merged') } : undefined,
      hidden,
    };
  }

  /**
   * The environment of the session's commands: HOME is the user's (toolchains find themselves there). Without an
   * overlay of the home, caches that tools write there go to a private folder instead (the home is read-only).
   */
  commandEnvironment(source: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
    const env = scrubbedEnvironment(this.home.home, source);
    if (this.overlay) return env;
    const cache = this.layer('cache');
    return { ...env, XDG_CACHE_HOME: cache, npm_config_cache: path.join(cache, 'npm'), PIP_CACHE_DIR: path.join(cache, 'pip'), GOCACHE: path.join(cache, 'go-build') };
  }

  /** Removes the session's layers (after any copying still under way has stopped, so nothing is left behind). */
  async remove(): Promise<void> {
    await this.ready.catch(() => undefined);
    await removeTree(this.dir);
  }

  /**
   * Removes a shadow that is ready (its session waits; nothing copies into it) after first moving it aside at
   * once, so a new shadow of the same session can be built in its place right away (a rewound session resumed).
   * Left behind by a crash, the moved folder is reclaimed when the daemon next starts (it names no session).
   */
  async discard(): Promise<void> {
    const aside = `${this.dir}.discarded-${process.pid}-${Date.now()}`;
    fs.renameSync(this.dir, aside);
    await removeTree(aside);
  }
}

function lstatOrNull(file: string): fs.Stats | null {
  try {
    return fs.lstatSync(file);
  } catch {
    return null;
  }
}
