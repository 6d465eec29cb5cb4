import { describe, expect, it } from 'vitest';
import type { RankingSignal } from '../../server/index/text-ranking.js';
import { rankedTreeForSuite } from '../helpers/fixture-index.js';

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

const { tree: fixture, rank: ranking } = rankedTreeForSuite(FILES);

/**
 * A signal's case: what it puts first, and what is first with it switched off — [description, signal, question,
 * first, first without the signal].
 */
type SignalCase = readonly [string, RankingSignal, string, string, string];
const firstWithAndWithout = async ([, signal, question]: SignalCase) => [(await ranking(question))[0], (await ranking(question, [signal]))[0]];

describe('ranking signals on the kinds of misses the bug-report set showed', () => {
  it('puts a long module holding every word of the report before short files holding two (termCoverage)', async () => {
    const question = 'Trailing comma dropped from nested array literal';
    expect((await ranking(question))[0]).toBe('lib/engine.py');
    expect((await ranking(question, ['termCoverage']))[0]).not.toBe('lib/engine.py');
  });

  it.each([
    ['the module named for the report\'s subject first', 'fileNames', 'Fix reshape bug with negative sizes', 'lib/reshape.py', 'lib/core.py'],
    ['a dotted name\'s module first when no file has the whole name', 'paths', 'Implement ma.where for empty arrays', 'lib/ma.py', 'lib/routines.py'],
  ] satisfies SignalCase[])('puts %s (%s)', async (...signalCase) => {
    expect(await firstWithAndWithout(signalCase)).toEqual(signalCase.slice(3));
  });
});

describe('the words a report is weighed by', () => {
  it.each([
    ['weighs the title\'s words over the body\'s', 'titleWords', 'Timeout ignored when polling the queue\n\n* rename the spinner glyph and its colour in the banner', 'lib/poller.py', 'lib/display.py'],
    ['drops the words a report or pull request uses about itself', 'processWords', 'Cache evicts one entry too many\n\nAdded a regression test; addressed the reviewed typos in the changelog.', 'lib/cache.py', 'tools/release_notes.py'],
  ] satisfies SignalCase[])('%s (%s)', async (...signalCase) => {
    expect(await firstWithAndWithout(signalCase)).toEqual(signalCase.slice(3));
  });

  it('gives another form of a word no more weight than the word the report used (wordForms)', async () => {
    const file = (await fixture().index.rankFiles('Tokenize loses text', 10)).find((ranked) => ranked.path === 'lib/splitter.py')!;
    const definition = FILES['lib/splitter.py'].split('\n').indexOf('def tokenize(text):') + 1;
    expect(file.startLine).toBeLessThanOrEqual(definition);
    expect(file.endLine).toBeGreaterThanOrEqual(definition);
    expect(file.preview).toBe('def tokenize(text):');
  });
});

/**
 * Structure on top of words, and superseded copies (bench/RESULTS.md, "Fourth round"). Two files with the same
 * text score the same and tie by path (`alpha` before `zeta`); the one linked to the best file must come first.
 */
const LINKED: Record<string, string> = {
  ...filler,
  // Python, callee: the best file imports `zeta`.
  'shop/checkout.py': 'from shop.zeta import settle\n\ndef checkout_invoice(order):\n    """Invoice rounding: round each line to the currency, then the invoice."""\n    return settle(order.invoice)\n',
  'shop/alpha.py': 'def settle(amount):\n    """Round the invoice amount to the currency."""\n    return amount\n',
  'shop/zeta.py': 'def settle(amount):\n    """Round the invoice amount to the currency."""\n    return amount\n',
  // Go: `zeta.go` shares the best file's package (folder), `alpha.go` is another package.
  'server/handshake.go': 'package server\n\n// Handshake waits for the socket until the handshake timeout.\nfunc Handshake(socket Conn, timeout int) error {\n\treturn waitSocket(socket, timeout)\n}\n',
  'server/zeta.go': 'package server\n\n// waitSocket polls the socket until the timeout.\nfunc waitSocket(socket Conn, timeout int) error {\n\treturn nil\n}\n',
  'client/alpha.go': 'package client\n\n// waitSocket polls the socket until the timeout.\nfunc waitSocket(socket Conn, timeout int) error {\n\treturn nil\n}\n',
  // TypeScript, relative import with `.js` written for `.ts`.
  'web/tooltip.ts': "import { fit } from './zeta.js';\n\n/** Tooltip placement: flip the tooltip when it would overflow the viewport. */\nexport function placeTooltip(tooltip: Box, viewport: Box): Box {\n  return fit(tooltip, viewport);\n}\n",
  'web/alpha.ts': '/** Keep a box inside the viewport on overflow. */\nexport function fit(box: Box, viewport: Box): Box {\n  return box;\n}\n',
  'web/zeta.ts': '/** Keep a box inside the viewport on overflow. */\nexport function fit(box: Box, viewport: Box): Box {\n  return box;\n}\n',
  // Python, caller: `zeta_runner` imports the best file, `alpha_runner` another module of the same name.
  'jobs/scheduler.py': 'def schedule(backlog):\n    """Scheduler: drain the backlog so no worker starves; starvation of the backlog."""\n    return backlog\n',
  'legacy/scheduler.py': 'def unrelated():\n    return None\n',
  'jobs/alpha_runner.py': 'from legacy.scheduler import schedule\n\ndef run(workers):\n    """Run workers from the backlog."""\n    return schedule(workers)\n',
  'jobs/zeta_runner.py': 'from jobs.scheduler import schedule\n\ndef run(workers):\n    """Run workers from the backlog."""\n    return schedule(workers)\n',
  // A linked file never passes the file it was reached from (nor ties it: `aside` would win a tie by path): it
  // holds the same words, diluted by a little more code, so raising it would put it first.
  'books/ledger.py': 'from books.aside import helper\n\ndef post_entry(entry):\n    """Journal entry posting: balance debit and credit of the entry."""\n    return entry\n',
  'books/aside.py': 'def post_entry(entry):\n    """Journal entry posting: balance debit and credit of the entry."""\n    return entry\n\nhelper = dict(kind=None, size=0, name=None)\n',
  // supersededDemotion: a `v1/` copy beside the current module, and `v3/` beside a newer `v4/`.
  'pkg/v1/plural.py': 'def plural_rules(locale):\n    """Plural rules of the locale; plural rules per locale, plural rules."""\n    return locale\n',
  'pkg/plural.py': 'def plural_rules(locale):\n    """Plural rules of the locale."""\n    return locale\n',
  'src/v3/errors.ts': '/** Format an issue into its message. */\nexport function formatIssue(issue: Issue): string {\n  return issue.message;\n}\n',
  'src/v4/errors.ts': '/** Format an issue into its message. */\nexport function formatIssue(issue: Issue): string {\n  return issue.message;\n}\n',
  'api/v2/quota.py': 'def quota_headers(response):\n    """Quota exceeded: set the quota headers."""\n    return response\n',
};

describe('structure and superseded copies', () => {
  const { tree, rank, searchText } = rankedTreeForSuite(LINKED, { git: true });

  it.each([
    ['a Python module the best file imports', 'Invoice rounding wrong for some currency', 'shop/checkout.py', 'shop/zeta.py', 'shop/alpha.py'],
    ['a Go file of the best file\'s package', 'Handshake timeout ignored on a slow socket', 'server/handshake.go', 'server/zeta.go', 'client/alpha.go'],
    ['a TypeScript module the best file imports', 'Tooltip placement overflows the viewport', 'web/tooltip.ts', 'web/zeta.ts', 'web/alpha.ts'],
    ['a Python module importing the best file', 'Scheduler starvation with a long backlog', 'jobs/scheduler.py', 'jobs/zeta_runner.py', 'jobs/alpha_runner.py'],
  ])('raises %s above an unlinked file with the same words (structure)', async (_kind, question, best, raised, unlinked) => {
    const withStructure = searchText(question);
    expect(withStructure[0]).toBe(best);
    expect(withStructure.indexOf(raised)).toBeLessThan(withStructure.indexOf(unlinked));
    expect(withStructure).toEqual((await rank(question)).slice(0, withStructure.length));
    // The same order whatever the number of files asked for (the repo map asks for more than the CLI).
    expect((await tree().index.rankFiles(question, 2)).map((file) => file.path)).toEqual(withStructure.slice(0, 2));
    const without = await rank(question, ['structure']);
    expect(without[0]).toBe(best);
    expect(without.indexOf(unlinked)).toBeLessThan(without.indexOf(raised));
  });

  it('never raises a linked file to or above the file it was reached from (structure)', async () => {
    const question = 'Journal entry posting does not balance debit and credit';
    const ranked = await tree().index.rankFiles(question, 10);
    expect(ranked.map((file) => file.path).slice(0, 2)).toEqual(['books/ledger.py', 'books/aside.py']);
    expect(ranked[1].score).toBeLessThanOrEqual(ranked[0].score);
    // The link did raise it: without structure the gap is wider.
    const without = await tree().index.rankFiles(question, 10, { disabled: ['structure'] });
    expect(without.map((file) => file.path).slice(0, 2)).toEqual(['books/ledger.py', 'books/aside.py']);
    expect(without[1].score).toBeLessThan(ranked[1].score);
  });

  it.each([
    ['a v1/ copy beside the current module', 'Plural rules wrong for some locale', 'pkg/plural.py', 'pkg/v1/plural.py'],
    ['a v3/ folder beside a newer v4/', 'Issue message formatting drops the path', 'src/v4/errors.ts', 'src/v3/errors.ts'],
  ])('ranks %s below the current code (supersededDemotion)', async (_kind, question, current, superseded) => {
    const shown = searchText(question);
    expect(shown.indexOf(current)).toBeLessThan(shown.indexOf(superseded));
    expect(shown.indexOf(superseded)).toBeGreaterThan(-1);
    const without = await rank(question, ['supersededDemotion']);
    expect(without.indexOf(superseded)).toBeLessThan(without.indexOf(current));
  });

  it('leaves a version folder with no newer one and no current copy alone (supersededDemotion)', async () => {
    const question = 'Quota exceeded headers missing';
    const [withSignal] = await tree().index.rankFiles(question, 1);
    const [without] = await tree().index.rankFiles(question, 1, { disabled: ['supersededDemotion'] });
    expect(withSignal.path).toBe('api/v2/quota.py');
    expect(withSignal.score).toBe(without.score);
  });
});

/**
 * Quoted phrases (bench/RESULTS.md, "Fourth round", second shift): a message, expression or format a report quotes
 * and a file holds literally, against a file holding the same words more often but not the phrase. Ties go by
 * path, so the file holding the phrase is always `zeta`.
 */
const QUOTED: Record<string, string> = {
  ...filler,
  // An error message in double quotes.
  'keys/alpha.py': 'def check_mapping_key(key):\n    """Mapping key check fails unless a mapping key is a string literal; string literal mapping key."""\n    return key\n',
  'keys/zeta.py': 'def check_mapping_key(key):\n    if not isinstance(key, str):\n        raise TypeError("Expected mapping key to be string literal")\n    return key\n',
  // An expression in backticks.
  'narrow/alpha.py': 'def narrow_optional(kind):\n    """Narrow an optional kind: optional none kind narrowed, none kind."""\n    return kind\n',
  'narrow/zeta.py': 'def narrow_optional(kind):\n    if kind is NoneKind:\n        return None\n    return kind\n',
  // A format name in single quotes, in TypeScript.
  'formats/alpha.ts': '/** Date and time format of a schema with an offset: the wrong datetime format. Datetime offset format. */\nexport function formatOf(schema: Schema): string {\n  return schema.format;\n}\n',
  'formats/zeta.ts': "/** Datetime format of a schema. */\nexport function formatOf(schema: Schema): string {\n  return schema.format === 'date-time' ? 'datetime' : schema.format;\n}\n",
  // A phrase held by more than three files (`.decode("utf-8")`) names none of them.
  'codec/alpha.py': 'def decode_payload(data):\n    """Decode the payload; payload decode with the codec."""\n    return data.decode("utf-8")\n',
  'codec/beta.py': 'def read_text(data):\n    return data.decode("utf-8")\n',
  'codec/gamma.py': 'def write_text(data):\n    return str(data.decode("utf-8"))\n',
  'codec/zeta.py': 'def decode_payload(data):\n    return data.decode("utf-8")\n',
};

describe('quoted phrases', () => {
  const { tree, rank, searchText } = rankedTreeForSuite(QUOTED, { git: true });

  it.each([
    ['an error message in double quotes', 'Mapping key check fails: "Expected mapping key to be string literal" for a string key', 'keys/zeta.py', 'keys/alpha.py'],
    ['an expression in backticks', 'Optional kind not narrowed: `kind is NoneKind` never holds', 'narrow/zeta.py', 'narrow/alpha.py'],
    ['a format name in single quotes', "Schema with format 'date-time' and an offset gets the wrong datetime format", 'formats/zeta.ts', 'formats/alpha.ts'],
  ])('puts the file holding %s first (quotedPhrases)', async (_kind, question, holder, other) => {
    const shown = searchText(question);
    expect(shown[0]).toBe(holder);
    expect(shown).toEqual((await rank(question)).slice(0, shown.length));
    const without = await rank(question, ['quotedPhrases']);
    expect(without.indexOf(other)).toBeLessThan(without.indexOf(holder));
  });

  it('ignores a phrase more than three of the leading files hold (quotedPhrases)', async () => {
    const question = 'Payload decode fails on data: `.decode("utf-8")` raises';
    // Same files and same scores: the phrase added nothing to any of them.
    expect(await tree().index.rankFiles(question, 10)).toEqual(await tree().index.rankFiles(question, 10, { disabled: ['quotedPhrases'] }));
    expect(searchText(question)[0]).toBe('codec/alpha.py');
  });
});
