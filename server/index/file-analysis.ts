import { createHash } from 'node:crypto';
import { distinctWords } from './identifier-words.js';
import { languageOf } from './languages.js';
import type { ExtractedSymbol, SymbolExtractor } from './symbols/symbol-extractor.js';

export interface FileAnalysis {
  hash: string;
  language: string | null;
  /** Decoded text (UTF-8, BOM dropped) exactly as searches verify it. */
  text: string;
  symbols: ExtractedSymbol[];
  /** Space-separated distinct words of the path, the symbol names and the body, for ranked retrieval. */
  pathWords: string;
  symbolWords: string;
  bodyWords: string;
}

const decoder = new TextDecoder('utf-8');

export function hashContent(bytes: Uint8Array | string): string {
  return createHash('sha1').update(bytes).digest('hex');
}

/** ripgrep's rule: a NUL byte makes a file binary, and binary files are not searched. */
export function isBinary(bytes: Uint8Array): boolean {
  return bytes.indexOf(0) !== -1;
}

export function decodeText(bytes: Uint8Array): string {
  return decoder.decode(bytes);
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
    text,
    symbols,
    pathWords: distinctWords(relativePath).join(' '),
    symbolWords: distinctWords(symbols.map((symbol) => symbol.name).join(' ')).join(' '),
    bodyWords: distinctWords(text).join(' '),
  };
}
