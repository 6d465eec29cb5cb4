import { serveRequests } from '../threads/worker-thread.js';
import { scanLineTerms, type LineTermsRequest } from './line-terms.js';

/** Scans large files for ranking off the daemon's event loop (see `scanLineTermsOffThread`). */
serveRequests((request: LineTermsRequest) => scanLineTerms(request.text, request.termIds, request.identifiers));
