import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeStateHome, makeTree, removeTree } from '../helpers/fixture-tree.js';
import { CLI_PATH } from '../helpers/run-cli.js';

/**
 * What `npm pack` puts in the tarball is what `npm install -g codeloop-*.tgz` installs: the tarball must carry the
 * compiled `dist/` (package.json "files"; "prepack" builds it) and the native client's source with its build
 * script (package.json "install" compiles it on the user's machine). The tarball is packed with
 * `--ignore-scripts` here — `npm test` has built dist/ already, and rebuilding it under other running tests would
 * change their files — and unpacked beside this checkout's node_modules, as `npm install` would lay it out.
 * (A full `npm install -g --prefix` of the tarball compiles better-sqlite3 from source, ≈ 3 min here: done by
 * hand, see the README.)
 */
const PACKAGE = path.resolve(path.dirname(CLI_PATH), '../..');

let scratch: string;
let installed: string;
let listed: string[];
let stateHome: string;
let workspace: string;

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env) {
  const result = spawnSync(command, args, { cwd, env, encoding: 'utf8', timeout: 120_000 });
  if (result.error) throw result.error;
  return result;
}

beforeAll(() => {
  scratch = makeTree({});
  const packed = run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', scratch], PACKAGE);
  expect(packed.status, packed.stderr).toBe(0);
  const [report] = JSON.parse(packed.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
  listed = report.files.map((file) => file.path);
  // npm's own layout: the tarball's single folder `package/` becomes node_modules/codeloop.
  expect(run('tar', ['-xzf', path.join(scratch, report.filename), '-C', scratch], scratch).status).toBe(0);
  installed = path.join(scratch, 'package');
  fs.symlinkSync(path.join(PACKAGE, 'node_modules'), path.join(installed, 'node_modules'));
  stateHome = makeStateHome();
  workspace = makeTree({ 'src/retry.ts': 'export function retryFetch(url: string) {\n  return fetch(url);\n}\n', 'README.md': 'retries live in src/retry.ts\n' });
}, 180_000);

afterAll(() => removeTree(scratch, stateHome, workspace));

describe('npm pack', () => {
  it('ships the launcher, the compiled server and the native client source, and nothing of the tests or benchmarks', () => {
    expect(listed).toEqual(expect.arrayContaining(['bin/codeloop', 'dist/server/cli.js', 'dist/server/index/analysis-worker.js', 'dist/protocol/search.js', 'clients/cli/codeloop-client.c', 'clients/cli/build.sh', 'package.json', 'README.md']));
    expect(listed.filter((file) => /^(test|bench|dist\/test|dist\/bench|server)\//.test(file) || file.endsWith('.ts'))).toEqual([]);
    // A client compiled on the packing machine must not be shipped: the install script builds it for the user's.
    expect(listed).not.toContain('dist/clients/cli/codeloop-client');
  });

  it('unpacked, its install script builds the native client and `codeloop --version` and `codeloop search` work', () => {
    const built = run('sh', ['clients/cli/build.sh'], installed);
    expect(built.status, built.stderr).toBe(0);
    const env = { ...process.env, XDG_STATE_HOME: stateHome, XDG_CONFIG_HOME: path.join(stateHome, 'config'), CODELOOP_RUNTIME_DIR: path.join(stateHome, 'runtime') };
    const launcher = path.join(installed, 'bin/codeloop');
    const version = run(launcher, ['--version'], workspace, env);
    const { version: expected } = JSON.parse(fs.readFileSync(path.join(PACKAGE, 'package.json'), 'utf8')) as { version: string };
    expect(version.stdout.trim()).toBe(`codeloop ${expected}`);
    const exact = run(launcher, ['search', 'retryFetch', '.'], workspace, env);
    expect(exact.status, exact.stderr).toBe(0);
    expect(exact.stdout).toBe('src/retry.ts:1:17:export function retryFetch(url: string) {\n');
    const ranked = run(launcher, ['search', '--text', 'where are retries handled', '.'], workspace, env);
    expect(ranked.status, ranked.stderr).toBe(0);
    expect(ranked.stdout).toContain('src/retry.ts');
  });
});
