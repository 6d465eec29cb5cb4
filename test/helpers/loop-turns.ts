/**
 * How often the event loop got to run other work while `work` was pending: setImmediate turns (each one a return to
 * the loop) and 5 ms timer ticks (the loop free for at least a timer's period), with the work's result and its wall
 * time (ms). A test that something yields or runs off the main thread asserts on these.
 */
export async function loopDuring<T>(work: () => Promise<T>): Promise<{ result: T; turns: number; ticks: number; elapsedMs: number }> {
  let turns = 0;
  let ticks = 0;
  let pending = true;
  const probe = () => {
    if (!pending) return;
    turns++;
    setImmediate(probe);
  };
  setImmediate(probe);
  const ticker = setInterval(() => ticks++, 5);
  const started = performance.now();
  try {
    const result = await work();
    return { result, turns, ticks, elapsedMs: performance.now() - started };
  } finally {
    pending = false;
    clearInterval(ticker);
  }
}
