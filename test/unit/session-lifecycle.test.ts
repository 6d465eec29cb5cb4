import { describe, expect, it } from 'vitest';
import {
  FINAL_SESSION_STATES, nextSessionState, SessionStateSchema, SessionTransitionEventSchema, WAITING_SESSION_STATES,
  type SessionState, type SessionTransitionEvent,
} from '../../protocol/session-lifecycle.js';

/** The whole table, written out independently of the declaration: every pair not listed here is refused. */
const ALLOWED: [SessionState, SessionTransitionEvent, SessionState][] = [
  ['planning', 'planProposed', 'awaitingPlanApproval'],
  ['planning', 'planApproved', 'working'],
  ['planning', 'cancelled', 'cancelled'],
  ['planning', 'failed', 'failed'],
  ['planning', 'interrupted', 'interrupted'],
  ['awaitingPlanApproval', 'interrupted', 'interrupted'],
  ['working', 'interrupted', 'interrupted'],
  ['testing', 'interrupted', 'interrupted'],
  ['interrupted', 'resumed', 'working'],
  ['interrupted', 'planningResumed', 'planning'],
  ['interrupted', 'cancelled', 'cancelled'],
  ['interrupted', 'failed', 'failed'],
  ['awaitingPlanApproval', 'planApproved', 'working'],
  ['awaitingPlanApproval', 'rejected', 'rejected'],
  ['awaitingPlanApproval', 'feedbackGiven', 'planning'],
  ['awaitingPlanApproval', 'cancelled', 'cancelled'],
  ['awaitingPlanApproval', 'failed', 'failed'],
  ['working', 'testsStarted', 'testing'],
  ['working', 'proposalReady', 'awaitingApproval'],
  ['working', 'finishedWithoutChanges', 'finished'],
  ['working', 'cancelled', 'cancelled'],
  ['working', 'failed', 'failed'],
  ['testing', 'repairStarted', 'working'],
  ['testing', 'steeredAfterTests', 'working'],
  ['testing', 'proposalReady', 'awaitingApproval'],
  ['testing', 'finishedWithoutChanges', 'finished'],
  ['testing', 'cancelled', 'cancelled'],
  ['testing', 'failed', 'failed'],
  ['awaitingApproval', 'applied', 'applied'],
  ['awaitingApproval', 'rejected', 'rejected'],
  ['awaitingApproval', 'feedbackGiven', 'working'],
  ['awaitingApproval', 'cancelled', 'cancelled'],
  ['awaitingApproval', 'rewound', 'interrupted'],
  ['interrupted', 'rewound', 'interrupted'],
  ['applied', 'reverted', 'reverted'],
];

describe('session lifecycle table', () => {
  const allowed = new Map(ALLOWED.map(([from, event, to]) => [`${from} ${event}`, to]));

  for (const from of SessionStateSchema.options) {
    for (const event of SessionTransitionEventSchema.options) {
      const expected = allowed.get(`${from} ${event}`) ?? null;
      it(`${from} --${event}--> ${expected ?? 'refused'}`, () => {
        expect(nextSessionState(from, event)).toBe(expected);
      });
    }
  }

  it('final states are those whose work has ended: all have no way out but applied, which can only be reverted; waiting states are not final', () => {
    expect([...FINAL_SESSION_STATES].sort()).toEqual(['applied', 'cancelled', 'failed', 'finished', 'rejected', 'reverted']);
    for (const state of FINAL_SESSION_STATES) {
      const ways = SessionTransitionEventSchema.options.filter((event) => nextSessionState(state, event));
      expect(ways).toEqual(state === 'applied' ? ['reverted'] : []);
    }
    for (const state of WAITING_SESSION_STATES) expect(FINAL_SESSION_STATES.has(state)).toBe(false);
  });

  it('a rewind leaves a session waiting (interrupted, resumed on the user\'s word) and is refused while it works or after it ended', () => {
    const rewindable = SessionStateSchema.options.filter((state) => nextSessionState(state, 'rewound'));
    expect(rewindable).toEqual(['awaitingApproval', 'interrupted']);
    for (const state of rewindable) expect(nextSessionState(state, 'rewound')).toBe('interrupted');
    expect(WAITING_SESSION_STATES.has('interrupted')).toBe(true);
    expect(nextSessionState('interrupted', 'resumed')).toBe('working');
  });

  it('only an applied proposal can be reverted, and a reverted session is final', () => {
    expect(SessionStateSchema.options.filter((state) => nextSessionState(state, 'reverted'))).toEqual(['applied']);
    expect(FINAL_SESSION_STATES.has('reverted')).toBe(true);
  });

  it('a proposal can only be applied while it waits; a plan or a proposal can be rejected while it waits', () => {
    const appliable = SessionStateSchema.options.filter((state) => nextSessionState(state, 'applied'));
    expect(appliable).toEqual(['awaitingApproval']);
    const rejectable = SessionStateSchema.options.filter((state) => nextSessionState(state, 'rejected'));
    expect(rejectable).toEqual(['awaitingPlanApproval', 'awaitingApproval']);
  });
});
