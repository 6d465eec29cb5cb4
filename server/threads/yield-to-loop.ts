/**
 * Resolves once the event loop has served what was waiting (socket reads, timers, other editors' requests): work
 * over many large files that awaits this between files holds the daemon's loop for one file at a time, not all.
 */
export function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
