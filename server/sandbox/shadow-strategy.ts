import { constants as fsConstants } from 'node:fs';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AgentConfig } from '../../protocol/config.js';
import { CodeloopError } from '../errors.js';
import { overlayOptions } from './command-runner.js';
import { runProbe, runProbeSync, type Probe } from './probe-commands.js';
import { removeTreeSync } from './remove-tree.js';

export type ShadowKind = 'overlay' | 'clone' | 'copy';

/** How sessions get their shadow here, and why (shown by `codeloop doctor` and in each session's events). */
export interface ShadowStrategy {
  kind: ShadowKind;
  reason: string;
}

/** The step that marks `file` deleted in an overlay layer (see makeWhiteout). */
function* whiteoutStep(file: string): Probe<void> {
  const result = yield { command: 'mknod', args: [file, 'c', '0', '0'] };
  if (result.status !== 0) throw new CodeloopError('sandboxUnavailable', `cannot mark ${file} deleted in the session's layer (mknod): ${(result.stderr || result.error?.message || '').trim()}`);
}

/**
 * Marks `file` deleted in an overlay layer: a whiteout is a character device 0/0, which Linux ≥ 5.8 lets any
 * user create (Node has no mknod, so coreutils' does it).
 */
export function makeWhiteout(file: string): void {
  runProbeSync(whiteoutStep(file));
}

/** Whether a layer entry is a whiteout (overlayfs' mark of a deleted file). */
export function isWhiteout(stat: fs.Stats): boolean {
  return stat.isCharacterDevice() && stat.rdev === 0;
}

/**
 * Tries an overlay mount the way sessions use it, in `scratch` (on the file system the session layers live on):
 * a user + mount namespace, two lower layers, a whiteout in the upper one hiding a lower file, a write landing in
 * the upper layer. Returns null when it works, else what went wrong.
 */
function* overlayProblem(scratch: string): Probe<string | null> {
  const layer = (name: string) => path.join(scratch, name);
  try {
    for (const name of ['lower', 'agent', 'upper', 'work', 'merged']) fs.mkdirSync(layer(name), { recursive: true });
    fs.writeFileSync(path.join(layer('lower'), 'deleted'), 'x');
    yield* whiteoutStep(path.join(layer('agent'), 'deleted'));
    const options = overlayOptions({ lowers: [layer('agent'), layer('lower')], upper: layer('upper'), work: layer('work') });
    const merged = layer('merged');
    const result = yield {
      command: 'unshare',
      args: ['--user', '--map-root-user', '--mount', '--', 'sh', '-c', 'mount -t overlay overlay -o "$1" "$2" && test ! -e "$2/deleted" && echo ok > "$2/written"', 'sh', options, merged],
      timeoutMs: 10_000,
    };
    if (result.error) return `unshare could not run (${result.error.message})`;
    if (result.status !== 0) return (result.stderr.trim() || `exit code ${result.status}`).split('\n')[0];
    if (!fs.existsSync(path.join(layer('upper'), 'written'))) return 'a write through the overlay did not reach the upper layer';
    return null;
  } catch (error) {
    return (error as Error).message;
  } finally {
    removeTreeSync(scratch);
    // The owner's folder goes too, unless the other probe is still using it.
    try {
      fs.rmdirSync(path.dirname(scratch));
    } catch {
      // ENOTEMPTY: the other probe removes it when it ends
    }
  }
}

/** Whether files in `dir` can be cloned copy-on-write (btrfs, XFS with reflink); null when they can. */
function cloneProblem(dir: string): string | null {
  const source = path.join(dir, 'clone-probe');
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(source, 'x');
    fs.copyFileSync(source, `${source}-copy`, fsConstants.COPYFILE_FICLONE_FORCE);
    return null;
  } catch (error) {
    return `${(error as NodeJS.ErrnoException).code ?? (error as Error).message}: this file system has no copy-on-write clones`;
  } finally {
    removeTreeSync(dir);
  }
}

/** Per folder of session layers: what stops overlay mounts there (null: nothing), probed once per process. */
const probed = new Map<string, string | null>();
const probing = new Map<string, Promise<void>>();
/**
 * A probe's scratch folder, beside the shadows folder (the same file system) rather than in it: a probe runs
 * while sessions do, and the shadows folder holds sessions' layers only. `.shadow-probe-<pid>` names its owner;
 * one subfolder per probe.
 */
const PROBE_PREFIX = '.shadow-probe-';
const scratchFolder = (shadowsDir: string, name: 'sync' | 'async') => path.join(path.dirname(shadowsDir), `${PROBE_PREFIX}${process.pid}`, name);

/** Removes the scratch folders of probes whose process died mid-probe (killed while the daemon started). */
function reclaimDeadProbes(shadowsDir: string): void {
  const parent = path.dirname(shadowsDir);
  let names: string[];
  try {
    names = fs.readdirSync(parent).filter((name) => name.startsWith(PROBE_PREFIX));
  } catch {
    return; // no state folder yet: nothing left behind
  }
  for (const name of names) {
    try {
      process.kill(Number(name.slice(PROBE_PREFIX.length)), 0);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ESRCH') removeTreeSync(path.join(parent, name));
    }
  }
}

/**
 * Probes overlay mounts for `shadowsDir` without blocking the event loop, so that `chooseShadowStrategy` finds
 * the answer ready: the daemon starts this with its agent service, long before a session asks.
 */
export function prepareShadowStrategy(shadowsDir: string): Promise<void> {
  let done = probing.get(shadowsDir);
  if (!done) {
    reclaimDeadProbes(shadowsDir);
    done = runProbe(overlayProblem(scratchFolder(shadowsDir, 'async'))).then((problem) => {
      if (!probed.has(shadowsDir)) probed.set(shadowsDir, problem);
    });
    probing.set(shadowsDir, done);
  }
  return done;
}

/**
 * The shadow kind for a session on `root` whose layers live under `shadowsDir`: the configured one, or with
 * `auto` the first of overlay → copy-on-write clone → copy that works on this machine (the mount is probed once
 * per folder and process: by `prepareShadowStrategy` without blocking, or here if it has not answered yet). A
 * forced `overlay` that cannot work is an error naming what failed, never a silent copy.
 */
export function chooseShadowStrategy(setting: AgentConfig['shadow'], shadowsDir: string, root?: string): ShadowStrategy {
  if (setting === 'copy') return { kind: 'copy', reason: 'agent.shadow is "copy": every session copies the tree' };
  if (setting === 'clone') return { kind: 'clone', reason: 'agent.shadow is "clone": every session clones the tree (copy-on-write where the file system can)' };
  let overlay = probed.get(shadowsDir);
  if (overlay === undefined) {
    overlay = runProbeSync(overlayProblem(scratchFolder(shadowsDir, 'sync')));
    probed.set(shadowsDir, overlay);
  }
  // The tree and the home become layers too; their paths must fit in the mount options.
  for (const layer of [root, os.homedir()]) {
    if (overlay === null && layer !== undefined) {
      try {
        overlayOptions({ lowers: [layer], upper: shadowsDir, work: shadowsDir });
      } catch (error) {
        overlay = (error as Error).message;
      }
    }
  }
  if (overlay === null) return { kind: 'overlay', reason: 'overlay mounts work in a user namespace: sessions keep only what they change' };
  if (setting === 'overlay') throw new CodeloopError('sandboxUnavailable', `agent.shadow is "overlay" but overlay mounts do not work here: ${overlay}; set agent.shadow to "auto"`);
  const clone = cloneProblem(path.join(shadowsDir, `.probe-${process.pid}`));
  return clone === null
    ? { kind: 'clone', reason: `overlay mounts do not work here (${overlay}); sessions clone the tree copy-on-write` }
    : { kind: 'copy', reason: `overlay mounts do not work here (${overlay}), nor clones (${clone}); sessions copy the whole tree` };
}
