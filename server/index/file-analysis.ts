import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { distinctWords } from './identifier-words.js';
import { languageOf } from './languages.js';
import { decodeSearchText } from './search-text.js';
import { definesForRanking, type ExtractedSymbol, type SymbolExtractor } from './symbols/symbol-extractor.js';
import { indexGramIds } from './trigram-tokens.js';

export interface FileAnalysis {
  hash: string;
  language: string | null;
  /** Distinct sparse n-gram ids of the text (see trigram-tokens.ts), for the gram postings. */
  grams: Float64Array;
  symbols: ExtractedSymbol[];
  /** Space-separated distinct words of the path, the symbol names and the body, for ranked retrieval. */
  pathWords: string;
  symbolWords: string;
  bodyWords: string;
}

export interface AnalysisRequest {
  root: string;
  /** Root-relative, posix separators. */
  path: string;
  /** The editor's unsaved buffer, indexed instead of the disk. */
  overlay?: string;
  /** Hash already indexed: when the content still has it, analysis is skipped. */
  knownHash?: string;
}

export type AnalysisOutcome =
  | { kind: 'analysed'; analysis: FileAnalysis }
  | { kind: 'unchanged'; hash: string }
  | { kind: 'binary' }
  /** An unsaved buffer over the size limit (files on disk over it never reach analysis). */
  | { kind: 'tooLarge' }
  | { kind: 'missing' };

export function hashContent(bytes: Uint8Array | string): string {
  return createHash('sha1').update(bytes).digest('hex');
}

export async function analyzeText(
  relativePath: string,
  text: string,
  hash: string,
  extractor: SymbolExtractor,
): Promise<FileAnalysis> {
  const language = languageOf(relativePath);
  const symbols = await extractor.extract(text, language);
  return {
    hash,
    language,
    grams: indexGramIds(text),
    symbols,
    pathWords: distinctWords(relativePath).join(' '),
    symbolWords: distinctWords(symbols.filter(definesForRanking).map((symbol) => symbol.name).join(' ')).join(' '),
    bodyWords: distinctWords(text).join(' '),
  };
}

/** Reads a file (or takes its unsaved buffer) and analyses it unless its hash is the one already indexed. */
export async function readAndAnalyze(request: AnalysisRequest, extractor: SymbolExtractor): Promise<AnalysisOutcome> {
  let text: string;
  let hash: string;
  if (request.overlay !== undefined) {
    text = request.overlay;
    hash = hashContent(text);
  } else {
    let bytes: Buffer;
    try {
      bytes = await fs.readFile(path.join(request.root, request.path));
    } catch {
      return { kind: 'missing' };
    }
    hash = hashContent(bytes);
    if (hash === request.knownHash) return { kind: 'unchanged', hash };
    const decoded = decodeSearchText(bytes);
    if (decoded === null) return { kind: 'binary' };
    text = decoded;
  }
  if (hash === request.knownHash) return { kind: 'unchanged', hash };
  return { kind: 'analysed', analysis: await analyzeText(request.path, text, hash, extractor) };
}
