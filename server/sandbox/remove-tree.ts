import fs from 'node:fs';
import path from 'node:path';

/**
 * Removes a folder and everything in it, even folders a command left unreadable (`chmod 000`) or overlayfs'
 * own work folder (mode 000): on a refusal each folder is made accessible and the removal retried.
 */
export async function removeTree(dir: string): Promise<void> {
  try {
    await fs.promises.rm(dir, { recursive: true, force: true });
  } catch (error) {
    if (!['EACCES', 'EPERM', 'ENOTEMPTY'].includes((error as NodeJS.ErrnoException).code ?? '')) throw error;
    await makeAccessible(dir);
    await fs.promises.rm(dir, { recursive: true, force: true });
  }
}

async function makeAccessible(dir: string): Promise<void> {
  try {
    await fs.promises.chmod(dir, 0o700);
    for (const entry of await fs.promises.readdir(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) await makeAccessible(path.join(dir, entry.name));
    }
  } catch {
    // not ours or already gone: the removal that follows reports what is left
  }
}

/** The same, synchronously (startup recovery and probes, where nothing else runs yet). */
export function removeTreeSync(dir: string): void {
  try {
    fs.rmSync(dir, { recursive: true, force: true });
  } catch {
    const open = (folder: string): void => {
      try {
        fs.chmodSync(folder, 0o700);
        for (const entry of fs.readdirSync(folder, { withFileTypes: true })) if (entry.isDirectory()) open(path.join(folder, entry.name));
      } catch {
        // as above
      }
    };
    open(dir);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
