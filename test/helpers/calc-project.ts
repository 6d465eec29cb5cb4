import { makeStateHome, makeTree, removeTree } from './fixture-tree.js';

/** The CLI tests' project: `npm test` (node test.js) fails until src/math.js's add() adds, saying what it got. */
export const CALC_FILES = {
  'package.json': JSON.stringify({ name: 'calc', scripts: { test: 'node test.js' } }),
  'src/math.js': 'exports.add = (a, b) => a - b;\n',
  'test.js': "const { add } = require('./src/math');\nif (add(2, 3) !== 5) { console.error('add(2, 3) should be 5, got ' + add(2, 3)); process.exit(1); }\nconsole.log('ok');\n",
};

/**
 * Creates that project (a git repository; `files` replace or add to CALC_FILES) and a private codeloop state dir;
 * registers their removal in `cleanups`.
 */
export function calcProject(cleanups: (() => unknown)[], files: Record<string, string> = {}): { root: string; state: string } {
  const root = makeTree({ ...CALC_FILES, ...files }, { git: true });
  const state = makeStateHome();
  cleanups.push(() => removeTree(root, state));
  return { root, state };
}
