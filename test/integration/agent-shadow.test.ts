import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeModel, type FakeStep } from '../fake-model/fake-model-server.js';
import { CALC_FILES } from '../helpers/calc-project.js';
import { makeStateHome, makeTree, removeTree } from '../helpers/fixture-tree.js';
import { writeUserConfig } from '../helpers/model-config.js';
import { runCliAsync } from '../helpers/run-cli.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/**
 * What the project's test prints: the agent's changes, the user's dependency (node_modules, never copied into
 * an overlay session), a tool from the user's home, the home's secret store (hidden); it also writes build
 * output, a cache in the home, and over a source file the agent never touched.
 */
const TEST_JS = `const fs = require('fs');
const path = require('path');
const { add } = require('./src/math');
console.log('sum ' + add(2, 3));
console.log('dep ' + require('dep'));
console.log('renamed ' + require('./src/new').newName());
console.log('old exists ' + fs.existsSync('src/old.js') + ', gone exists ' + fs.existsSync('src/gone.js'));
console.log('util ' + require('./src/util').value);
fs.mkdirSync('build', { recursive: true });
fs.writeFileSync('build/out.txt', 'built');
fs.writeFileSync('src/util.js', 'exports.value = "written by the test";\\n');
try { console.log('ssh ' + fs.readFileSync(path.join(process.env.HOME, '.ssh/id_rsa'), 'utf8')); } catch (e) { console.log('ssh ' + e.code); }
const cache = path.join(process.env.XDG_CACHE_HOME || path.join(process.env.HOME, '.cache'), 'mytool');
fs.mkdirSync(cache, { recursive: true });
fs.writeFileSync(path.join(cache, 'hit'), '1');
console.log('cache ok');
process.exit(add(2, 3) === 5 ? 0 : 1);
`;

const NEW_JS = 'function newName() { return 2; }\nmodule.exports = { newName };\n';

function world() {
  const root = makeTree({
    'package.json': JSON.stringify({ name: 'calc', scripts: { test: 'mytool && node test.js' } }),
    'src/math.js': 'exports.add = (a, b) => a - b;\n',
    'src/old.js': 'function oldName() { return 2; }\nmodule.exports = { oldName };\n',
    'src/gone.js': 'exports.goneSoon = "gone";\n',
    'src/util.js': 'exports.value = "from the user";\n',
    'node_modules/dep/index.js': 'module.exports = "from node_modules";\n',
    'test.js': TEST_JS,
  }, { git: true });
  const home = makeTree({
    '.local/bin/mytool': '#!/bin/sh\necho "mytool from the home folder"\n',
    '.ssh/id_rsa': 'PRIVATE KEY MATERIAL',
  });
  fs.chmodSync(path.join(home, '.local/bin/mytool'), 0o755);
  const state = makeStateHome();
  cleanups.push(() => removeTree(root, home, state));
  return { root, home, state };
}

const script: { step: FakeStep; before?: (root: string) => void }[] = [
  { step: { kind: 'text', content: '1. Fix add\n2. Rename old.js to new.js\n3. Delete gone.js' } },
  { step: { kind: 'tools', calls: [
    { name: 'propose_edit', arguments: { path: 'src/math.js', blocks: [{ search: 'a - b', replace: 'a + b' }] } },
    { name: 'propose_edit', arguments: { path: 'src/new.js', content: NEW_JS } },
    { name: 'propose_edit', arguments: { path: 'src/old.js', delete: true } },
    { name: 'propose_edit', arguments: { path: 'src/gone.js', delete: true } },
  ] } },
  { step: { kind: 'tools', calls: [
    { name: 'find_symbol', arguments: { name: 'newName' } },
    { name: 'find_symbol', arguments: { name: 'oldName' } },
    { name: 'search_code', arguments: { query: 'goneSoon' } },
    { name: 'search_code', arguments: { query: 'a + b' } },
    // Ranked in the session's view (on the session view thread from the built daemon): the renamed file, not the deleted one.
    { name: 'search_code', arguments: { query: 'why does newName or oldName return 2', mode: 'text' } },
    { name: 'read_file', arguments: { path: 'src/old.js' } },
  ] } },
  // The user edits a file the agent never touched while the session runs.
  { step: { kind: 'tools', calls: [{ name: 'run_tests', arguments: {} }] }, before: (root) => fs.writeFileSync(path.join(root, 'src/util.js'), 'exports.value = "edited by the user";\n') },
  { step: { kind: 'tools', calls: [{ name: 'list_files', arguments: {} }, { name: 'read_file', arguments: { path: 'build/out.txt' } }] } },
  // …and one the agent changed, just before the proposal: the proposal is against the user's text of now.
  { step: { kind: 'tools', calls: [{ name: 'done', arguments: { summary: 'fixed add, renamed, deleted' } }] }, before: (root) => fs.appendFileSync(path.join(root, 'src/math.js'), '// the user was here\n') },
];

describe.each(['overlay', 'copy', 'clone'] as const)('a session with agent.shadow = %s, through codeloop run', (shadow) => {
  it('proposes exactly the agent\'s edits, creations, deletions and renames; tests see them and the user\'s dependencies; nothing else leaks', async () => {
    const { root, home, state } = world();
    let turn = 0;
    const fake = await startFakeModel(() => {
      const next = script[turn++];
      next?.before?.(root);
      return next?.step;
    });
    cleanups.push(() => fake.close());
    fs.mkdirSync(path.join(state, 'config', 'codeloop'), { recursive: true });
    fs.writeFileSync(path.join(state, 'config', 'codeloop', 'config.json'), JSON.stringify({
      model: { baseURL: fake.baseURL, model: 'fake-model', maxRetries: 0 },
      agent: { shadow, commandTimeoutSeconds: 120 },
    }));
    const result = await runCliAsync(['run', '--json', '--yes', 'fix add, rename old to new, delete gone'], {
      cwd: root, stateHome: state, env: { OPENAI_API_KEY: 'sk-test', HOME: home, PATH: `${home}/.local/bin:${process.env.PATH}` },
    });
    // On failure the whole report (state, error, conflicts) is the message.
    expect(result.status, `${result.stderr}${result.stdout}`).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({ state: 'applied', shadow, testsPassed: true, conflicts: [] });
    expect([...report.applied].sort()).toEqual(['src/gone.js', 'src/math.js', 'src/new.js', 'src/old.js']);
    expect(report.diff).toContain('-// the user was here'); // computed against the user's text at proposal time

    // The user's tree now has the agent's changes and nothing the tests wrote.
    expect(fs.readFileSync(path.join(root, 'src/math.js'), 'utf8')).toBe('exports.add = (a, b) => a + b;\n');
    expect(fs.readFileSync(path.join(root, 'src/new.js'), 'utf8')).toBe(NEW_JS);
    expect(fs.existsSync(path.join(root, 'src/old.js'))).toBe(false);
    expect(fs.existsSync(path.join(root, 'src/gone.js'))).toBe(false);
    expect(fs.existsSync(path.join(root, 'build'))).toBe(false);
    expect(fs.readFileSync(path.join(root, 'src/util.js'), 'utf8')).toBe('exports.value = "edited by the user";\n');
    expect(fs.existsSync(path.join(home, '.cache'))).toBe(false);

    const toolResults = fake.requests.flatMap((request) => request.messages).filter((m) => m.role === 'tool').map((m) => String(m.content));
    const resultOf = (prefix: string) => toolResults.find((text) => text.startsWith(prefix)) ?? toolResults.join('\n---\n');
    // Search inside the session sees the session: the new name, not the old; not the deleted file.
    expect(toolResults).toContain('src/new.js:1-1: function newName');
    expect(toolResults).toContain('no symbols'); // oldName: indexed in src/old.js, which the session deleted
    expect(toolResults).toContain('no matches');
    expect(toolResults).toContain('src/math.js:1: exports.add = (a, b) => a + b;');
    const ranked = toolResults.find((text) => text.includes('function newName() { return 2; }')) ?? toolResults.join('\n---\n');
    expect(ranked).toMatch(/^src\/new\.js:1-\d+: function newName\(\) \{ return 2; \}/);
    expect(ranked).not.toContain('src/old.js');
    expect(toolResults).toContain('no file src/old.js in the workspace');
    // The tests ran in the merged tree: the agent's changes, the user's node_modules, the home's toolchain.
    const tests = resultOf('exit code 0');
    for (const line of ['mytool from the home folder', 'sum 5', 'dep from node_modules', 'renamed 2', 'old exists false, gone exists false', 'ssh ENOENT', 'cache ok']) {
      expect(tests).toContain(line);
    }
    // An overlay session sees the user's tree live; a copy is the tree as it was when the session started.
    expect(tests).toContain(shadow === 'overlay' ? 'util edited by the user' : 'util from the user');
    // The agent sees what the tests wrote (build output), but it is never proposed.
    expect(resultOf('build/out.txt (lines')).toContain('1: built');
    const listing = resultOf('build/out.txt\n').split('\n');
    expect(listing).toEqual(expect.arrayContaining(['build/out.txt', 'src/new.js', 'src/math.js', 'src/util.js']));
    expect(listing).not.toContain('src/old.js');
    expect(listing.some((file) => file.startsWith('node_modules/'))).toBe(false);

    // The session said how its workspace was made, and its layers are gone.
    const store = new Database(path.join(state, 'codeloop', 'sessions.db'), { readonly: true });
    const messages = store.prepare("SELECT data FROM session_events WHERE type = 'message'").pluck().all() as string[];
    store.close();
    expect(messages.map((data) => JSON.parse(data).text)).toContainEqual(expect.stringMatching(new RegExp(`^session workspace: ${shadow} \\(`)));
    await expect.poll(() => fs.readdirSync(path.join(state, 'codeloop', 'shadows')), { timeout: 20_000 }).toEqual([]);
  }, 120_000);
});

describe('a workspace whose path an overlay mount cannot take', () => {
  it.each([',', ':', '"'])('(%s in it) gets another shadow, says why, and its tests run', async (character) => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), `codeloop odd${character}path `));
    for (const [file, text] of Object.entries(CALC_FILES)) {
      fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
      fs.writeFileSync(path.join(root, file), text);
    }
    const state = makeStateHome();
    const fake = await startFakeModel([
      { kind: 'text', content: '1. Fix add' },
      { kind: 'tools', calls: [{ name: 'propose_edit', arguments: { path: 'src/math.js', edit: { kind: 'blocks', blocks: [{ search: 'a - b', replace: 'a + b' }] } } }] },
      { kind: 'tools', calls: [{ name: 'done', arguments: { summary: 'add adds' } }] },
    ]);
    cleanups.push(() => removeTree(root, state), () => fake.close());
    writeUserConfig(state, { model: { baseURL: fake.baseURL, model: 'fake-model', maxRetries: 0 }, agent: { commandTimeoutSeconds: 60 } });
    const result = await runCliAsync(['run', '--yes', 'make add add'], { cwd: root, stateHome: state, env: { OPENAI_API_KEY: 'sk-test' } });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/· session workspace: (clone|copy) \(overlay mounts do not work here \(the path .+ contains a comma, colon, double quote, backslash or newline, which overlay mounts cannot take\)/);
    expect(result.stderr).toMatch(/tests passed \(npm test\)/);
    expect(result.stderr).toMatch(/session \w+: applied/);
    expect(fs.readFileSync(path.join(root, 'src/math.js'), 'utf8')).toBe('exports.add = (a, b) => a + b;\n');
  }, 120_000);
});

describe('a sandbox that cannot be set up', () => {
  it('ends the session with the sandbox\'s own words (its work kept, tests not run), instead of showing the model a failing test run to repair', async () => {
    const root = makeTree(CALC_FILES);
    const state = makeStateHome();
    const steps: FakeStep[] = [
      { kind: 'text', content: '1. Fix add' },
      { kind: 'tools', calls: [{ name: 'propose_edit', arguments: { path: 'src/math.js', edit: { kind: 'blocks', blocks: [{ search: 'a - b', replace: 'a + b' }] } } }] },
      { kind: 'tools', calls: [{ name: 'run_tests', arguments: {} }] },
      { kind: 'tools', calls: [{ name: 'done', arguments: { summary: 'add adds' } }] },
    ];
    let turn = 0;
    let removed = '';
    const fake = await startFakeModel(() => {
      // Before the tests run, the session's private cache folder vanishes (a cleaner emptied the state's tmp):
      // the sandbox binds it writable for the commands, and bubblewrap cannot bind what is not there.
      if (turn === 2) {
        removed = (fs.readdirSync(state, { recursive: true }) as string[]).map((entry) => path.join(state, entry)).find((entry) => path.basename(entry) === 'cache' && fs.statSync(entry).isDirectory()) ?? '';
        fs.rmSync(removed, { recursive: true });
      }
      return steps[turn++];
    });
    cleanups.push(() => removeTree(root, state), () => fake.close());
    writeUserConfig(state, { model: { baseURL: fake.baseURL, model: 'fake-model', maxRetries: 0 }, agent: { shadow: 'copy', commandTimeoutSeconds: 60 } });
    const result = await runCliAsync(['run', '--json', '--yes', 'make add add'], { cwd: root, stateHome: state, env: { OPENAI_API_KEY: 'sk-test' } });
    const report = JSON.parse(result.stdout);
    expect(removed).not.toBe('');
    const why = `the sandbox could not be set up to run "npm test", so it did not run: bwrap: Can't find source path ${removed}: No such file or directory; \`codeloop doctor\` checks the sandbox`;
    // The session ends there with the sandbox's words; its work is kept as a proposal whose verdict says no tests ran.
    expect(report.error, result.stdout).toBe(why);
    expect(report.verdict).toMatchObject({ tests: 'notRun', text: `no tests ran; ${why}` });
    expect(report.diff).toContain('+exports.add = (a, b) => a + b;');
    // The model never saw a test failure to repair: the run_tests call was its last request.
    expect(fake.requests).toHaveLength(3);
  }, 120_000);
});

describe('codeloop doctor on sessions\' workspaces and toolchains', () => {
  it('says which shadow sessions get, and whether the test command\'s tool starts in the sandbox', async () => {
    const root = makeTree({ 'package.json': JSON.stringify({ name: 'x', scripts: { test: 'mytool run-tests' } }) });
    const home = makeTree({ '.local/bin/mytool': '#!/bin/sh\necho "mytool 1.2.3"\n', '.secret-tools/bin/othertool': '#!/bin/sh\necho other\n' });
    fs.chmodSync(path.join(home, '.local/bin/mytool'), 0o755);
    fs.chmodSync(path.join(home, '.secret-tools/bin/othertool'), 0o755);
    const state = makeStateHome();
    cleanups.push(() => removeTree(root, home, state));
    const doctor = async (config: object) => {
      fs.mkdirSync(path.join(state, 'config', 'codeloop'), { recursive: true });
      fs.writeFileSync(path.join(state, 'config', 'codeloop', 'config.json'), JSON.stringify({ model: { baseURL: 'http://127.0.0.1:9/v1', maxRetries: 0 }, ...config }));
      const result = await runCliAsync(['doctor', '--json'], { cwd: root, stateHome: state, env: { HOME: home, PATH: `${home}/.local/bin:${home}/.secret-tools/bin:${process.env.PATH}` } });
      return Object.fromEntries(JSON.parse(result.stdout).checks.map((check: { name: string }) => [check.name, check]));
    };
    const auto = await doctor({});
    expect(auto.shadow).toMatchObject({ ok: true, detail: expect.stringMatching(/^overlay: overlay mounts work/) });
    expect(auto['test command']).toMatchObject({ ok: true, detail: expect.stringMatching(/^npm test: starts in the sandbox: `npm --version` \([\d.]+\), `PATH="\$PWD\/node_modules\/.bin:\$PATH" mytool --version` \(mytool 1.2.3\)$/) });
    const copy = await doctor({ agent: { shadow: 'copy' } });
    expect(copy.shadow).toMatchObject({ ok: true, detail: expect.stringMatching(/^copy: agent.shadow is "copy"/) });
    // A project's config may hide more of the home (never less): a tool kept there cannot start, and doctor says so.
    fs.writeFileSync(path.join(root, 'package.json'), JSON.stringify({ name: 'x', scripts: { test: 'othertool' } }));
    fs.writeFileSync(path.join(root, '.codeloop.json'), JSON.stringify({ agent: { hiddenHomePaths: ['.secret-tools'] } }));
    const hidden = await doctor({});
    expect(hidden['test command']).toMatchObject({ ok: false, detail: expect.stringContaining('npm test: `PATH="$PWD/node_modules/.bin:$PATH" othertool --version` cannot start in the sandbox (not found on PATH inside the sandbox)') });
  }, 120_000);

  it('secret stores that the environment places outside their default place stay hidden from the sandbox', async () => {
    const stores = {
      'xdg/gh/hosts.yml': 'gh-token', 'xdg/git/credentials': 'git-token', 'data/keyrings/login.keyring': 'keyring',
      'rust/cargo/credentials.toml': 'cargo-token', 'keys/gnupg/private-keys-v1.d/k.key': 'gpg-key', 'keys/kube/a.yaml': 'kube-a',
      'keys/kube/b.yaml': 'kube-b', 'keys/aws-credentials': 'aws-key', 'keys/docker/config.json': 'docker-auth',
    };
    const home = makeTree({ ...stores, '.local/bin/mytool': `#!/bin/sh\nfor f in ${Object.keys(stores).map((file) => `"$HOME/${file}"`).join(' ')}; do cat "$f" 2>/dev/null; done; echo read-all-i-could\n` });
    fs.chmodSync(path.join(home, '.local/bin/mytool'), 0o755);
    const root = makeTree({ 'package.json': JSON.stringify({ name: 'x', scripts: { test: 'mytool' } }) });
    const state = makeStateHome();
    cleanups.push(() => removeTree(root, home, state));
    fs.mkdirSync(path.join(state, 'config', 'codeloop'), { recursive: true });
    fs.writeFileSync(path.join(state, 'config', 'codeloop', 'config.json'), JSON.stringify({ model: { baseURL: 'http://127.0.0.1:9/v1', maxRetries: 0 } }));
    const at = (relative: string) => path.join(home, relative);
    const result = await runCliAsync(['doctor', '--json'], {
      cwd: root, stateHome: state,
      env: {
        HOME: home, PATH: `${home}/.local/bin:${process.env.PATH}`, XDG_CONFIG_HOME: at('xdg'), XDG_DATA_HOME: at('data'), CARGO_HOME: at('rust/cargo'),
        GNUPGHOME: at('keys/gnupg'), KUBECONFIG: `${at('keys/kube/a.yaml')}:${at('keys/kube/b.yaml')}`, AWS_SHARED_CREDENTIALS_FILE: at('keys/aws-credentials'), DOCKER_CONFIG: at('keys/docker'),
      },
    });
    const checks = Object.fromEntries(JSON.parse(result.stdout).checks.map((check: { name: string }) => [check.name, check]));
    // The tool ran, and read nothing: its first line of output is what doctor shows.
    expect(checks['test command']).toMatchObject({ ok: true, detail: expect.stringMatching(/`PATH="\$PWD\/node_modules\/.bin:\$PATH" mytool --version` \(read-all-i-could\)$/) });
  }, 120_000);

  it('a toolchain outside its default place starts in the sandbox: the variables that locate it are kept, secrets are not', async () => {
    // rustup installed the XDG way (RUSTUP_HOME and CARGO_HOME under ~/.local/share): its cargo proxy looks for
    // the toolchains in $RUSTUP_HOME, default ~/.rustup, as rustup's own proxies do.
    const rustupHome = '.local/share/rustup';
    const home = makeTree({
      '.local/share/cargo/bin/cargo': '#!/bin/sh\ntoolchains="${RUSTUP_HOME:-$HOME/.rustup}/toolchains"\n'
        + '[ -d "$toolchains/stable" ] || { echo "error: rustup could not choose a version of cargo to run" >&2; exit 1; }\n'
        + 'exec "$toolchains/stable/bin/cargo" "$@"\n',
      [`${rustupHome}/toolchains/stable/bin/cargo`]: '#!/bin/sh\necho "cargo 1.80.0 (stable) token=${OPENAI_API_KEY:-none}"\n',
    });
    for (const tool of ['.local/share/cargo/bin/cargo', `${rustupHome}/toolchains/stable/bin/cargo`]) fs.chmodSync(path.join(home, tool), 0o755);
    const root = makeTree({ 'Cargo.toml': '[package]\nname = "x"\nversion = "0.1.0"\n' });
    const state = makeStateHome();
    cleanups.push(() => removeTree(root, home, state));
    fs.mkdirSync(path.join(state, 'config', 'codeloop'), { recursive: true });
    fs.writeFileSync(path.join(state, 'config', 'codeloop', 'config.json'), JSON.stringify({ model: { baseURL: 'http://127.0.0.1:9/v1', maxRetries: 0 } }));
    const result = await runCliAsync(['doctor', '--json'], {
      cwd: root, stateHome: state,
      env: { HOME: home, RUSTUP_HOME: path.join(home, rustupHome), CARGO_HOME: path.join(home, '.local/share/cargo'), OPENAI_API_KEY: 'sk-secret-kept-out', PATH: `${home}/.local/share/cargo/bin:${process.env.PATH}` },
    });
    const checks = Object.fromEntries(JSON.parse(result.stdout).checks.map((check: { name: string }) => [check.name, check]));
    expect(checks['test command']).toMatchObject({ ok: true, detail: 'cargo test: starts in the sandbox: `cargo --version` (cargo 1.80.0 (stable) token=none)' });
  }, 120_000);
});
