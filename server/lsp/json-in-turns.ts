import { randomBytes } from 'node:crypto';
import type { ContentTypeEncoder, Message } from 'vscode-jsonrpc';
import { yieldToLoop } from '../threads/yield-to-loop.js';

/** Strings at least this long (characters) are encoded on their own, between turns of the event loop. */
const LONG_STRING_CHARACTERS = 64 * 1024;
/** Encoded characters after which the encoder lets the loop serve others. */
const TURN_CHARACTERS = 256 * 1024;

/**
 * The JSON text of `value`, exactly as `JSON.stringify(value)` writes it, as UTF-8 — encoded so that no single
 * step holds the event loop for the whole: an answer carrying megabytes (a session with a 1 MB prompt and a
 * proposal of 900 KB files is 5 MB: 30–40 ms of JSON encoding in one go) is written as its small skeleton, with
 * each long string encoded on its own and the loop served in between.
 *
 * The skeleton is `JSON.stringify` with each long string replaced by a marker that holds a random nonce (so no
 * other text can be taken for one); each marker is then replaced by that string's own JSON encoding, which is
 * what `JSON.stringify` writes for it anywhere.
 */
export async function jsonInTurns(value: unknown): Promise<Buffer> {
  const long: string[] = [];
  const nonce = randomBytes(16).toString('hex');
  const skeleton = JSON.stringify(value, (_key, item: unknown) => {
    if (typeof item !== 'string' || item.length < LONG_STRING_CHARACTERS) return item;
    long.push(item);
    return `${nonce}:${long.length - 1}`;
  });
  if (skeleton === undefined) throw new TypeError('the message has no JSON form');
  if (!long.length) return Buffer.from(skeleton, 'utf8');
  const pieces: Buffer[] = [];
  let since = 0;
  let at = 0;
  for (const [index, text] of long.entries()) {
    const marker = `"${nonce}:${index}"`;
    const found = skeleton.indexOf(marker, at);
    pieces.push(Buffer.from(skeleton.slice(at, found), 'utf8'), Buffer.from(JSON.stringify(text), 'utf8'));
    at = found + marker.length;
    since += text.length;
    if (since >= TURN_CHARACTERS) {
      since = 0;
      await yieldToLoop();
    }
  }
  pieces.push(Buffer.from(skeleton.slice(at), 'utf8'));
  return Buffer.concat(pieces);
}

/**
 * The daemon's JSON-RPC encoder (`application/json`, UTF-8): `jsonInTurns`, so one editor's large answer does not
 * hold the others' for its whole encoding.
 */
export const jsonInTurnsEncoder: ContentTypeEncoder = {
  name: 'application/json',
  encode: (message: Message) => jsonInTurns(message),
};
