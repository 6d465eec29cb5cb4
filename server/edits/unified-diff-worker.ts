import { serveRequests } from '../threads/worker-thread.js';
import { unifiedDiff } from './unified-diff.js';

/** Diffs large proposals off the daemon's event loop (see `unifiedDiffOffThread`). */
serveRequests(unifiedDiff);
