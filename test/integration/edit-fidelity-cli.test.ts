import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeModel, type FakeModel, type FakeStep } from '../fake-model/fake-model-server.js';
import { makeStateHome, makeTree, removeTree } from '../helpers/fixture-tree.js';
import { writeUserConfig } from '../helpers/model-config.js';
import { runCliAsync } from '../helpers/run-cli.js';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

type Call = { name: string; arguments: unknown };
const call = (name: string, args: unknown): Call => ({ name, arguments: args });
const blocks = (file: string, search: string, replace: string) => call('propose_edit', { path: file, edit: { kind: 'blocks', blocks: [{ search, replace }] } });
const done = call('done', { summary: 'done' });

/** `codeloop run --json --yes` on a tree with a scripted model making `calls` (one per turn); returns the report. */
async function runAgent(files: Record<string, string | Buffer>, calls: Call[], setup: (root: string) => void = () => undefined, agent: Record<string, unknown> = {}) {
  const root = fs.realpathSync(makeTree(files, { git: true }));
  const state = makeStateHome();
  setup(root);
  const steps: FakeStep[] = [{ kind: 'text', content: '1. Edit' }, ...calls.map((c): FakeStep => ({ kind: 'tools', calls: [c] })), { kind: 'tools', calls: [done] }];
  const fake: FakeModel = await startFakeModel(steps);
  cleanups.push(() => removeTree(root, state), () => fake.close());
  writeUserConfig(state, { model: { baseURL: fake.baseURL, model: 'fake-model', maxRetries: 0 }, agent: { commandTimeoutSeconds: 30, ...agent } });
  const result = await runCliAsync(['run', '--json', '--yes', 'edit the files'], { cwd: root, stateHome: state, env: { OPENAI_API_KEY: 'sk-fidelity' } });
  // The last request carries the whole conversation: every tool result, in order
  const toolResults = fake.requests.at(-1)!.messages.filter((m) => m.role === 'tool').map((m) => String(m.content));
  return { root, result, report: result.stdout ? JSON.parse(result.stdout) : null, toolResults };
}

const bytes = (root: string, file: string) => fs.readFileSync(path.join(root, file));

describe('codeloop run writes what was approved, byte for byte', () => {
  it('keeps line endings, the indentation unit and the encoding of every file it edits', async () => {
    const latin1 = Buffer.from('# Pr\xe9f\xe9rences \xa9 2024\nlimit = 10\nnom = "Ren\xe9e"\n', 'latin1');
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('Write-Host "Grüße"\r\n$limit = 10\r\n', 'utf16le')]);
    const { root, report, toolResults, result } = await runAgent({
      'src/Program.cs': 'class P {\r\n    static int Limit() {\r\n        return 10;\r\n    }\r\n}\r\n',
      'src/mixed.txt': 'windows line\r\nunix line\nlast\n',
      'src/tabs.py': 'def limit(x):\n\tif x:\n\t\ty = 10\n\t\treturn y\n\treturn 0\n',
      'src/prefs.conf': latin1,
      'src/bom.csv': '\ufeffname;limit\r\nZoë;10\r\n',
      'src/script.ps1': utf16,
      'src/whole.bat': '@echo off\r\nset LIMIT=10\r\n',
      'src/patched.ini': '[limits]\r\nmax=10\r\n',
      'src/patched.py': 'def limit(x):\n\tif x:\n\t\treturn 10\n\treturn 0\n',
    }, [
      // A patch written with 4-space indentation against a tab-indented file: its hunk matches as a block would.
      call('propose_edit', { path: 'src/patched.py', edit: { kind: 'patch', patch: '--- a/src/patched.py\n+++ b/src/patched.py\n@@ -1,4 +1,5 @@\n def limit(x):\n     if x:\n-        return 10\n+        y = 20\n+        return y\n     return 0\n' } }),
      call('propose_edit', { path: 'src/whole.bat', edit: { kind: 'content', content: '@echo off\nset LIMIT=20\necho %LIMIT%\n' } }),
      call('propose_edit', { path: 'src/patched.ini', edit: { kind: 'patch', patch: '--- a/src/patched.ini\n+++ b/src/patched.ini\n@@ -1,2 +1,3 @@\n [limits]\n-max=10\n+max=20\n+min=1\n' } }),
      blocks('src/Program.cs', '        return 10;\n', '        var limit = 20;\n        return limit;\n'),
      blocks('src/mixed.txt', 'unix line\n', 'unix line\nadded line\n'),
      blocks('src/tabs.py', '    if x:\n        y = 10\n', '    if x:\n        y = 20\n        if y > 15:\n            y = 15\n'),
      blocks('src/prefs.conf', 'limit = 10', 'limit = 20'),
      blocks('src/bom.csv', 'Zoë;10', 'Zoë;20'),
      blocks('src/script.ps1', '$limit = 10', '$limit = 20'),
    ]);
    expect(result.status, result.stderr).toBe(0);
    expect(toolResults.filter((output) => output.includes('propose_edit') || output.includes('failed'))).toEqual([]);
    expect(report.applied.sort()).toEqual(['src/Program.cs', 'src/bom.csv', 'src/mixed.txt', 'src/patched.ini', 'src/patched.py', 'src/prefs.conf', 'src/script.ps1', 'src/tabs.py', 'src/whole.bat']);
    expect(bytes(root, 'src/patched.py').toString()).toBe('def limit(x):\n\tif x:\n\t\ty = 20\n\t\treturn y\n\treturn 0\n');
    expect(bytes(root, 'src/whole.bat').toString()).toBe('@echo off\r\nset LIMIT=20\r\necho %LIMIT%\r\n');
    expect(bytes(root, 'src/patched.ini').toString()).toBe('[limits]\r\nmax=20\r\nmin=1\r\n');

    expect(bytes(root, 'src/Program.cs').toString()).toBe('class P {\r\n    static int Limit() {\r\n        var limit = 20;\r\n        return limit;\r\n    }\r\n}\r\n');
    expect(bytes(root, 'src/mixed.txt').toString()).toBe('windows line\r\nunix line\nadded line\nlast\n');
    expect(bytes(root, 'src/tabs.py').toString()).toBe('def limit(x):\n\tif x:\n\t\ty = 20\n\t\tif y > 15:\n\t\t\ty = 15\n\t\treturn y\n\treturn 0\n');
    const python = spawnSync('python3', ['-c', 'import sys; compile(open(sys.argv[1]).read(), "tabs.py", "exec")', path.join(root, 'src/tabs.py')], { encoding: 'utf8' });
    expect(python.stderr).toBe('');
    expect(bytes(root, 'src/prefs.conf').equals(Buffer.from(latin1.toString('latin1').replace('limit = 10', 'limit = 20'), 'latin1'))).toBe(true);
    expect(bytes(root, 'src/bom.csv').toString()).toBe('\ufeffname;limit\r\nZoë;20\r\n');
    expect(bytes(root, 'src/script.ps1').equals(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('Write-Host "Grüße"\r\n$limit = 20\r\n', 'utf16le')]))).toBe(true);
    // The diff the user approved shows the Latin-1 text faithfully, never U+FFFD
    expect(report.diff).toContain('-limit = 10\n+limit = 20');
    expect(report.diff).toContain('Renée');
    expect(report.diff).not.toContain('\ufffd');
  }, 60_000);

  it('refuses edits it cannot make safely, saying why, and leaves those files alone', async () => {
    const latin1 = Buffer.from('prix = 10 \xa3\n', 'latin1');
    const binary = Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x00, 0x01, 0x02, 0x0a]);
    const { root, toolResults, report } = await runAgent({ 'prices.txt': latin1, 'tool.bin': binary, 'ok.txt': 'fine\n' }, [
      blocks('prices.txt', 'prix = 10', 'prix = 10 €'),
      blocks('tool.bin', 'ELF', 'FLE'),
      call('propose_edit', { path: 'tool.bin', edit: { kind: 'content', content: 'text now' } }),
      call('read_file', { path: 'tool.bin' }),
    ]);
    expect(toolResults).toContainEqual(expect.stringContaining('the file is Latin-1 (not UTF-8), and "€" (U+20AC) at line 1, column 11 cannot be stored in it'));
    expect(toolResults.filter((output) => output.includes('tool.bin contains NUL bytes (a binary file); codeloop does not read or edit it as text')).map((output) => output.split(':')[0]))
      .toEqual(['propose_edit failed', 'propose_edit failed', 'read_file failed']);
    expect(report.applied).toEqual([]);
    expect(bytes(root, 'prices.txt').equals(latin1)).toBe(true);
    expect(bytes(root, 'tool.bin').equals(binary)).toBe(true);
  }, 60_000);

  it('refuses a propose_edit call that means two things, with the correction, and takes the corrected call', async () => {
    const { root, toolResults } = await runAgent({ 'notes.md': '# Notes\n\n- one\n' }, [
      call('propose_edit', { path: 'notes.md', blocks: [{ search: '- one', replace: '- two' }], content: '- two\n' }),
      call('propose_edit', { path: 'notes.md', edit: { kind: 'blocks', blocks: [{ search: '- one', replace: '- two' }], content: '- two\n' } }),
      call('propose_edit', { path: 'notes.md', edit: { kind: 'rewrite', content: 'x' } }),
      call('propose_edit', { path: 'notes.md' }),
      call('read_file', { path: 'notes.md', startLine: 3, endLine: 1 }),
      call('search_code', { query: 'Notes', mode: 'symbol', caseInsensitive: true }),
      call('propose_edit', { path: 'notes.md', blocks: [{ search: '- one', replace: '- one\n- two' }] }),
    ]);
    expect(toolResults).toContainEqual(expect.stringContaining('propose_edit got `blocks` and `content` in one call; they mean different edits, so nothing was changed. Send exactly one as `edit`'));
    expect(toolResults).toContainEqual(expect.stringMatching(/invalid arguments for propose_edit at edit: .*nothing was done\.\nCall it as \{"path"/));
    expect(toolResults).toContainEqual(expect.stringMatching(/invalid arguments for propose_edit at edit.kind: Invalid discriminator value. Expected 'blocks' \| 'content' \| 'patch' \| 'delete'/));
    expect(toolResults).toContainEqual(expect.stringContaining('invalid arguments for read_file at endLine: endLine comes before startLine'));
    expect(toolResults).toContainEqual(expect.stringContaining('invalid arguments for search_code at caseInsensitive: caseInsensitive applies to literal and regex searches only'));
    expect(toolResults).toContainEqual('notes.md: block 1: applied (exact match)');
    expect(bytes(root, 'notes.md').toString()).toBe('# Notes\n\n- one\n- two\n');
  }, 60_000);
});

describe('codeloop run never writes through a symlink out of the workspace', () => {
  it('refuses every file operation through dangling links, links to links, parent links and links the agent made', async () => {
    const outside = fs.realpathSync(makeTree({ 'kept.txt': 'outside, untouched\n' }));
    cleanups.push(() => removeTree(outside));
    const { root, toolResults, report, result } = await runAgent({ 'src/a.txt': 'inside\n' }, [
      call('propose_edit', { path: 'notes', content: 'pwned' }),
      call('propose_edit', { path: 'notes-again', edit: { kind: 'content', content: 'pwned' } }),
      call('propose_edit', { path: 'out-dir/new/deeper.txt', edit: { kind: 'content', content: 'pwned' } }),
      call('propose_edit', { path: 'out-dir/kept.txt', edit: { kind: 'blocks', blocks: [{ search: 'untouched', replace: 'pwned' }] } }),
      call('propose_edit', { path: 'out-dir/kept.txt', edit: { kind: 'delete' } }),
      call('propose_edit', { path: 'self/../escape.txt', edit: { kind: 'content', content: 'pwned' } }),
      call('read_file', { path: 'out-dir/kept.txt' }),
      call('list_files', { path: 'out-dir' }),
      call('search_code', { query: 'outside, untouched' }),
      call('find_symbol', { name: 'kept' }),
      call('run_command', { command: `ln -s ${outside}/made-by-agent.txt made` }),
      call('propose_edit', { path: 'made', edit: { kind: 'content', content: 'pwned' } }),
      call('propose_edit', { path: 'src/a.txt', edit: { kind: 'content', content: 'inside, edited\n' } }),
    ], (root) => {
      fs.symlinkSync(path.join(outside, 'new.txt'), path.join(root, 'notes'));
      fs.symlinkSync('notes', path.join(root, 'notes-again'));
      fs.symlinkSync(outside, path.join(root, 'out-dir'));
      fs.symlinkSync(root, path.join(root, 'self'));
    }, { allowedCommands: ['ln'] });
    expect(result.status, result.stderr).toBe(0);
    const refusals = toolResults.filter((output) => /leads outside the workspace|outside the workspace/.test(output));
    expect(refusals.map((output) => output.split(':')[0])).toEqual(['propose_edit failed', 'propose_edit failed', 'propose_edit failed', 'propose_edit failed', 'propose_edit failed', 'propose_edit failed', 'read_file failed', 'list_files failed', 'propose_edit failed']);
    expect(refusals[0]).toContain('path "notes" leads outside the workspace through the symlink notes ->');
    expect(toolResults).toContain('no matches');
    expect(toolResults).toContain('no symbols');
    expect(toolResults.find((output) => output.startsWith('exit code 0'))).toBeDefined();
    expect(report.applied).toEqual(['src/a.txt']);
    expect(fs.readdirSync(outside)).toEqual(['kept.txt']);
    expect(fs.readFileSync(path.join(outside, 'kept.txt'), 'utf8')).toBe('outside, untouched\n');
    expect(fs.existsSync(path.join(path.dirname(root), 'escape.txt'))).toBe(false);
    expect(fs.readFileSync(path.join(root, 'src/a.txt'), 'utf8')).toBe('inside, edited\n');
  }, 60_000);
});
