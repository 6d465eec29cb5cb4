/**
 * How slow this machine's CPU is against the one the CPU-time bounds were set on: a fixed piece of the daemon's
 * kind of work (JSON encoding and decoding, string scans over 20,000 rows) is timed in CPU, best of five runs (the
 * best drops JIT warm-up and GC pauses). 1 on the development machine (2-core `node` kind: 146 ms, measured
 * 2026-11-30) or faster; 2 where the same work takes twice the CPU. A bound in milliseconds of CPU scales by it,
 * since the daemon's own work slows the same way.
 */
export function cpuSlowness(): number {
  let best = Infinity;
  for (let run = 0; run < 5; run++) {
    const start = process.cpuUsage();
    daemonLikeWork();
    const used = process.cpuUsage(start);
    best = Math.min(best, (used.user + used.system) / 1000);
  }
  return Math.max(1, best / REFERENCE_CPU_MS);
}

/** daemonLikeWork's best CPU time (ms) on the development machine. */
const REFERENCE_CPU_MS = 146;

function daemonLikeWork(): number {
  const rows = [];
  for (let i = 0; i < 20_000; i++) rows.push({ path: `src/module${i % 97}/file${i}.ts`, line: i, text: `export function handler${i}(value) { return value * ${i}; }` });
  let total = 0;
  for (let round = 0; round < 8; round++) {
    const text = JSON.stringify(rows);
    total += (JSON.parse(text) as unknown[]).length;
    total += text.replace(/handler(\d+)/g, 'h$1').length;
  }
  return total;
}
