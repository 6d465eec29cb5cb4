import { spawnSync } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import fs from 'node:fs';
import path from 'node:path';
import type { AgentConfig } from '../../protocol/config.js';
import { CodeloopError } from '../errors.js';
import { overlayOptions } from './command-runner.js';
import { removeTreeSync } from './remove-tree.js';

export type ShadowKind = 'overlay' | 'clone' | 'copy';

/** How sessions get their shadow here, and why (shown by `codeloop doctor` and in each session's events). */
export interface ShadowStrategy {
  kind: ShadowKind;
  reason: string;
}

/**
 * Marks `file` deleted in an overlay layer: a whiteout is a character device 0/0, which Linux ≥ 5.8 lets any
 * user create (Node has no mknod, so coreutils' does it).
 */
export function makeWhiteout(file: string): void {
  const result = spawnSync('mknod', [file, 'c', '0', '0'], { encoding: 'utf8' });
  if (result.status !== 0) throw new CodeloopError('sandboxUnavailable', `cannot mark ${file} deleted in the session's layer (mknod): ${(result.stderr || result.error?.message || '').trim()}`);
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
function overlayProblem(scratch: string): string | null {
  const layer = (name: string) => path.join(scratch, name);
  try {
    for (const name of ['lower', 'agent', 'upper', 'work', 'merged']) fs.mkdirSync(layer(name), { recursive: true });
    fs.writeFileSync(path.join(layer('lower'), 'deleted'), 'x');
    makeWhiteout(path.join(layer('agent'), 'deleted'));
    const options = overlayOptions({ lowers: [layer('agent'), layer('lower')], upper: layer('upper'), work: layer('work') });
    const merged = layer('merged');
    const result = spawnSync('unshare', ['--user', '--map-root-user', '--mount', '--', 'sh', '-c',
      'mount -t overlay overlay -o "$1" "$2" && test ! -e "$2/deleted" && echo ok > "$2/written"', 'sh', options, merged], { encoding: 'utf8', timeout: 10_000 });
    if (result.error) return `unshare could not run (${result.error.message})`;
    if (result.status !== 0) return (result.stderr.trim() || `exit code ${result.status}`).split('\n')[0];
    if (!fs.existsSync(path.join(layer('upper'), 'written'))) return 'a write through the overlay did not reach the upper layer';
    return null;
  } catch (error) {
    return (error as Error).message;
  } finally {
    removeTreeSync(scratch);
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

const cache = new Map<string, ShadowStrategy>();

/**
 * The shadow kind for sessions whose layers live under `shadowsDir`: the configured one, or with `auto` the first
 * of overlay → copy-on-write clone → copy that works on this machine (probed once per folder and process).
 * A forced `overlay` that cannot work is an error (it names what failed) rather than a silent copy.
 */
export function chooseShadowStrategy(setting: AgentConfig['shadow'], shadowsDir: string): ShadowStrategy {
  const key = `${setting}\0${shadowsDir}`;
  const known = cache.get(key);
  if (known) return known;
  const scratch = path.join(shadowsDir, `.probe-${process.pid}`);
  let strategy: ShadowStrategy;
  if (setting === 'copy') strategy = { kind: 'copy', reason: 'agent.shadow is "copy": every session copies the tree' };
  else if (setting === 'clone') strategy = { kind: 'clone', reason: 'agent.shadow is "clone": every session clones the tree (copy-on-write where the file system can)' };
  else {
    const overlay = overlayProblem(scratch);
    if (overlay === null) strategy = { kind: 'overlay', reason: 'overlay mounts work in a user namespace: sessions keep only what they change' };
    else if (setting === 'overlay') throw new CodeloopError('sandboxUnavailable', `agent.shadow is "overlay" but overlay mounts do not work here: ${overlay}; set agent.shadow to "auto"`);
    else {
      const clone = cloneProblem(scratch);
      strategy = clone === null
        ? { kind: 'clone', reason: `overlay mounts do not work here (${overlay}); sessions clone the tree copy-on-write` }
        : { kind: 'copy', reason: `overlay mounts do not work here (${overlay}), nor clones (${clone}); sessions copy the whole tree` };
    }
  }
  cache.set(key, strategy);
  return strategy;
}
