import { describe, expect, it } from 'vitest';
import { analyseQuestion, MAX_ANALYSED_CHARS } from '../../server/index/query-analysis.js';

describe('analyseQuestion', () => {
  it('counts how often the report repeats a word, and drops stop words', () => {
    const { termCounts } = analyseQuestion('The cache evicts too early. Cache size is ignored; the cache is cleared on every call.');
    expect(termCounts.get('cache')).toBe(3);
    expect(termCounts.get('evicts')).toBe(1);
    expect(termCounts.has('the')).toBe(false);
  });

  it('keeps identifiers from code spans, calls, `>>>` examples and code blocks exactly as written', () => {
    const report = [
      'Calling `Model.model_dump` with `exclude_none` drops fields.',
      '>>> m = UserModel(name=None)',
      '```python',
      'validate_call(func)',
      '```',
      'plain words like Model here are prose',
    ].join('\n');
    const { identifiers } = analyseQuestion(report);
    expect([...identifiers.keys()]).toEqual(expect.arrayContaining(['Model', 'model_dump', 'exclude_none', 'UserModel', 'validate_call', 'func']));
    expect(identifiers.has('model')).toBe(false);
    expect(identifiers.has('plain')).toBe(false);
    expect(identifiers.get('Model')).toBe(1);
  });

  it('takes a word before a sentence\'s period for prose, and a dotted name for code', () => {
    const { identifiers } = analyseQuestion('Fix reshape bug. Add relevant test. Calling obj.reshape_all fails.');
    expect(identifiers.has('bug')).toBe(false);
    expect(identifiers.has('test')).toBe(false);
    expect(identifiers.has('obj')).toBe(true);
    expect(identifiers.has('reshape_all')).toBe(true);
  });

  it('keeps the words of the title apart', () => {
    const { titleTerms, termCounts } = analyseQuestion('\nScheduler ignores `maxRetries`\n\n* tidy the banner');
    expect([...titleTerms]).toEqual(expect.arrayContaining(['scheduler', 'ignores', 'maxretries', 'max', 'retries']));
    expect(titleTerms.has('banner')).toBe(false);
    expect(termCounts.get('banner')).toBe(1);
  });

  it('turns named files and dotted modules into paths, and reads traceback frames in order', () => {
    const report = [
      'Traceback (most recent call last):',
      '  File "/home/u/.venv/lib/python3.12/site-packages/pkg/api.py", line 12, in run',
      '  File "/home/u/.venv/lib/python3.12/site-packages/pkg/core/engine.py", line 40, in step',
      'ValueError: bad',
      'It started after pkg.core.engine changed; see src/util/strings.ts too.',
      '    at parse (src/parser.ts:10:5)',
      'main.go:33 panics',
    ].join('\n');
    const { paths, frames } = analyseQuestion(report);
    expect(frames).toEqual([
      'home/u/.venv/lib/python3.12/site-packages/pkg/api.py',
      'home/u/.venv/lib/python3.12/site-packages/pkg/core/engine.py',
      'src/parser.ts',
      'main.go',
    ]);
    expect(paths).toEqual(expect.arrayContaining(['pkg/core/engine', 'src/util/strings.ts', 'src/parser.ts', 'main.go']));
  });

  it('ignores the words of links', () => {
    const { termCounts } = analyseQuestion('Regression from https://github.com/owner/project/pull/123 in the parser');
    expect(termCounts.has('github')).toBe(false);
    expect(termCounts.has('owner')).toBe(false);
    expect(termCounts.get('parser')).toBe(1);
  });

  it('notices a report about tests', () => {
    expect(analyseQuestion('The test suite fails on Windows with a path error').aboutTests).toBe(true);
    expect(analyseQuestion('Parsing an empty list crashes').aboutTests).toBe(false);
    expect(analyseQuestion('Parsing an empty list crashes\n\nMy unit tests fail since 2.1; see test_parse_empty below.').aboutTests).toBe(false);
    expect(analyseQuestion('\ntest_parse_empty is flaky on CI\n\nIt passes locally.').aboutTests).toBe(true);
  });

  it('reads only the head and tail of a huge pasted log, in time linear in what it reads', () => {
    const head = 'The `flush_buffer` call loses data\n';
    const tail = '\n  File "/srv/pkg/writer.py", line 3, in flush_buffer\nValueError: closed';
    const huge = head + 'x'.repeat(10 * 1024 * 1024) + ' aaaa_bbbb'.repeat(100_000) + tail;
    const started = performance.now();
    const analysis = analyseQuestion(huge);
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(analysis.identifiers.has('flush_buffer')).toBe(true);
    expect(analysis.frames).toEqual(['srv/pkg/writer.py']);
    const half = MAX_ANALYSED_CHARS / 2;
    expect(analysis).toEqual(analyseQuestion(`${huge.slice(0, half)}\n${huge.slice(-half)}`));
    // Pathological shapes (long runs of path or identifier characters) stay fast too.
    for (const shape of ['a.'.repeat(MAX_ANALYSED_CHARS), 'a/'.repeat(MAX_ANALYSED_CHARS), '_a'.repeat(MAX_ANALYSED_CHARS), '`('.repeat(MAX_ANALYSED_CHARS)]) {
      const start = performance.now();
      analyseQuestion(shape);
      expect(performance.now() - start).toBeLessThan(2_000);
    }
  });
});
