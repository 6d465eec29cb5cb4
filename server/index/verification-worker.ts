import { serveRequests } from '../threads/worker-thread.js';
import { verifyOnDisk } from './candidate-verification.js';

/** Reads and matches runs of candidate files for literal and regex search (see `verifyInParallel`). */
serveRequests(verifyOnDisk);
