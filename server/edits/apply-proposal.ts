import fs from 'node:fs';
import path from 'node:path';
import type { ProposedFile } from '../agent/session-store.js';
import { confinePath } from '../workspace/path-confinement.js';

/**
 * Writes a proposal into the user's workspace, file by file, only where the file still holds the text the
 * proposal was based on; a file changed meanwhile is reported as a conflict and left alone.
 */
export function applyProposalToDisk(root: string, files: ProposedFile[]): { applied: string[]; conflicts: string[] } {
  const applied: string[] = [];
  const conflicts: string[] = [];
  for (const file of files) {
    const target = path.join(root, confinePath(root, file.path));
    let current: string | null;
    try {
      current = fs.readFileSync(target, 'utf8');
    } catch {
      current = null;
    }
    if (current !== file.before) {
      conflicts.push(file.path);
      continue;
    }
    if (file.after === null) fs.rmSync(target, { force: true });
    else {
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, file.after);
    }
    applied.push(file.path);
  }
  return { applied, conflicts };
}
