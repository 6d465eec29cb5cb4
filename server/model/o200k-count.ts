import { createRequire } from 'node:module';

type CountTokens = typeof import('gpt-tokenizer/encoding/o200k_base').countTokens;
const require = createRequire(import.meta.url);
let loaded: CountTokens | undefined;

/**
 * Longer texts are counted on their head and tail and scaled by length: BPE over a 1 MB pasted log took 0.8 s
 * (issue 13), and an estimate within a few percent is all a context budget needs.
 */
const EXACT_COUNT_CHARACTERS = 16 * 1024;
/** Special-token text inside files (`<|endoftext|>`) is counted as text, never refused. */
const AS_TEXT = { disallowedSpecial: new Set<string>() };

/**
 * o200k BPE tokens of `text` (gpt-tokenizer, offline), exact up to 16 KiB and estimated from the head and tail
 * beyond. The tokenizer loads on first use: its BPE ranks take about half a second to load, which every CLI
 * command would otherwise pay whether or not a model is ever asked anything.
 */
export function countO200kTokens(text: string): number {
  loaded ??= (require('gpt-tokenizer/cjs/encoding/o200k_base') as { countTokens: CountTokens }).countTokens;
  if (text.length <= EXACT_COUNT_CHARACTERS) return loaded(text, AS_TEXT);
  const half = EXACT_COUNT_CHARACTERS / 2;
  const sampled = loaded(text.slice(0, half), AS_TEXT) + loaded(text.slice(-half), AS_TEXT);
  return Math.ceil(sampled * (text.length / EXACT_COUNT_CHARACTERS));
}
