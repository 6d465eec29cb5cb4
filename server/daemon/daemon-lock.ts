import fs from 'node:fs';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid in the lock file when that process is alive: a daemon runs (or is starting), answering or not. */
export function liveLockHolder(file: string): number | null {
  try {
    const holder = Number(fs.readFileSync(file, 'utf8').trim());
    return Number.isInteger(holder) && holder > 0 && isAlive(holder) ? holder : null;
  } catch {
    return null;
  }
}

/**
 * Takes the one-daemon-per-user lock: an exclusively created file holding our pid. A lock left by a dead
 * process is taken over. Returns the pid of the live holder when someone else has it.
 */
export function acquireDaemonLock(file: string): { acquired: true; release(): void } | { acquired: false; holder: number } {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: 'wx', mode: 0o600 });
      return {
        acquired: true,
        release: () => {
          try {
            if (fs.readFileSync(file, 'utf8') === String(process.pid)) fs.rmSync(file);
          } catch {
            // already gone
          }
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(fs.readFileSync(file, 'utf8').trim());
      if (Number.isInteger(holder) && holder > 0 && isAlive(holder)) return { acquired: false, holder };
      // Stale: remove only if it still names the same dead pid (another starter may have replaced it).
      try {
        if (fs.readFileSync(file, 'utf8').trim() === String(holder)) fs.rmSync(file);
      } catch {
        // raced with another starter; try again
      }
    }
  }
  const holder = Number(fs.readFileSync(file, 'utf8').trim());
  return { acquired: false, holder };
}
