import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Verdict } from '../../protocol/lsp-methods.js';
import type { SessionRecord } from './session-store.js';
import { verdictLines } from './session-verdict.js';
import { stateHome } from '../config/state-paths.js';

/**
 * Documents about a session that the editor opens with `window/showDocument` (every client has it, Helix
 * included): the plan to approve, the proposal's diff with its verdict, an explanation. They live under the
 * state folder, outside the workspace, so they are never indexed or proposed.
 */
function writeDocument(folder: string, name: string, text: string): string {
  const file = path.join(stateHome(), folder, name);
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  fs.writeFileSync(file, text);
  return pathToFileURL(file).href;
}

/** The plan as Markdown, with how to approve or reject it from any editor. */
export function writePlanDocument(session: SessionRecord): string {
  return writeDocument('plans', `${session.sessionId}.md`, [
    `# Plan: ${session.prompt}`, '', session.plan ?? '(no plan yet)', '', '---', '',
    'Approve: code action "codeloop: Approve plan …" (Neovim plugin: :CodeloopSessions; Emacs: M-x codeloop-sessions).',
    'Reject with feedback: write the feedback as a comment `codeloop: <feedback>` in a file of the workspace, put the',
    'cursor on it and pick the code action "codeloop: Reject plan … with feedback (…)".', '',
  ].join('\n'));
}

/** The proposal's diff, headed by its verdict (`#` lines, which `git apply` and `patch` skip). */
export function writeProposalDocument(session: SessionRecord, verdict: Verdict | null): string {
  const header = [`proposal: ${session.prompt}`, ...(verdict ? verdictLines(verdict) : [])].map((line) => `# ${line}`);
  return writeDocument('proposals', `${session.sessionId}.diff`, `${header.join('\n')}\n${session.diff ?? ''}`);
}

/** An explanation session's answer as Markdown. */
export function writeExplanationDocument(session: SessionRecord): string {
  return writeDocument('explanations', `${session.sessionId}.md`, `# ${session.prompt}\n\n${session.summary ?? ''}\n`);
}
