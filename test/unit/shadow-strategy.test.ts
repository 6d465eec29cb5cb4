import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chooseShadowStrategy, prepareShadowStrategy } from '../../server/sandbox/shadow-strategy.js';

const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});
const tempDir = (prefix: string) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
};

describe('choosing how a session gets its workspace', () => {
  it('takes the overlay where it works, and leaves no probe behind', () => {
    const state = tempDir('codeloop-strategy-');
    const shadows = path.join(state, 'shadows');
    expect(chooseShadowStrategy('auto', shadows)).toEqual({ kind: 'overlay', reason: 'overlay mounts work in a user namespace: sessions keep only what they change' });
    expect(fs.readdirSync(state)).toEqual([]);
  });

  it('probes without blocking ahead of the first session, beside the shadows folder, and reclaims what a killed probe left', async () => {
    const state = tempDir('codeloop-strategy-');
    const shadows = path.join(state, 'shadows');
    // A daemon killed mid-probe left its scratch folder; its pid is gone.
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    fs.mkdirSync(path.join(state, `.shadow-probe-${dead}`, 'async', 'upper'), { recursive: true });
    const probing = prepareShadowStrategy(shadows);
    expect(fs.readdirSync(state)).not.toContain(`.shadow-probe-${dead}`);
    await probing;
    expect(fs.readdirSync(state)).toEqual([]);
    expect(chooseShadowStrategy('auto', shadows)).toEqual({ kind: 'overlay', reason: 'overlay mounts work in a user namespace: sessions keep only what they change' });
    expect(fs.existsSync(shadows) ? fs.readdirSync(shadows) : []).toEqual([]);
  });

  it('falls back, saying why, when overlays cannot work (here: layers at paths a mount cannot take); a forced overlay is an error', () => {
    const shadows = path.join(tempDir('codeloop-strategy-'), 'shad:ows');
    const fallback = chooseShadowStrategy('auto', shadows);
    expect(fallback.kind).toMatch(/^(clone|copy)$/);
    expect(fallback.reason).toMatch(/^overlay mounts do not work here \(the path ".*shad:ows.*" contains a comma, colon, double quote, backslash or newline, which overlay mounts cannot take\)/);
    expect(() => chooseShadowStrategy('overlay', shadows)).toThrow(/agent.shadow is "overlay" but overlay mounts do not work here: the path/);
    // The tree itself cannot be a layer either.
    const root = tempDir('codeloop,tree-');
    expect(chooseShadowStrategy('auto', path.join(tempDir('codeloop-strategy-'), 'shadows'), root)).toMatchObject({ kind: expect.stringMatching(/^(clone|copy)$/), reason: expect.stringContaining('codeloop,tree-') });
  });

  it('takes a forced clone or copy as given', () => {
    const shadows = path.join(tempDir('codeloop-strategy-'), 'shadows');
    expect(chooseShadowStrategy('copy', shadows).kind).toBe('copy');
    expect(chooseShadowStrategy('clone', shadows).kind).toBe('clone');
  });
});
