/**
 * The command line every corpus benchmark takes: `CORPUS_DIR [--name kernel|node_modules] [--runs N]` plus the
 * bench's own options, and the rg flags that give rg codeloop's defaults, so each bench compares like with like.
 */
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { QUERY_SETS, type BenchQuery } from './queries.js';

/**
 * rg with codeloop's defaults: hidden files searched, .git skipped, the same 1 MB size limit; ignore files of
 * folders above the corpus are skipped (a corpus inside an ignored folder, like node_modules, is searched whole).
 */
export const RG_ARGS = ['--hidden', '-g', '!.git', '--max-filesize', '1M', '--no-ignore-parent', '--column', '-n', '--no-heading', '--color', 'never', '--no-messages'];

/** A corpus bench's arguments: the corpus (absolute), its query set, runs per query, and the bench's own options. */
export interface CorpusArguments<Strings extends string, Flags extends string> {
  corpus: string;
  name: string;
  runs: number;
  queries: BenchQuery[];
  values: Partial<Record<Strings, string> & Record<Flags, boolean>>;
}

function refuse(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

/**
 * Parses `process.argv` for a corpus bench with its own options (`strings` take a value, `flags` do not;
 * `--name` and `--runs` are added); prints `usage` and exits 2 when the corpus is missing or an option is unknown.
 */
export function corpusArguments<Strings extends string, Flags extends string>(
  usage: string, strings: readonly Strings[], flags: readonly Flags[],
): CorpusArguments<Strings, Flags> {
  const options: NonNullable<ParseArgsConfig['options']> = { name: { type: 'string' }, runs: { type: 'string' } };
  for (const option of strings) options[option] = { type: 'string' };
  for (const option of flags) options[option] = { type: 'boolean' };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ allowPositionals: true, options });
  } catch (error) {
    return refuse(`${(error as Error).message}\nusage: ${usage}`);
  }
  const { values, positionals } = parsed;
  if (!positionals[0]) return refuse(`usage: ${usage}`);
  const corpus = path.resolve(positionals[0]);
  const name = typeof values.name === 'string' ? values.name : path.basename(corpus);
  return { corpus, name, runs: Number(values.runs ?? 5), queries: QUERY_SETS[name] ?? QUERY_SETS.default, values: values as CorpusArguments<Strings, Flags>['values'] };
}
