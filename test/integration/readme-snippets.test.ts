import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigSchema } from '../../protocol/config.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const README = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const CLI = path.join(ROOT, 'dist/server/cli.js');

/** The README's fenced blocks with their info string, in order. */
function blocks(): { lang: string; body: string }[] {
  return [...README.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((match) => ({ lang: match[1], body: match[2] }));
}

/** Every key path a zod object schema accepts, nested objects included (`agent.context.elideAt`). */
function keyPaths(schema: z.ZodType, prefix = ''): string[] {
  let inner: z.ZodType = schema;
  while (inner instanceof z.ZodDefault || inner instanceof z.ZodOptional) inner = inner.unwrap() as z.ZodType;
  if (!(inner instanceof z.ZodObject)) return [];
  return Object.entries(inner.shape as Record<string, z.ZodType>).flatMap(([key, value]) => {
    const here = prefix ? `${prefix}.${key}` : key;
    const nested = keyPaths(value, here);
    return nested.length ? nested : [here];
  });
}

function valuePaths(value: unknown, prefix = ''): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [prefix];
  return Object.entries(value).flatMap(([key, inner]) => valuePaths(inner, prefix ? `${prefix}.${key}` : key));
}

describe('README snippets work as pasted', () => {
  it('the configuration example is valid and shows every key the configuration accepts', () => {
    const json = blocks().filter((block) => block.lang === 'json');
    expect(json.length).toBeGreaterThan(0);
    const example = JSON.parse(json[0].body);
    const parsed = ConfigSchema.safeParse(example);
    expect(parsed.success, parsed.success ? '' : JSON.stringify(parsed.error.issues)).toBe(true);
    expect(valuePaths(example).sort()).toEqual(keyPaths(ConfigSchema).sort());
  });

  it('the usage block names every command, and each runs with --help', () => {
    const usage = blocks().find((block) => block.body.startsWith('codeloop index'));
    expect(usage).toBeDefined();
    const named = new Set([...usage!.body.matchAll(/(?:^|\| )codeloop (\w+)/gm)].map((match) => match[1]));
    const help = spawnSync(process.execPath, [CLI, '--help'], { encoding: 'utf8' });
    const listed = new Set([...help.stdout.matchAll(/^ {2}(\w+) /gm)].map((match) => match[1]));
    expect([...named].sort()).toEqual([...listed].sort());
    for (const command of named) {
      const result = spawnSync(process.execPath, [CLI, command, '--help'], { encoding: 'utf8' });
      expect(result.status, `${command} --help: ${result.stderr}`).toBe(0);
      expect(result.stdout).toContain(`usage: codeloop ${command}`);
    }
  });

  it('the first command (set up + run) runs its main job on this checkout', () => {
    const first = blocks()[0].body.split('\n')[0].replace(/#.*$/, '').trim();
    expect(first.startsWith('npm ci && npm run build && ')).toBe(true);
    // `npm ci` and the build already ran for this suite (npm test builds first); the rest is pasted as written.
    const main = first.slice('npm ci && npm run build && '.length);
    const state = fs.mkdtempSync(path.join(fs.realpathSync(process.env.TMPDIR ?? '/tmp'), 'codeloop-readme-'));
    try {
      const result = spawnSync('sh', ['-c', main], {
        cwd: ROOT, encoding: 'utf8', timeout: 120_000,
        env: { ...process.env, XDG_STATE_HOME: state, XDG_CONFIG_HOME: path.join(state, 'config'), CODELOOP_RUNTIME_DIR: path.join(state, 'run') },
      });
      expect(result.status, result.stderr).toBe(0);
      expect(result.stdout).toMatch(/\S/);
    } finally {
      fs.rmSync(state, { recursive: true, force: true });
    }
  });
});
