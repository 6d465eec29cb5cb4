import { formatBytes } from '../format-bytes.js';
import type { SyncSummary } from './index-writer.js';

/** Something about a workspace's index the user should know: warnings are shown, notes are logged. */
export interface IndexProblem {
  severity: 'warning' | 'note';
  message: string;
}

const count = (n: number, noun: string, plural = `${noun}s`) => `${n} ${n === 1 ? noun : plural}`;
/** Paths in messages keep their start and end (a folder too deep to read can be thousands of characters long). */
const shorten = (relative: string) => (relative.length > 100 ? `${relative.slice(0, 40)}…${relative.slice(-55)}` : relative);
const list = (paths: string[], total: number) => `${paths.map(shorten).join(', ')}${total > paths.length ? ', …' : ''}`;

/** What the last full sync left out, worded for the user with what to do about it. */
export function syncProblems(summary: SyncSummary, maxFileSize: number): IndexProblem[] {
  const problems: IndexProblem[] = [];
  if (summary.skippedTooLarge) {
    const them = summary.skippedTooLarge === 1 ? 'it' : 'them';
    problems.push({
      severity: 'note',
      message: `Not indexed, being over index.maxFileSize (${formatBytes(maxFileSize)}): ${count(summary.skippedTooLarge, 'file')} (${list(summary.tooLargeExamples, summary.skippedTooLarge)}). `
        + `Search and the agent do not see ${them}; raise index.maxFileSize in the config to include ${them}.`,
    });
  }
  if (summary.unreadable.length) {
    const names = list(summary.unreadable.slice(0, 5), summary.unreadable.length);
    problems.push({ severity: 'note', message: `Not indexed, being unreadable: ${count(summary.unreadable.length, 'folder')} (${names}).` });
  }
  if (summary.pseudoFilesystems.length) {
    const names = list(summary.pseudoFilesystems.slice(0, 5), summary.pseudoFilesystems.length);
    problems.push({ severity: 'note', message: `Not indexed, being kernel pseudo-filesystems (their files never end or block when read): ${count(summary.pseudoFilesystems.length, 'folder')} (${names}).` });
  }
  if (summary.undecodableNames.length) {
    const names = list(summary.undecodableNames.slice(0, 5), summary.undecodableNames.length);
    problems.push({
      severity: 'note',
      message: `Not indexed, having names that are not valid UTF-8 (codeloop keeps paths as text; \`rg\` still reads them): `
        + `${count(summary.undecodableNames.length, 'file or folder', 'files or folders')} (${names}; � marks the bytes that are not UTF-8). Rename them to UTF-8 to include them.`,
    });
  }
  return problems;
}

/** An editor buffer over the size limit (left out of the index until it shrinks). */
export function tooLargeBufferProblem(relativePath: string, bytes: number): IndexProblem {
  return { severity: 'note', message: `${relativePath} (${formatBytes(bytes)}) is over index.maxFileSize: it is not indexed, so search and the agent do not see it.` };
}

/** Why the watcher had to stop, what the index does instead, and how to lift the limit. */
export function watchStoppedProblem(code: string, rescanSeconds: number, detail?: string): IndexProblem {
  const cause = code === 'ENOSPC'
    ? `the system's limit on watched files is reached${detail ? ` (${detail})` : ''}; raise it, e.g. \`sudo sysctl fs.inotify.max_user_watches=1048576\``
    : `too many open files (${code}); raise the limit, e.g. \`ulimit -n 65536\` before starting the editor`;
  return {
    severity: 'warning',
    message: `File watching stopped: ${cause}. Meanwhile changes made outside the editor reach the index by a rescan every ${rescanSeconds} s `
      + '(or at once with `codeloop index`), and each rescan tries watching again.',
  };
}
