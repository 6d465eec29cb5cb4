import { serveRequests } from '../threads/worker-thread.js';
import { countO200kTokens } from './o200k-count.js';

/**
 * Counts tokens off the daemon's event loop (token-count.ts): BPE over a long conversation holds a thread for
 * hundreds of milliseconds, which on the main thread every editor of the user would wait for.
 *
 * An agent session recounts its whole conversation every turn, so counts are remembered by text, up to
 * CACHE_CHARACTERS of texts (oldest forgotten first).
 */
const CACHE_CHARACTERS = 16 * 1024 * 1024;
const cache = new Map<string, number>();
let cachedCharacters = 0;

function count(text: string): number {
  const known = cache.get(text);
  if (known !== undefined) return known;
  const tokens = countO200kTokens(text);
  if (text.length <= CACHE_CHARACTERS) {
    cache.set(text, tokens);
    cachedCharacters += text.length;
    for (const [old] of cache) {
      if (cachedCharacters <= CACHE_CHARACTERS) break;
      cache.delete(old);
      cachedCharacters -= old.length;
    }
  }
  return tokens;
}

serveRequests((texts: string[]) => texts.map(count));
