import { z } from 'zod';
import { LIMITS, overLimit } from './limits.js';

export const SearchModeSchema = z.enum(['literal', 'regex', 'symbol', 'text']);
export type SearchMode = z.infer<typeof SearchModeSchema>;

/** Params of `codeloop/search` and of the CLI's `codeloop search`. */
export const SearchParamsSchema = z
  .object({
    query: z.string().min(1, 'the search query is empty').max(LIMITS.searchQueryCharacters, overLimit('searchQueryCharacters')),
    mode: SearchModeSchema.default('literal'),
    caseInsensitive: z.boolean().default(false),
    limit: z.number().int().positive().max(100_000).optional(),
  })
  .strict();
export type SearchParams = z.infer<typeof SearchParamsSchema>;

/** One matching line (literal and regex modes). Lines and columns are 1-based; `column` counts UTF-8 bytes like rg. */
export const LineMatchSchema = z.object({
  path: z.string(),
  line: z.number().int(),
  column: z.number().int(),
  /** Same position in UTF-16 code units, 0-based, for LSP ranges. */
  character: z.number().int(),
  /** Length of the first match on the line in UTF-16 code units. */
  length: z.number().int(),
  text: z.string(),
});
export type LineMatch = z.infer<typeof LineMatchSchema>;

export const SymbolKindSchema = z.enum([
  'class', 'interface', 'function', 'method', 'constructor', 'property', 'field', 'variable', 'constant',
  'enum', 'enumMember', 'struct', 'module', 'namespace', 'type', 'trait', 'macro',
]);
export type SymbolKind = z.infer<typeof SymbolKindSchema>;

/** A definition found by the symbol extractor. Lines/characters 0-based (LSP positions). */
export const SymbolInfoSchema = z.object({
  name: z.string(),
  kind: SymbolKindSchema,
  container: z.string().nullable(),
  path: z.string(),
  startLine: z.number().int(),
  startCharacter: z.number().int(),
  endLine: z.number().int(),
  endCharacter: z.number().int(),
  score: z.number().optional(),
});
export type SymbolInfo = z.infer<typeof SymbolInfoSchema>;

/** A file ranked for a natural-language question, with its best line range. */
export const RankedFileSchema = z.object({
  path: z.string(),
  score: z.number(),
  startLine: z.number().int(),
  endLine: z.number().int(),
  preview: z.string(),
});
export type RankedFile = z.infer<typeof RankedFileSchema>;

export const SearchResultSchema = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('literal'), matches: z.array(LineMatchSchema), truncated: z.boolean() }),
  z.object({ mode: z.literal('regex'), matches: z.array(LineMatchSchema), truncated: z.boolean() }),
  z.object({ mode: z.literal('symbol'), symbols: z.array(SymbolInfoSchema) }),
  z.object({ mode: z.literal('text'), files: z.array(RankedFileSchema) }),
]);
export type SearchResult = z.infer<typeof SearchResultSchema>;

export const IndexStatusSchema = z.object({
  root: z.string(),
  databasePath: z.string(),
  files: z.number().int(),
  bytes: z.number().int(),
  symbols: z.number().int(),
  databaseBytes: z.number().int(),
  lastIndexedAt: z.string().nullable(),
  schemaVersion: z.number().int(),
});
export type IndexStatus = z.infer<typeof IndexStatusSchema>;

/** Something about a workspace's index the user should know: warnings are shown, notes are logged. */
export const IndexProblemSchema = z.object({ severity: z.enum(['warning', 'note']), message: z.string() });

/** Params of `codeloop/cliSearch`: `codeloop search` asking the daemon about the workspace at `root` (a folder path). */
export const CliSearchParamsSchema = SearchParamsSchema.extend({ root: z.string().min(1) }).strict();

/**
 * Params of `codeloop/cliSearchOutput`: a `codeloop/cliSearch` whose answer is what `codeloop search` prints —
 * `json` as with `--json`, `displayDir` the DIR argument as the user typed it (paths are printed under it).
 */
export const CliSearchOutputParamsSchema = CliSearchParamsSchema.extend({
  json: z.boolean().default(false),
  displayDir: z.string().min(1).optional(),
  /** The asking client's build id (server/build-info.ts): a daemon of another build refuses, and the client hands over to the Node CLI, which meets the daemon (`codeloop/hello`). */
  buildId: z.string().max(100).optional(),
}).strict();

/**
 * What `codeloop search` prints and how it exits: `output` is the exact bytes for stdout, base64-encoded (a line
 * may hold a file's bytes that are not UTF-8, which a JSON string cannot carry), `exitCode` 0 with results and
 * 1 without, as rg.
 */
export const CliSearchOutputSchema = z.object({ exitCode: z.union([z.literal(0), z.literal(1)]), output: z.string() });
export type CliSearchOutput = z.infer<typeof CliSearchOutputSchema>;

/** Params of `codeloop/cliIndex`: `codeloop index` asking the daemon to bring the workspace at `root` up to date. */
export const CliIndexParamsSchema = z.object({ root: z.string().min(1) }).strict();

/** What one full validation of a tree did (`codeloop index`); durations in milliseconds, sizes in bytes. */
export const IndexSummarySchema = z.object({
  files: z.number().int(),
  bytes: z.number().int(),
  added: z.number().int(),
  updated: z.number().int(),
  removed: z.number().int(),
  unchanged: z.number().int(),
  skippedTooLarge: z.number().int(),
  /** The first few files left out for size, by path. */
  tooLargeExamples: z.array(z.string()),
  skippedBinary: z.number().int(),
  /** Folders that could not be read. */
  unreadable: z.array(z.string()),
  /** Kernel pseudo-filesystems (/proc, /sys…) mounted inside the tree, left out, each with its kind: "mnt/proc (proc)". */
  pseudoFilesystems: z.array(z.string()),
  /** Files and folders left out for names that are not valid UTF-8 (paths are text), with U+FFFD for the bad bytes. */
  undecodableNames: z.array(z.string()),
  /** Folders a watcher of this tree watches (one inotify watch each). */
  watchTargets: z.number().int(),
  durationMs: z.number(),
});

export const CliIndexResultSchema = z.object({
  summary: IndexSummarySchema,
  status: IndexStatusSchema,
  problems: z.array(IndexProblemSchema),
});
export type CliIndexResult = z.infer<typeof CliIndexResultSchema>;
