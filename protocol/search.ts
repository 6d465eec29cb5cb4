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
