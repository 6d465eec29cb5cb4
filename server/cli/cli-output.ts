/** Terminal output helpers shared by the CLI commands. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

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
