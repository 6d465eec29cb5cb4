/**
 * How much of each input one client may send, so that one editor can never stall or exhaust the daemon every
 * editor of the user shares. Each limit is enforced where the input enters (the schemas in this folder, the
 * message framing of every connection) and refused with JSON-RPC InvalidParams naming the limit; the table is
 * rendered into protocol/REFERENCE.md and README's "Limits" section.
 */
export const LIMITS = {
  /** One JSON-RPC message (the Content-Length of a frame), in bytes. */
  messageBytes: 8 * 1024 * 1024,
  /** The header block of one frame, in bytes. */
  headerBytes: 8 * 1024,
  /** A task prompt (`codeloop/startTask`, `codeloop.startTask`), in characters: room for a pasted log. */
  promptCharacters: 1_000_000,
  /** Feedback on a proposal and an edited plan, in characters. */
  feedbackCharacters: 100_000,
  /** A `codeloop/search` query (any mode), in characters. */
  searchQueryCharacters: 10_000,
  /** A `workspace/symbol` query, in characters: longer than any name worth looking up. */
  symbolQueryCharacters: 1_000,
  /** A URI, path or session id, in characters. */
  pathCharacters: 4_096,
  /** Entries of a list in params (files of applyProposal, diagnostics of codeAction), in items. */
  listItems: 10_000,
  /** The text of one open editor buffer, in characters; a larger buffer is not tracked (the editor is told). */
  bufferCharacters: 8 * 1024 * 1024,
} as const;

export type LimitName = keyof typeof LIMITS;

/** What each limit covers, for the generated reference and error messages. */
export const LIMIT_NOTES: Record<LimitName, string> = {
  messageBytes: 'one JSON-RPC message (a frame\'s Content-Length); a larger one is skipped without being buffered and its request answered with InvalidParams (a notification: the editor is told)',
  headerBytes: 'the header block of one frame; a longer or malformed header ends the connection',
  promptCharacters: 'a task prompt; a long one is accepted, and retrieval reads only its identifiers',
  feedbackCharacters: 'feedback on a proposal (`codeloop/reject`) and an edited plan (`codeloop/approvePlan`)',
  searchQueryCharacters: 'a `codeloop/search` query in any mode',
  symbolQueryCharacters: 'a `workspace/symbol` query',
  pathCharacters: 'a URI, path or session id',
  listItems: 'a list in params: `files` of `codeloop/applyProposal`, diagnostics of `textDocument/codeAction`',
  bufferCharacters: 'the text of one open buffer (`textDocument/didOpen`, and after each `didChange`); a larger buffer is not tracked and the editor is told once',
};

/** 1000000 → "1,000,000". Not `toLocaleString`: its first call loads locale data, a 100 ms stall of the daemon. */
export function groupThousands(value: number): string {
  const digits = String(Math.trunc(value));
  const groups: string[] = [];
  for (let end = digits.length; end > 0; end -= 3) groups.unshift(digits.slice(Math.max(0, end - 3), end));
  return groups.join(',');
}

/** "1,000,000 characters (limits.promptCharacters)": how an error names a limit. */
export function describeLimit(name: LimitName): string {
  const unit = name.endsWith('Bytes') ? 'bytes' : name.endsWith('Items') ? 'items' : 'characters';
  return `${groupThousands(LIMITS[name])} ${unit} (limits.${name})`;
}

/** The zod error for a value over a limit: "too long: the limit is 1,000,000 characters (limits.promptCharacters)". */
export function overLimit(name: LimitName): { error: string } {
  return { error: `too long: the limit is ${describeLimit(name)}` };
}
