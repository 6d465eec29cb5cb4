import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { EventLoopMonitor } from '../../server/lsp/event-loop-monitor.js';

const sleepBlocking = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the event-loop monitor\'s stall log', () => {
  it('counts the CPU of the event loop\'s own thread, not that of worker threads working meanwhile', { timeout: 60_000 }, async () => {
    const lines: string[] = [];
    const monitor = new EventLoopMonitor((line) => lines.push(line), 150);
    monitor.start();
    try {
      // The loop held 400 ms without using CPU (a blocking wait) while a worker thread spins: the worker's CPU is
      // not the loop's.
      const worker = new Worker('const end = Date.now() + 1500; while (Date.now() < end);', { eval: true });
      await tick(100);
      sleepBlocking(400);
      await tick(200);
      await worker.terminate();
      const stall = lines.find((line) => line.includes('event loop stalled'));
      expect(stall, lines.join('\n')).toMatch(/^event loop stalled for \d+ ms \((\d+) ms of CPU on the event loop's thread\); serving: no client request/);
      expect(Number(/\((\d+) ms of CPU/.exec(stall!)![1])).toBeLessThan(50);

      // The loop held by work: its CPU is counted (as much as the machine gave it).
      lines.length = 0;
      const end = Date.now() + 400;
      while (Date.now() < end);
      await tick(200);
      expect(Number(/\((\d+) ms of CPU/.exec(lines.find((line) => line.includes('event loop stalled')) ?? '')?.[1])).toBeGreaterThan(0);
    } finally {
      monitor.stop();
    }
  });
});
