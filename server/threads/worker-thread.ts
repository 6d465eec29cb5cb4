import { isMainThread, parentPort, Worker, type Transferable } from 'node:worker_threads';

/** Worker threads are only possible from the built JavaScript; from TypeScript sources (tests) work runs inline. */
const RUNNING_FROM_SOURCE = import.meta.url.endsWith('.ts');
/**
 * Inside a worker thread (the session view thread ranks, and so scans files) work runs inline: it is already off
 * the event loop, and a nested thread would only add its heap.
 */
const INLINE = RUNNING_FROM_SOURCE || !isMainThread;
const WORKER_HEAP_MB = 256;

interface Pending<Result> {
  resolve: (result: Result) => void;
  reject: (error: Error) => void;
}

/**
 * One worker thread that does a pure, CPU-heavy job for the whole process (counting tokens, scanning large
 * files), so the daemon's event loop — which every editor of the user waits on — stays free (issue 13).
 *
 * `workerUrl` is a module that calls `serveRequests` with the same function as `inline`: the results are the
 * same wherever the work runs. It runs inline from TypeScript sources, and for a request whose worker died (out
 * of memory); the worker is then replaced on the next request. Started on first use and unref'd while idle, so
 * an idle worker keeps no process alive.
 */
export class WorkerThread<Request, Result> {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending<Result>>();
  private nextId = 0;

  constructor(private readonly workerUrl: URL, private readonly inline: (request: Request) => Result | Promise<Result>) {}

  /**
   * The result of `request`, from the worker (or inline, see above). With `transfer`, those buffers move to the
   * worker instead of being copied: they are unusable here afterwards, so a request whose worker died is not run
   * inline again — its promise rejects.
   */
  run(request: Request, transfer: Transferable[] = []): Promise<Result> {
    if (INLINE) return Promise.resolve(this.inline(request));
    if (transfer.length) return this.inWorker(request, transfer);
    return this.inWorker(request).catch(() => this.inline(request));
  }

  /** Stops the thread (for a thread that belongs to something closed); a later request starts a new one. */
  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    await worker?.terminate();
  }

  private inWorker(request: Request, transfer: Transferable[] = []): Promise<Result> {
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.ref();
      worker.postMessage({ id, request }, transfer);
    });
  }

  private start(): Worker {
    // A small old generation makes the worker collect often instead of growing to hundreds of MB.
    const worker = new Worker(this.workerUrl, { resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB } });
    const failAll = (error: Error) => {
      if (this.worker === worker) this.worker = null;
      for (const request of this.pending.values()) request.reject(error);
      this.pending.clear();
    };
    worker.on('message', (message: { id: number; result?: Result; error?: string }) => {
      const request = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (this.pending.size === 0) worker.unref();
      if (message.error !== undefined) request?.reject(new Error(message.error));
      else request?.resolve(message.result!);
    });
    worker.on('error', failAll);
    worker.on('exit', () => failAll(new Error(`the worker thread ${this.workerUrl.pathname} stopped unexpectedly`)));
    worker.unref();
    this.worker = worker;
    return worker;
  }
}

/**
 * The worker side of a WorkerThread: answers each request with `handle`'s result, awaited when it is a promise
 * (or with its error's message).
 */
export function serveRequests<Request, Result>(handle: (request: Request) => Result | Promise<Result>): void {
  parentPort!.on('message', ({ id, request }: { id: number; request: Request }) => {
    new Promise<Result>((resolve) => resolve(handle(request))).then(
      (result) => parentPort!.postMessage({ id, result }),
      (error: unknown) => parentPort!.postMessage({ id, error: (error as Error).message }),
    );
  });
}
