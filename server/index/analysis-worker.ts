import { parentPort } from 'node:worker_threads';
import { readAndAnalyze, type AnalysisRequest } from './file-analysis.js';
import { SymbolExtractor } from './symbols/symbol-extractor.js';

/** Runs file analysis (read, hash, trigrams, words, symbols) off the thread that writes SQLite. */
const extractor = new SymbolExtractor();

parentPort!.on('message', async ({ id, request }: { id: number; request: AnalysisRequest }) => {
  try {
    const outcome = await readAndAnalyze(request, extractor);
    // The grams' buffer is moved, not copied: it is the largest part of an analysis.
    parentPort!.postMessage({ id, outcome }, outcome.kind === 'analysed' ? [outcome.analysis.grams.buffer as ArrayBuffer] : []);
  } catch (error) {
    parentPort!.postMessage({ id, error: (error as Error).message });
  }
});
