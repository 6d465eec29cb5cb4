import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { readAndAnalyze, type AnalysisOutcome, type AnalysisRequest } from './file-analysis.js';
import { SymbolExtractor } from './symbols/symbol-extractor.js';

interface PendingRequest {
  resolve: (outcome: AnalysisOutcome) => void;
  reject: (error: Error) => void;
}

/** Worker threads are only possible from the built JavaScript; from TypeScript sources (tests) analysis runs inline. */
const WORKER_URL = new URL('./analysis-worker.js', import.meta.url);
const RUNNING_FROM_SOURCE = import.meta.url.endsWith('.ts');
const WORKER_HEAP_MB = 256;
/**
 * A worker's young generation (MB): V8's default lets each worker's nursery grow to tens of MB, held for the
 * whole index; 8 MB lowered peak RSS on the kernel's fs/ by about 40 MB (bench/RESULTS.md).
 */
const WORKER_YOUNG_MB = 8;

export function defaultWorkerCount(): number {
  return RUNNING_FROM_SOURCE ? 0 : Math.min(4, Math.max(1, os.availableParallelism()));
}

/**
 * Spreads file analysis over worker threads (least-loaded first) so indexing uses every core while the
 * main thread writes SQLite. Workers start on first use and are unref'd: an idle pool keeps no process alive.
 */
export class AnalysisPool {
  private workers: { worker: Worker; pending: Map<number, PendingRequest> }[] = [];
  private nextId = 0;
  private inline: SymbolExtractor | null = null;

  constructor(private readonly size: number = defaultWorkerCount()) {}

  analyze(request: AnalysisRequest): Promise<AnalysisOutcome> {
    if (this.size === 0) return this.analyzeInline(request);
    // A worker that dies (out of memory on a pathological file) is replaced; its request is redone here.
    return this.analyzeInWorker(request).catch(() => this.analyzeInline(request));
  }

  private analyzeInline(request: AnalysisRequest): Promise<AnalysisOutcome> {
    this.inline ??= new SymbolExtractor();
    return readAndAnalyze(request, this.inline);
  }

  private analyzeInWorker(request: AnalysisRequest): Promise<AnalysisOutcome> {
    while (this.workers.length < this.size) this.startWorker();
    const slot = this.workers.reduce((best, candidate) => (candidate.pending.size < best.pending.size ? candidate : best));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      slot.worker.ref();
      slot.worker.postMessage({ id, request });
    });
  }

  private startWorker(): void {
    // A small old generation makes each worker collect often instead of growing to hundreds of MB.
    const worker = new Worker(WORKER_URL, { resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB, maxYoungGenerationSizeMb: WORKER_YOUNG_MB } });
    const slot = { worker, pending: new Map<number, PendingRequest>() };
    worker.on('message', (message: { id: number; outcome?: AnalysisOutcome; error?: string }) => {
      const request = slot.pending.get(message.id);
      slot.pending.delete(message.id);
      if (slot.pending.size === 0) worker.unref();
      if (message.error !== undefined) request?.reject(new Error(message.error));
      else request?.resolve(message.outcome!);
    });
    worker.on('error', (error) => this.failAll(slot.pending, error));
    worker.on('exit', () => {
      this.failAll(slot.pending, new Error('an analysis worker stopped unexpectedly'));
      this.workers = this.workers.filter((other) => other !== slot);
    });
    worker.unref();
    this.workers.push(slot);
  }

  private failAll(pending: Map<number, PendingRequest>, error: Error): void {
    for (const request of pending.values()) request.reject(error);
    pending.clear();
  }

  async close(): Promise<void> {
    const workers = this.workers;
    this.workers = [];
    await Promise.all(workers.map(({ worker }) => worker.terminate()));
  }
}
