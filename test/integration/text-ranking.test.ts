import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IndexConfigSchema } from '../../protocol/config.js';
import { WorkspaceIndex } from '../../server/index/workspace-index.js';
import { runToolCall, type ToolContext } from '../../server/tools/agent-tools.js';
import { makeStateHome, makeTree, removeTree } from '../helpers/fixture-tree.js';
import { runCli } from '../helpers/run-cli.js';

/**
 * A small Python package where word overlap alone points at the wrong file: `docs.py` and `tests/` talk about
 * caches and flushing at length, while the code lives in `pkg/store/cache.py` and `pkg/store/writer.py`.
 */
const FILES: Record<string, string> = {
  'pkg/__init__.py': 'from pkg.store.cache import LruCache\n',
  'pkg/store/__init__.py': '',
  'pkg/store/cache.py': [
    'class LruCache:',
    '    """A bounded mapping."""',
    '    def __init__(self, size):',
    '        self.size = size',
    '        self.items = {}',
    '',
    '    def evict_oldest(self):',
    '        oldest = next(iter(self.items))',
    '        del self.items[oldest]',
    '',
    '    def put(self, key, value):',
    '        if len(self.items) >= self.size:',
    '            self.evict_oldest()',
    '        self.items[key] = value',
  ].join('\n'),
  'pkg/store/writer.py': [
    'from pkg.store.cache import LruCache',
    '',
    'def flush_buffer(buffer, sink):',
    '    for chunk in buffer:',
    '        sink.write(chunk)',
    '    buffer.clear()',
    '',
    'def write_all(items, sink):',
    '    raise ValueError("sink closed")',
  ].join('\n'),
  'pkg/api.py': [
    'from pkg.store.writer import write_all',
    '',
    'def save(items, sink):',
    '    return write_all(items, sink)',
  ].join('\n'),
  'docs.md': `# Caching\n\n${'The cache evicts entries when the cache is full; cache eviction and cache size and flushing. '.repeat(4)}\n`,
  'tests/test_cache.py': [
    'from pkg.store.cache import LruCache',
    '',
    'def test_cache_evicts_when_cache_is_full():',
    '    cache = LruCache(1)',
    '    cache.put("a", 1)',
    '    cache.put("b", 2)',
    '    assert "a" not in cache.items  # cache eviction, cache size, evicts',
  ].join('\n'),
  'other/helpers.py': 'def flush(x):\n    """flush the buffer buffer buffer"""\n    return x\n',
  // An example that exercises the serializer at length, in words the report uses: shorter and denser than the code.
  'docs/examples/serialize_nested.py': [
    'from pkg.codec import encode_nested',
    '',
    'def nested_serialize_example():',
    '    """Serialize nested records: nested serialize of nested records."""',
    '    return encode_nested({"nested": {"records": 1}})',
  ].join('\n'),
  'pkg/codec.py': [
    'import json',
    '',
    ...Array.from({ length: 40 }, (_, i) => `def encode_field_${i}(value):\n    return json.dumps(value)\n`),
    'def encode_nested(record):',
    '    """Serialize a nested record."""',
    '    return {key: encode_nested(value) if isinstance(value, dict) else value for key, value in record.items()}',
  ].join('\n'),
  // Two files with the same single hit: a long module and a short shim.
  'pkg/scheduler.py': [
    ...Array.from({ length: 60 }, (_, i) => `def step_${i}(queue):\n    return queue.pop()\n`),
    'def drain(queue):',
    '    # a starved worker never wakes',
    '    return [step_0(queue) for _ in queue]',
  ].join('\n'),
  'pkg/compat.py': 'def wake():\n    # a starved worker never wakes\n    return None\n',
  // Forty lines that repeat one word of the report, then the function where its rarer words meet (lines 47-50).
  'pkg/retry.py': [
    'def log_request(request):',
    ...Array.from({ length: 40 }, (_, i) => `    request_${i} = request  # request`),
    '    return request',
    '',
    '',
    '',
    '',
    'def next_delay(request, attempt):',
    '    backoff = 2 ** attempt',
    '    jitter = backoff * 0.1',
    '    return backoff + jitter',
  ].join('\n'),
};

let root: string;
let stateHome: string;
let index: WorkspaceIndex;

beforeAll(async () => {
  root = makeTree(FILES, { git: true });
  stateHome = makeStateHome();
  expect(runCli(['index', '.'], { cwd: root, stateHome }).status).toBe(0);
  index = WorkspaceIndex.open(root, IndexConfigSchema.parse({}), path.join(stateHome, 'direct-index.db'));
  await index.sync();
});
afterAll(async () => {
  await index.close();
  removeTree(root, stateHome);
});

function searchText(question: string): string[] {
  const result = runCli(['search', '--no-refresh', '--text', question], { cwd: root, stateHome });
  expect(result.status, result.stderr).toBe(0);
  return result.stdout.split('\n').filter(Boolean);
}

const pathsOf = (lines: string[]) => lines.map((line) => line.slice(0, line.indexOf(':')));

describe('codeloop search --text on bug reports', () => {
  it('puts the code before prose and tests that repeat the words', () => {
    expect(pathsOf(searchText('The cache evicts entries too early when the cache is full'))[0]).toBe('pkg/store/cache.py');
  });

  it('puts tests first when the report is about the tests', () => {
    expect(pathsOf(searchText('The test suite fails: test_cache_evicts_when_cache_is_full is flaky'))[0]).toBe('tests/test_cache.py');
  });

  it('keeps tests demoted when only the body of the report mentions them', () => {
    const report = 'The cache evicts entries too early when the cache is full\n\nMy unit tests fail since the cache evicts too early.';
    expect(pathsOf(searchText(report))[0]).toBe('pkg/store/cache.py');
  });

  it('matches an identifier quoted as code against the file defining it, exactly', () => {
    expect(pathsOf(searchText('Data is lost: `flush_buffer` leaves the buffer half written'))[0]).toBe('pkg/store/writer.py');
  });

  it('follows a traceback to its deepest frame inside the repository', () => {
    const report = [
      'Saving fails:',
      'Traceback (most recent call last):',
      '  File "/srv/app/main.py", line 3, in <module>',
      '  File "/usr/lib/python3/site-packages/pkg/api.py", line 4, in save',
      '  File "/usr/lib/python3/site-packages/pkg/store/writer.py", line 9, in write_all',
      'ValueError: sink closed',
    ].join('\n');
    expect(pathsOf(searchText(report))[0]).toBe('pkg/store/writer.py');
  });

  it('finds a file named as a dotted module', () => {
    expect(pathsOf(searchText('Since the refactor of pkg.store.cache nothing is evicted'))[0]).toBe('pkg/store/cache.py');
  });

  it('puts the library before documentation examples that use the same words', async () => {
    const question = 'Nested serialize of nested records loses the nested values';
    expect(pathsOf(searchText(question))[0]).toBe('pkg/codec.py');
    expect((await index.rankFiles(question, 5, { disabled: ['auxiliaryDemotion'] }))[0].path).toBe('docs/examples/serialize_nested.py');
  });

  it('weighs a long module up against a short shim with the same words (length prior)', async () => {
    const question = 'A starved worker never wakes';
    const scores = (ranked: { path: string; score: number }[]) => Object.fromEntries(ranked.map((file) => [file.path, file.score]));
    const withPrior = scores(await index.rankFiles(question, 10));
    const without = scores(await index.rankFiles(question, 10, { disabled: ['lengthPrior'] }));
    expect(withPrior['pkg/scheduler.py'] / withPrior['pkg/compat.py']).toBeGreaterThan(1.1 * without['pkg/scheduler.py'] / without['pkg/compat.py']);
  });

  it('shows the window where the report\'s words meet, not the one repeating a single word', async () => {
    const question = 'The backoff jitter of a retried request grows without bound for each request';
    const line = searchText(question).find((found) => found.startsWith('pkg/retry.py:'))!;
    const [, start, end] = /:(\d+)-(\d+):/.exec(line)!.map(Number);
    expect(start).toBeLessThanOrEqual(47);
    expect(end).toBeGreaterThanOrEqual(50);
    const without = (await index.rankFiles(question, 10, { disabled: ['windowCoverage'] })).find((file) => file.path === 'pkg/retry.py')!;
    expect(without.endLine).toBeLessThan(47);
  });

  it('shows, for each file, the lines that match the report', () => {
    const [first] = searchText('`evict_oldest` removes the wrong entry from the cache');
    expect(first).toMatch(/^pkg\/store\/cache\.py:(\d+)-(\d+): /);
    const [, start, end] = /:(\d+)-(\d+):/.exec(first)!.map(Number);
    expect(start).toBeLessThanOrEqual(7);
    expect(end).toBeGreaterThanOrEqual(7);
  });
});

describe('one ranking everywhere', () => {
  const questions = ['The cache evicts entries too early when the cache is full', 'Data is lost: `flush_buffer` leaves the buffer half written'];

  it('gives the agent\'s search_code tool and repo map the order the CLI prints', async () => {
    for (const question of questions) {
      const cli = pathsOf(searchText(question));
      const context = { queryIndex: (query) => index.queryWithChanges(new Map(), query), outputLimit: 100_000 } as Pick<ToolContext, 'queryIndex' | 'outputLimit'>;
      const tool = await runToolCall('search_code', JSON.stringify({ query: question, mode: 'text' }), context as ToolContext);
      expect(pathsOf(tool.output.split('\n')).slice(0, cli.length)).toEqual(cli);
      const mapFiles = (await index.repoMap(question, 4000)).split('\n').filter((line) => !line.startsWith(' ')).map((line) => line.slice(0, -1));
      expect(mapFiles.slice(0, cli.length)).toEqual(cli);
    }
  });

  it('answers a 10 MB report promptly from its head', async () => {
    const report = `\`flush_buffer\` loses data\n${'log line with noise 0xdeadbeef '.repeat(350_000)}`;
    const started = performance.now();
    const ranked = await index.rankFiles(report, 5);
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(ranked[0].path).toBe('pkg/store/writer.py');
  });
});
