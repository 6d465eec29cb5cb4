import { serveRequests } from '../threads/worker-thread.js';
import { scanRequest } from './line-terms.js';

/** Scans large files for ranking, and finds their best windows, off the daemon's event loop (see `scanLineTermsOffThread`). */
serveRequests(scanRequest);
