import path from 'node:path';
import type { AgentConfig } from '../../protocol/config.js';
import { diffStats, type ProposedFile } from './session-store.js';

/** Whether a proposal may be applied without asking: small enough, and no file under a protected glob. */
export function mayAutoApply(files: ProposedFile[], diff: string, rules: AgentConfig['autoApply']): { allowed: boolean; reason: string } {
  if (rules.maxChangedLines === 0) return { allowed: false, reason: 'auto-apply is off' };
  const protectedFile = files.find((file) => rules.protectedGlobs.some((glob) => path.posix.matchesGlob(file.path, glob)));
  if (protectedFile) return { allowed: false, reason: `${protectedFile.path} is protected` };
  const { added, removed } = diffStats(diff, files.length);
  if (added + removed > rules.maxChangedLines) return { allowed: false, reason: `${added + removed} changed lines is more than ${rules.maxChangedLines}` };
  return { allowed: true, reason: `${added + removed} changed lines, no protected file` };
}

/** Whether run_command may run a command: listed (or a listed command plus arguments), with no shell chaining. */
export function isAllowedCommand(command: string, allowed: string[]): boolean {
  if (/[;&|`$<>\n(){}]/.test(command)) return false;
  const trimmed = command.trim();
  return allowed.some((prefix) => trimmed === prefix || trimmed.startsWith(`${prefix} `));
}
