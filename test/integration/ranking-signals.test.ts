import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RankingSignal } from '../../server/index/text-ranking.js';
import { indexedTree, type FixtureIndex } from '../helpers/fixture-index.js';

/**
 * One small tree per kind of miss found on bench/bug-reports.json (bench/RESULTS.md, "Third round"): each case is
 * a report whose right file the ranking finds first, and, where the fix is a signal that can be switched off,
 * loses without it.
 */

/** Ordinary modules, so that words have a realistic rarity (a word in every file says nothing). */
const filler = Object.fromEntries(Array.from({ length: 24 }, (_, i) => [`lib/module_${i}.py`, [
  `def handle_value_${i}(value, options):`,
  i % 3 ? '    """Return the value with the options applied."""' : '    """Tokenize the value, then apply the options."""',
  '    result = apply(value, options)',
  '    return result',
  '',
  `class Holder${i}:`,
  '    def __init__(self, value):',
  '        self.value = value',
].join('\n')]));

/** `count` functions of filler, the body of a long module. */
const padding = (count: number, prefix: string) => Array.from({ length: count }, (_, i) => [
  `def ${prefix}_step_${i}(value, options):`,
  `    state_${i} = value + ${i}`,
  '    return apply(state_' + i + ', options)',
  '',
].join('\n')).join('\n');

const FILES: Record<string, string> = {
  ...filler,
  // termCoverage: a long module holding every word of the report, each once, far apart; short files holding two.
  'lib/engine.py': [
    padding(40, 'early'),
    'def emit_trailing(node):',
    '    # a trailing separator after the last element',
    '    return node.comma',
    padding(40, 'middle'),
    'def visit_literal(node):',
    '    # nested array literal',
    '    return node.items',
    padding(40, 'late'),
  ].join('\n'),
  'lib/punctuation.py': 'def trailing_comma(node):\n    """trailing comma trailing comma"""\n    return node\n',
  'lib/shapes.py': 'def nested_array(node):\n    """nested array nested array"""\n    return node\n',
  // fileNames: the module named for the report's subject against a bigger one that uses the same words more.
  'lib/reshape.py': 'def reshape(array, shape):\n    # one negative size is inferred from the others\n    return array.view(shape)\n',
  'lib/core.py': [
    padding(2, 'core'),
    'def blocks(array, shape, sizes):',
    '    # reshape with negative sizes: reshape each block, reshape the result',
    '    return [reshape(block, shape) for block in array if sizes]',
  ].join('\n'),
  // paths: `ma.where` names the module `ma` (there is no `ma/where.py`); routines.py has more of the words.
  'lib/ma.py': 'def where(condition, x, y):\n    return condition\n',
  'lib/routines.py': [
    'def where(condition, x, y):',
    '    # where, also when empty',
    '    return [x if c else y for c in condition]',
  ].join('\n'),
  // titleWords: the title names the poller; the body's bullet, in rarer words, the display.
  'lib/poller.py': 'def poll(queue, timeout):\n    """Wait for the queue until the timeout."""\n    return queue.get(timeout=timeout)\n',
  'lib/display.py': 'def draw(status):\n    """Draw the spinner glyph and its colour in the status banner."""\n    return status\n',
  // processWords: words about the change itself, rare in code, against the code the report is about.
  'lib/cache.py': 'class Cache:\n    def evict(self, size):\n        """Evict entries beyond the size."""\n        return size\n',
  'tools/release_notes.py': 'def collect(entries):\n    """Added entries: regression fixes, reviewed typos and the changelog."""\n    return entries\n',
  // wordForms: a rare other form of a common word (line 2) must not outweigh the word the report used (line 44).
  'lib/splitter.py': [
    'def split(text):',
    '    # older releases tokenizes lazily',
    padding(10, 'split'),
    'def tokenize(text):',
    '    return text.split()',
  ].join('\n'),
};

let fixture: FixtureIndex;

beforeAll(async () => {
  fixture = await indexedTree(FILES);
});
afterAll(async () => {
  await fixture.close();
});

async function ranking(question: string, disabled: RankingSignal[] = []): Promise<string[]> {
  return (await fixture.index.rankFiles(question, 10, { disabled })).map((file) => file.path);
}

describe('ranking signals on the kinds of misses the bug-report set showed', () => {
  it('puts a long module holding every word of the report before short files holding two (termCoverage)', async () => {
    const question = 'Trailing comma dropped from nested array literal';
    expect((await ranking(question))[0]).toBe('lib/engine.py');
    expect((await ranking(question, ['termCoverage']))[0]).not.toBe('lib/engine.py');
  });

  it('puts the module named for the report\'s subject first (fileNames)', async () => {
    const question = 'Fix reshape bug with negative sizes';
    expect((await ranking(question))[0]).toBe('lib/reshape.py');
    expect((await ranking(question, ['fileNames']))[0]).toBe('lib/core.py');
  });

  it('reads a dotted name as a module and its attribute when no file has the whole name (paths)', async () => {
    const question = 'Implement ma.where for empty arrays';
    expect((await ranking(question))[0]).toBe('lib/ma.py');
    expect((await ranking(question, ['paths']))[0]).toBe('lib/routines.py');
  });
});

describe('the words a report is weighed by', () => {
  it('weighs the title\'s words over the body\'s (titleWords)', async () => {
    const question = 'Timeout ignored when polling the queue\n\n* rename the spinner glyph and its colour in the banner';
    expect((await ranking(question))[0]).toBe('lib/poller.py');
    expect((await ranking(question, ['titleWords']))[0]).toBe('lib/display.py');
  });

  it('drops the words a report or pull request uses about itself (processWords)', async () => {
    const question = 'Cache evicts one entry too many\n\nAdded a regression test; addressed the reviewed typos in the changelog.';
    expect((await ranking(question))[0]).toBe('lib/cache.py');
    expect((await ranking(question, ['processWords']))[0]).toBe('tools/release_notes.py');
  });

  it('gives another form of a word no more weight than the word the report used (wordForms)', async () => {
    const file = (await fixture.index.rankFiles('Tokenize loses text', 10)).find((ranked) => ranked.path === 'lib/splitter.py')!;
    const definition = FILES['lib/splitter.py'].split('\n').indexOf('def tokenize(text):') + 1;
    expect(file.startLine).toBeLessThanOrEqual(definition);
    expect(file.endLine).toBeGreaterThanOrEqual(definition);
    expect(file.preview).toBe('def tokenize(text):');
  });
});
