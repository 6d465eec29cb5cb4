import { serveRequests } from '../threads/worker-thread.js';
import { answerOnOwnConnection } from './session-view-ranking.js';

/** Ranks and maps inside agent sessions' views of an index, on its own connection, off the daemon's event loop. */
serveRequests(answerOnOwnConnection);
