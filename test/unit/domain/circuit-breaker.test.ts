import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  admit,
  type BreakerSettings,
  type BreakerState,
  checkBreakerSettings,
  DEFAULT_BREAKER_SETTINGS,
  describeBreaker,
  INITIAL_BREAKER_STATE,
  type Outcome,
  parseBreakerState,
  pauseSeconds,
  record,
} from '../../../lambdas/domain/circuit-breaker.js';

const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);
const SECOND = 1000;
const settings: BreakerSettings = { ...DEFAULT_BREAKER_SETTINGS };

/** The state after `outcomes`, one a millisecond from `startMs`. */
function stateAfter(outcomes: readonly Outcome[], startMs = T0, from: BreakerState = INITIAL_BREAKER_STATE) {
  return outcomes.reduce((state, outcome, index) => record(state, outcome, startMs + index, settings), from);
}

const failures = (count: number): Outcome[] => Array.from({ length: count }, () => 'failure');
const open = (opens = 1, openedAtMs = T0): BreakerState => ({
  kind: 'open',
  openedAtMs,
  untilMs: openedAtMs + pauseSeconds(opens, settings) * SECOND,
  opens,
  reason: '20 consecutive failures',
});

describe('circuit breaker', () => {
  describe('closed: counting', () => {
    it('stays closed one failure short of the consecutive threshold', () => {
      const state = stateAfter(failures(19));
      expect(state).toMatchObject({ kind: 'closed', consecutiveFailures: 19 });
      expect(admit(state, T0 + SECOND, settings).admit).toBe('all');
    });

    it('opens on the 20th failure in a row, for the first pause, naming why', () => {
      const state = stateAfter(failures(20));
      expect(state).toEqual({
        kind: 'open',
        openedAtMs: T0 + 19,
        untilMs: T0 + 19 + 60 * SECOND,
        opens: 1,
        reason: '20 consecutive failures',
      });
    });

    it('a success resets the failures in a row, so 19 + success + 19 stays closed', () => {
      const state = stateAfter([...failures(19), 'success', ...failures(19)]);
      expect(state).toMatchObject({ kind: 'closed', consecutiveFailures: 19 });
    });

    it('returns the very state given when an outcome changes nothing, so the caller can skip the write', () => {
      const state = open();
      expect(record(state, 'failure', T0 + 1, settings)).toBe(state);
      const closed = stateAfter(['success']);
      expect(admit(closed, T0 + 2, settings).next).toBe(closed);
    });
  });

  describe('closed: failure rate over the window', () => {
    // Alternating failure, success: 50 %, never more than one failure in a row.
    const alternating = (count: number): Outcome[] =>
      Array.from({ length: count }, (_, index) => (index % 2 === 0 ? 'failure' : 'success'));

    it('does not open below minimumAttempts, however high the rate', () => {
      const state = stateAfter([...alternating(48), 'failure']);
      expect(state).toMatchObject({ kind: 'closed', window: { attempts: 49, failures: 25 } });
    });

    it('opens on a failure that brings a window of at least minimumAttempts to the rate', () => {
      const state = stateAfter([...alternating(49), 'failure']);
      expect(state).toMatchObject({
        kind: 'open',
        opens: 1,
        reason: '26 of 50 attempts failed within 300 s',
      });
    });

    it('is not opened by a success, even one that brings the window to its minimum', () => {
      // 49 attempts, 30 failures; the 50th is a success: 60 % of 50, but the endpoint just answered.
      const outcomes: Outcome[] = [...failures(10), 'success', ...failures(10), 'success', ...failures(10)];
      const padded = [...outcomes, ...Array.from({ length: 49 - outcomes.length }, () => 'success' as const)];
      const state = stateAfter([...padded, 'success']);
      expect(state).toMatchObject({ kind: 'closed', window: { attempts: 50, failures: 30 } });
      expect(record(state, 'failure', T0 + 60, settings)).toMatchObject({ kind: 'open' });
    });

    it('stays closed below the rate with enough attempts', () => {
      const mostlyFine: Outcome[] = Array.from({ length: 100 }, (_, index) =>
        index % 3 === 0 ? 'failure' : 'success',
      );
      expect(stateAfter(mostlyFine)).toMatchObject({
        kind: 'closed',
        window: { attempts: 100, failures: 34 },
      });
    });

    it('counts a rate exactly at the threshold as reached (integer percent, no float rounding)', () => {
      const third = { ...settings, failureRatePercent: 34, minimumAttempts: 3 };
      const exactly = (outcomes: Outcome[]) =>
        outcomes.reduce(
          (state, outcome, index) => record(state, outcome, T0 + index, third),
          INITIAL_BREAKER_STATE,
        );
      // 1 of 3 is 33.3 %: under 34 %.
      expect(exactly(['success', 'success', 'failure'])).toMatchObject({ kind: 'closed' });
      const half = { ...settings, failureRatePercent: 50, minimumAttempts: 4 };
      const state = ['success', 'failure', 'success', 'failure'].reduce<BreakerState>(
        (current, outcome, index) => record(current, outcome as Outcome, T0 + index, half),
        INITIAL_BREAKER_STATE,
      );
      expect(state).toMatchObject({ kind: 'open' });
    });

    it('rolls the window over once windowSeconds have passed since it started, forgetting its counts', () => {
      const state = stateAfter(alternating(40));
      const later = T0 + 300 * SECOND;
      const rolled = record(state, 'failure', later, settings);
      expect(rolled).toMatchObject({ kind: 'closed', window: { startMs: later, attempts: 1, failures: 1 } });
    });

    it('keeps counting in the same window just before it ends', () => {
      const state = stateAfter(alternating(40));
      const next = record(state, 'failure', T0 + 300 * SECOND - 1, settings);
      expect(next).toMatchObject({ window: { startMs: T0, attempts: 41, failures: 21 } });
    });

    it('starts the first window at the first attempt, not at the epoch', () => {
      expect(stateAfter(['failure'])).toMatchObject({ window: { startMs: T0, attempts: 1, failures: 1 } });
    });

    it('keeps failures in a row across a window roll-over (a quiet endpoint that is down is still down)', () => {
      const spread = failures(20).reduce<BreakerState>(
        (state, outcome, index) => record(state, outcome, T0 + index * 400 * SECOND, settings),
        INITIAL_BREAKER_STATE,
      );
      expect(spread).toMatchObject({ kind: 'open', reason: '20 consecutive failures' });
    });
  });

  describe('open', () => {
    it('admits nothing before its until time and says how long to hold, in whole seconds', () => {
      const state = open();
      expect(admit(state, T0, settings)).toEqual({ admit: 'none', waitSeconds: 60, next: state });
      expect(admit(state, T0 + 59_001, settings)).toEqual({ admit: 'none', waitSeconds: 1, next: state });
      expect(admit(state, T0 + 59_999, settings).waitSeconds).toBe(1);
    });

    it('turns half-open at its until time and admits one probe, holding the rest for the probe timeout', () => {
      const state = open(2);
      const at = T0 + 120 * SECOND;
      expect(admit(state, at, settings)).toEqual({
        admit: 'probe',
        waitSeconds: 60,
        next: { kind: 'half-open', probeStartedAtMs: at, opens: 2, reason: '20 consecutive failures' },
      });
    });

    it('ignores outcomes of deliveries sent before it opened: the pause runs its course', () => {
      const state = open();
      expect(record(state, 'success', T0 + 1, settings)).toBe(state);
      expect(record(state, 'failure', T0 + 1, settings)).toBe(state);
    });
  });

  describe('half-open: probes', () => {
    const halfOpen: BreakerState = { kind: 'half-open', probeStartedAtMs: T0, opens: 1, reason: 'why' };

    it('admits no second probe while one is in flight', () => {
      expect(admit(halfOpen, T0 + 59 * SECOND, settings)).toEqual({
        admit: 'none',
        waitSeconds: 1,
        next: halfOpen,
      });
      expect(admit(halfOpen, T0, settings)).toMatchObject({ admit: 'none', waitSeconds: 60 });
      expect(admit(halfOpen, T0 + 60 * SECOND - 1, settings)).toMatchObject({
        admit: 'none',
        waitSeconds: 1,
      });
    });

    it('admits a new probe when the one in flight is stale (its invocation crashed)', () => {
      const at = T0 + 60 * SECOND;
      expect(admit(halfOpen, at, settings)).toEqual({
        admit: 'probe',
        waitSeconds: 60,
        next: { ...halfOpen, probeStartedAtMs: at },
      });
    });

    it('closes on a successful probe, with fresh counts and a window starting then', () => {
      const at = T0 + 5 * SECOND;
      expect(record(halfOpen, 'success', at, settings)).toEqual({
        kind: 'closed',
        consecutiveFailures: 0,
        window: { startMs: at, attempts: 0, failures: 0 },
      });
    });

    it('reopens on a failed probe with the pause doubled, keeping why it first opened', () => {
      const at = T0 + 5 * SECOND;
      expect(record(halfOpen, 'failure', at, settings)).toEqual({
        kind: 'open',
        openedAtMs: at,
        untilMs: at + 120 * SECOND,
        opens: 2,
        reason: 'why',
      });
    });

    it('after closing, a new trip starts again from the first pause', () => {
      const closed = record(halfOpen, 'success', T0, settings);
      expect(stateAfter(failures(20), T0 + 1, closed)).toMatchObject({ kind: 'open', opens: 1 });
    });
  });

  describe('pauses', () => {
    it('double from openSeconds and stop at maxOpenSeconds', () => {
      const pauses = [1, 2, 3, 4, 5, 6, 7].map((opens) => pauseSeconds(opens, settings));
      expect(pauses).toEqual([60, 120, 240, 480, 900, 900, 900]);
    });

    it('stay at the cap however many probes failed (no overflow to Infinity or NaN)', () => {
      expect(pauseSeconds(5000, settings)).toBe(900);
    });

    it('follow the cycle open -> probe fails -> open, each pause doubled', () => {
      let state: BreakerState = stateAfter(failures(20));
      const seen: number[] = [];
      for (let round = 0; round < 6; round += 1) {
        if (state.kind !== 'open') throw new Error(`expected open, got ${state.kind}`);
        seen.push((state.untilMs - state.openedAtMs) / SECOND);
        const probe = admit(state, state.untilMs, settings);
        expect(probe.admit).toBe('probe');
        state = record(probe.next, 'failure', state.untilMs + 10, settings);
      }
      expect(seen).toEqual([60, 120, 240, 480, 900, 900]);
    });
  });

  describe('settings', () => {
    it('accepts the defaults', () => {
      expect(checkBreakerSettings(DEFAULT_BREAKER_SETTINGS)).toBe(DEFAULT_BREAKER_SETTINGS);
    });

    it.each([
      ['consecutiveFailures', 0],
      ['minimumAttempts', 1.5],
      ['windowSeconds', -1],
      ['probeTimeoutSeconds', Number.NaN],
      ['failureRatePercent', 0],
      ['failureRatePercent', 101],
      ['failureRatePercent', 0.5],
      ['maxOpenSeconds', 30],
    ])('refuses %s = %s', (name, value) => {
      expect(() => checkBreakerSettings({ ...DEFAULT_BREAKER_SETTINGS, [name]: value })).toThrow(RangeError);
    });
  });

  describe('describeBreaker', () => {
    it('says closed, and counts once there are any', () => {
      expect(describeBreaker(INITIAL_BREAKER_STATE)).toBe('closed');
      expect(describeBreaker(stateAfter(['failure', 'success', 'failure']))).toBe(
        'closed: 1 consecutive failures; 2 of 3 attempts failed since 2025-01-01T12:00:00.000Z',
      );
    });

    it('says until when an open breaker holds, and why', () => {
      expect(describeBreaker(open())).toBe(
        'open until 2025-01-01T12:01:00.000Z, since 2025-01-01T12:00:00.000Z: 20 consecutive failures',
      );
      expect(describeBreaker(open(3))).toContain('(opened 3 times in a row)');
    });

    it('says when the probe went out', () => {
      const state: BreakerState = { kind: 'half-open', probeStartedAtMs: T0, opens: 2, reason: 'why' };
      expect(describeBreaker(state)).toBe(
        'half-open: probe sent at 2025-01-01T12:00:00.000Z after 2 opens: why',
      );
    });
  });

  describe('parseBreakerState (reading a stored item back)', () => {
    it.each([
      INITIAL_BREAKER_STATE,
      open(2),
      { kind: 'half-open', probeStartedAtMs: T0, opens: 1, reason: 'why' } satisfies BreakerState,
    ])('round-trips %o', (state) => {
      expect(parseBreakerState(JSON.parse(JSON.stringify(state)))).toEqual(state);
    });

    it.each([
      undefined,
      null,
      'closed',
      { kind: 'closed', consecutiveFailures: -1, window: { startMs: 0, attempts: 0, failures: 0 } },
      { kind: 'closed', consecutiveFailures: 0 },
      { kind: 'open', openedAtMs: T0, untilMs: 'soon', opens: 1, reason: 'x' },
      { kind: 'open', openedAtMs: T0, untilMs: T0, opens: 0, reason: 'x' },
      { kind: 'half-open', probeStartedAtMs: T0, opens: 1 },
      { kind: 'ajar' },
    ])('refuses %o', (value) => {
      expect(parseBreakerState(value)).toBeUndefined();
    });
  });

  describe('properties', () => {
    type Step =
      | { kind: 'record'; outcome: Outcome; advanceMs: number }
      | { kind: 'admit'; advanceMs: number };
    const step: fc.Arbitrary<Step> = fc.oneof(
      fc.record({
        kind: fc.constant('record' as const),
        outcome: fc.constantFrom<Outcome>('success', 'failure'),
        advanceMs: fc.integer({ min: 0, max: 120_000 }),
      }),
      fc.record({ kind: fc.constant('admit' as const), advanceMs: fc.integer({ min: 0, max: 120_000 }) }),
    );
    const small = fc.record({
      consecutiveFailures: fc.integer({ min: 1, max: 5 }),
      windowSeconds: fc.integer({ min: 1, max: 600 }),
      minimumAttempts: fc.integer({ min: 1, max: 10 }),
      failureRatePercent: fc.integer({ min: 1, max: 100 }),
      openSeconds: fc.integer({ min: 1, max: 120 }),
      maxOpenSeconds: fc.integer({ min: 120, max: 900 }),
      probeTimeoutSeconds: fc.integer({ min: 1, max: 120 }),
    });

    /** Every state a run of steps goes through, with the time it was reached. */
    function run(
      steps: readonly Step[],
      chosen: BreakerSettings,
    ): Array<{ state: BreakerState; nowMs: number }> {
      let nowMs = T0;
      let state: BreakerState = INITIAL_BREAKER_STATE;
      const seen = [{ state, nowMs }];
      for (const current of steps) {
        nowMs += current.advanceMs;
        state =
          current.kind === 'record'
            ? record(state, current.outcome, nowMs, chosen)
            : admit(state, nowMs, chosen).next;
        seen.push({ state, nowMs });
      }
      return seen;
    }

    it('an open breaker, however it got there, admits nothing before its until time', () => {
      fc.assert(
        fc.property(fc.array(step, { maxLength: 200 }), small, fc.nat(), (steps, chosen, probe) => {
          for (const { state, nowMs } of run(steps, chosen)) {
            if (state.kind !== 'open') continue;
            const before = nowMs + (probe % Math.max(1, state.untilMs - nowMs));
            if (before >= state.untilMs) continue;
            const decision = admit(state, before, chosen);
            expect(decision.admit).toBe('none');
            expect(decision.next).toBe(state);
            expect(state.untilMs - state.openedAtMs).toBeLessThanOrEqual(chosen.maxOpenSeconds * SECOND);
          }
        }),
      );
    });

    it('a success in half-open always closes, with fresh counts', () => {
      fc.assert(
        fc.property(fc.array(step, { maxLength: 200 }), small, (steps, chosen) => {
          for (const { state, nowMs } of run(steps, chosen)) {
            if (state.kind !== 'half-open') continue;
            expect(record(state, 'success', nowMs, chosen)).toEqual({
              kind: 'closed',
              consecutiveFailures: 0,
              window: { startMs: nowMs, attempts: 0, failures: 0 },
            });
          }
        }),
      );
    });

    it('every state reached reads back from storage unchanged', () => {
      fc.assert(
        fc.property(fc.array(step, { maxLength: 100 }), small, (steps, chosen) => {
          for (const { state } of run(steps, chosen)) {
            expect(parseBreakerState(JSON.parse(JSON.stringify(state)))).toEqual(state);
          }
        }),
      );
    });
  });
});
