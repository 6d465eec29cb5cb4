import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeStateHome, makeTree, removeTree } from '../helpers/fixture-tree.js';
import { runCliAsync } from '../helpers/run-cli.js';

/**
 * Several `codeloop` commands at once on one workspace without a daemon (two terminals, a script's `&`, an editor
 * hook): each opens the same index and session database. The first to create the index must not leave the others
 * with "table files already exists; run `codeloop index --rebuild`" or "database is locked": each waits its turn.
 */
const FILES: Record<string, string> = Object.fromEntries(
  Array.from({ length: 300 }, (_, i) => [`src/module${i}.ts`, `export function handler${i}() {\n  return 'needle ${i}';\n}\n`]),
);
const TOGETHER = 4;

let root: string;
const states: string[] = [];

beforeAll(() => {
  root = makeTree(FILES);
});

afterAll(() => removeTree(root, ...states));

/** The commands run at once, each on a fresh state (no index, no session store yet) — the race happens on creation. */
async function together(commands: string[][]) {
  const stateHome = makeStateHome();
  states.push(stateHome);
  return Promise.all(commands.map((args) => runCliAsync(args, { cwd: root, stateHome })));
}

describe('commands at once on a workspace with no index yet', () => {
  it.each([1, 2, 3])(`${TOGETHER} \`codeloop search\` at once all answer alike (round %i)`, async () => {
    const results = await together(Array.from({ length: TOGETHER }, () => ['search', "needle 29'", '.']));
    for (const result of results) {
      expect(result.stderr).toBe('');
      expect(result.stdout).toBe("src/module29.ts:2:11:  return 'needle 29';\n");
      expect(result.status).toBe(0);
    }
  });

  it('`codeloop index`, `search --symbol` and `search --text` at once all succeed', async () => {
    const results = await together([['index', '.'], ['search', '--symbol', 'handler7', '.'], ['search', '--text', 'handler 42', '.'], ['index', '--json', '.']]);
    for (const result of results) expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: '' });
    expect(results[0].stdout).toMatch(/^indexed 300 files /);
    expect(results[1].stdout).toContain('handler7');
    expect(results[2].stdout).toContain('src/module42.ts');
    expect(JSON.parse(results[3].stdout).files).toBe(300);
  });
});
