import { constants as fsConstants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';

/** How many files of one folder are copied at once. */
const PARALLEL = 32;

const vanished = (error: unknown) => (error as NodeJS.ErrnoException).code === 'ENOENT';

/**
 * Copies a live tree: files, folders and symlinks (as links, never followed, so nothing outside is read),
 * modes kept, entries named in `skip` left out. Entries deleted while the copy runs are passed over, as if
 * the copy had started a moment later; any other failure stops it. With `clone`, files are cloned copy-on-write
 * where the file system has clones (btrfs, XFS) — instant and free until written — and copied elsewhere.
 */
export async function copyTree(source: string, target: string, skip: ReadonlySet<string>, clone = true): Promise<void> {
  await fs.mkdir(target, { recursive: true });
  let entries;
  try {
    entries = await fs.readdir(source, { withFileTypes: true });
  } catch (error) {
    if (vanished(error)) return;
    throw error;
  }
  const copyEntry = async (entry: (typeof entries)[number]) => {
    if (skip.has(entry.name)) return;
    const from = path.join(source, entry.name);
    const to = path.join(target, entry.name);
    try {
      if (entry.isDirectory()) await copyTree(from, to, skip, clone);
      else if (entry.isFile()) await fs.copyFile(from, to, clone ? fsConstants.COPYFILE_FICLONE : 0);
      else if (entry.isSymbolicLink()) await fs.symlink(await fs.readlink(from), to);
      // Sockets, pipes and devices are not workspace content.
    } catch (error) {
      if (!vanished(error)) throw error;
    }
  };
  for (let start = 0; start < entries.length; start += PARALLEL) {
    await Promise.all(entries.slice(start, start + PARALLEL).map(copyEntry));
  }
}
