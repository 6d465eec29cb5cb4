import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { editorOnDaemon } from '../helpers/daemon-world.js';
import { makeStateHome, makeTree, removeTree } from '../helpers/fixture-tree.js';
import { CLI_PATH, runCli } from '../helpers/run-cli.js';

/**
 * Files and folders whose names are not valid UTF-8 (bytes a Latin-1 tool or an unpacked archive leaves) cannot be
 * kept in an index of text paths: `codeloop index` names them in a note instead of losing them silently, alone and
 * through the daemon; a name that holds a real U+FFFD is valid UTF-8 and is indexed like any other.
 */
const NOTE = 'note: Not indexed, having names that are not valid UTF-8 (codeloop keeps paths as text; `rg` still reads them): ';

let root: string;
let stateHome: string;

/** A path inside the tree from raw bytes: a name Node's strings cannot spell. */
const raw = (...parts: (string | Buffer)[]) => Buffer.concat([Buffer.from(`${root}/`), ...parts.map((part) => (typeof part === 'string' ? Buffer.from(part) : part))]);

beforeAll(() => {
  stateHome = makeStateHome();
  root = makeTree({ 'src/real.ts': 'export const needle = 1;\n', 'real\uFFFDname.txt': 'needle in a real U+FFFD name\n', '.gitignore': 'ignored/\n', 'ignored/.keep': '' }, { git: true });
  fs.writeFileSync(raw('latin', Buffer.from([0xe9]), '.txt'), 'needle\n');
  fs.mkdirSync(raw('dir', Buffer.from([0xff, 0xfe])));
  fs.writeFileSync(raw('dir', Buffer.from([0xff, 0xfe]), '/inner.txt'), 'needle\n');
  fs.writeFileSync(raw('src/half', Buffer.from([0xc3]), '.ts'), 'needle\n');
  fs.writeFileSync(raw('ignored/skip', Buffer.from([0x80]), '.txt'), 'needle\n');
});

afterAll(() => removeTree(root, stateHome));

describe('names that are not valid UTF-8', () => {
  it('`codeloop index` names the files and folders left out (not the ignored one) in a note', () => {
    const result = runCli(['index', '.'], { cwd: root, stateHome });
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/^indexed 3 files /m); // src/real.ts, the real U+FFFD name, .gitignore
    expect(result.stdout).toContain(`${NOTE}3 files or folders (dir\uFFFD\uFFFD, latin\uFFFD.txt, src/half\uFFFD.ts; \uFFFD marks the bytes that are not UTF-8). Rename them to UTF-8 to include them.\n`);
    expect(result.stdout).not.toContain('ignored/skip');
  });

  it('`codeloop index --json` lists them, and search still finds the rest', () => {
    const summary = JSON.parse(runCli(['index', '--json', '.'], { cwd: root, stateHome }).stdout);
    expect(summary.undecodableNames).toEqual(['dir\uFFFD\uFFFD', 'latin\uFFFD.txt', 'src/half\uFFFD.ts']);
    expect(summary.unreadable).toEqual([]); // a folder with such a name is not "unreadable"
    const found = runCli(['search', 'needle', '.'], { cwd: root, stateHome });
    expect(found.stdout).toBe('real\uFFFDname.txt:1:1:needle in a real U+FFFD name\nsrc/real.ts:1:14:export const needle = 1;\n');
  });

  it.each([
    ['given as the folder', (dir: string) => `${process.execPath} ${CLI_PATH} search needle "${dir}"`, (shown: string) => shown],
    ['as the current folder', (dir: string) => `cd "${dir}" && ${process.execPath} ${CLI_PATH} search needle`, () => '.'],
    ['as the current folder of `codeloop index`', (dir: string) => `cd "${dir}" && ${process.execPath} ${CLI_PATH} index`, () => '.'],
  ])('a workspace folder whose own name is not UTF-8, %s, is refused saying so (it was "no such directory")', (_, command, named) => {
    const dir = raw('root', Buffer.from([0xff]), 'x');
    fs.mkdirSync(dir);
    try {
      // Through the shell: Node's own arguments and working folder cannot carry those bytes.
      const script = command(`$(printf '${root}/root\\377x')`);
      const result = spawnSync('sh', ['-c', script], { encoding: 'utf8', env: { ...process.env, XDG_STATE_HOME: stateHome, XDG_CONFIG_HOME: `${stateHome}/config`, CODELOOP_RUNTIME_DIR: `${stateHome}/runtime` } });
      expect(result.stderr).toBe(`codeloop: cannot index ${named(`${root}/root\uFFFDx`)}: no such directory by this name; \uFFFD stands for bytes of the real name that are not valid UTF-8, which codeloop cannot open (rename the folder to UTF-8)\n`);
      expect(result.status).toBe(2);
    } finally {
      fs.rmdirSync(dir);
    }
  });

  it('a folder that does not exist is still "no such directory"', () => {
    expect(runCli(['search', 'needle', `${root}/absent`], { stateHome }).stderr).toBe(`codeloop: cannot index ${root}/absent: no such directory\n`);
  });

  it('through the daemon the note comes the same way, and one such name alone is "1 file or folder"', async () => {
    const world = await editorOnDaemon({ 'a.txt': 'needle\n' }, 'undecodable');
    try {
      fs.writeFileSync(Buffer.concat([Buffer.from(`${world.root}/b`), Buffer.from([0xa0]), Buffer.from('.txt')]), 'needle\n');
      const result = runCli(['index', '.'], { cwd: world.root, stateHome: world.state, env: world.env });
      expect(result.stdout).toContain(`${NOTE}1 file or folder (b\uFFFD.txt; \uFFFD marks the bytes that are not UTF-8).`);
    } finally {
      await world.close();
    }
  });
});
