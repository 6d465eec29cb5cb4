/** A one-line progress bar on stderr when it is a terminal; silent otherwise (pipes, CI, editors). */
export function progressBar(label: string): { update(done: number, total: number): void; finish(): void } {
  const tty = process.stderr.isTTY;
  let lastDrawn = 0;
  return {
    update(done, total) {
      if (!tty) return;
      const now = Date.now();
      if (now - lastDrawn < 100 && done < total) return;
      lastDrawn = now;
      const width = 30;
      const filled = total ? Math.round((done / total) * width) : width;
      process.stderr.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`);
    },
    finish() {
      if (tty) process.stderr.write('\r\x1b[K');
    },
  };
}
