import { describe, expect, it } from 'vitest';
import {
  createFailureSchedule,
  DESTINATION_FAULT_PROFILES,
  type DestinationFaultProfile,
  expectedKinds,
  FAILURE_KINDS,
  planForId,
  retryAfterHeader,
  type ScheduledAnswer,
} from '../../../soak/delivery-faults.js';
import { mulberry32 } from '../../../soak/prng.js';

// The soak's delivery failure schedule: what each request to the destination is answered. Its bounds are what keep
// the soak's tail short (no id fails more than the cap), and its stop and outage are what exercise the 410 and the
// breaker; a schedule that broke either would make the soak slow or prove nothing.

const QUIET: DestinationFaultProfile = {
  ...DESTINATION_FAULT_PROFILES.full,
  firstFailure: 0,
  secondFailure: 0,
  stopAt: undefined,
  outageAt: undefined,
};

const ids = (n: number, prefix = 'evt') => Array.from({ length: n }, (_, index) => `${prefix}-${index}`);

describe('the delivery failure schedule', () => {
  it("gives an id the same answers whatever order the deliveries arrive in (an id's plan is its own)", () => {
    const profile = { ...DESTINATION_FAULT_PROFILES.full, stopAt: undefined, outageAt: undefined };
    const forward = createFailureSchedule(profile, 7, 1000, mulberry32(1));
    const backward = createFailureSchedule(profile, 7, 1000, mulberry32(2));
    const all = ids(300);
    const answers = (schedule: typeof forward, order: string[]) => {
      const seen = new Map<string, ScheduledAnswer[]>();
      for (let round = 0; round < 3; round += 1) {
        for (const id of order) seen.set(id, [...(seen.get(id) ?? []), schedule.answer(id, 0)]);
      }
      return seen;
    };
    const a = answers(forward, all);
    const b = answers(backward, [...all].reverse());
    for (const id of all) expect(b.get(id), id).toEqual(a.get(id));
    // And another seed plans otherwise.
    const other = all.map((id) => planForId(profile, 8, id).failures.length).join('');
    expect(other).not.toBe(all.map((id) => planForId(profile, 7, id).failures.length).join(''));
  });

  it('fails about the planned share of first attempts, with every kind, and a 429 always carries a Retry-After', () => {
    const profile = DESTINATION_FAULT_PROFILES.full;
    const plans = ids(20_000).map((id) => planForId(profile, 99, id));
    const failing = plans.filter((plan) => plan.failures.length > 0).length / plans.length;
    expect(failing).toBeGreaterThan(0.13);
    expect(failing).toBeLessThan(0.17);
    const twice = plans.filter((plan) => plan.failures.length === 2).length / plans.length;
    expect(twice).toBeGreaterThan(0.15 * 0.3 - 0.01);
    expect(twice).toBeLessThan(0.15 * 0.3 + 0.01);
    const kinds = new Set(plans.flatMap((plan) => plan.failures.map((failure) => failure.kind)));
    expect([...kinds].sort()).toEqual([...FAILURE_KINDS].sort());
    for (const failure of plans.flatMap((plan) => plan.failures)) {
      if (failure.kind === 'throttle') expect(profile.retryAfters).toContainEqual(failure.retryAfter);
      if (failure.kind === 'error') expect(failure.status).toBeGreaterThanOrEqual(500);
    }
    expect(plans.every((plan) => plan.failures.length <= profile.maxFailuresPerId)).toBe(true);
  });

  it('never fails an id more than maxFailuresPerId times, whatever the cause: an id at the cap is accepted in the outage and at the stop', () => {
    const profile: DestinationFaultProfile = {
      ...DESTINATION_FAULT_PROFILES.full,
      firstFailure: 1,
      secondFailure: 1,
      maxFailuresPerId: 2,
      stopAt: 0.5,
      outageAt: 0.5,
      outageRequests: 1000,
      outageMaxMs: 1_000_000,
    };
    const schedule = createFailureSchedule(profile, 3, 10, mulberry32(3));
    // The first two attempts fail as planned, before the stop and outage are due (request 5).
    expect(schedule.answer('a', 0).kind).not.toBe('accept');
    expect(schedule.answer('a', 0).kind).not.toBe('accept');
    expect(schedule.answer('b', 0).kind).not.toBe('accept');
    expect(schedule.answer('b', 0).kind).not.toBe('accept');
    // Now the stop and the outage are due; ids at the cap are still accepted, and the stop waits for another id.
    for (let attempt = 0; attempt < 5; attempt += 1) {
      expect(schedule.answer('a', 1).kind).toBe('accept');
      expect(schedule.answer('b', 1).kind).toBe('accept');
    }
    expect(schedule.answer('c', 1)).toEqual({ kind: 'gone', cause: 'stop' });
    const c = [schedule.answer('c', 1), schedule.answer('c', 1), schedule.answer('c', 1)];
    expect(c.map((answer) => answer.kind === 'accept')).toEqual([false, true, true]);
  });

  it('answers exactly one 410, at the first request at or after the stop point', () => {
    const schedule = createFailureSchedule({ ...QUIET, stopAt: 0.25 }, 1, 400, mulberry32(1));
    const answers = ids(400).map((id) => schedule.answer(id, 0));
    const gone = answers.flatMap((answer, index) => (answer.kind === 'gone' ? [index + 1] : []));
    expect(gone).toEqual([100]);
    expect(schedule.requests).toBe(400);
  });

  it('fails every request of the outage in a row (enough to open the breaker), then ends by count', () => {
    const schedule = createFailureSchedule(
      { ...QUIET, outageAt: 0.5, outageRequests: 6, outageMaxMs: 60_000 },
      1,
      20,
      mulberry32(5),
    );
    const answers = ids(30).map((id) => schedule.answer(id, 1000));
    const failed = answers.flatMap((answer, index) => (answer.kind === 'accept' ? [] : [index + 1]));
    expect(failed).toEqual([10, 11, 12, 13, 14, 15]);
    for (const answer of answers.filter((each) => each.kind !== 'accept')) {
      expect(['error', 'reset']).toContain(answer.kind);
      expect(answer).toMatchObject({ cause: 'outage' });
    }
  });

  it('ends the outage after outageMaxMs even with failures to go, so the breaker probe finds the endpoint back', () => {
    const schedule = createFailureSchedule(
      { ...QUIET, outageAt: 0.1, outageRequests: 100, outageMaxMs: 5000 },
      1,
      10,
      mulberry32(5),
    );
    expect(schedule.answer('a', 0).kind).not.toBe('accept');
    expect(schedule.answer('b', 4000).kind).not.toBe('accept');
    expect(schedule.answer('c', 6000).kind).toBe('accept');
    expect(schedule.answer('d', 6001).kind).toBe('accept');
  });

  it('injects nothing under the "none" profile, and says which kinds each profile must have injected', () => {
    const schedule = createFailureSchedule(DESTINATION_FAULT_PROFILES.none, 1, 100, mulberry32(1));
    expect(ids(500).every((id) => schedule.answer(id, 0).kind === 'accept')).toBe(true);
    expect(expectedKinds(DESTINATION_FAULT_PROFILES.none)).toEqual([]);
    expect(expectedKinds(DESTINATION_FAULT_PROFILES.full).sort()).toEqual(
      ['error', 'gone', 'reset', 'throttle', 'timeout'].sort(),
    );
    expect(
      expectedKinds({
        ...DESTINATION_FAULT_PROFILES.ci,
        weights: { ...DESTINATION_FAULT_PROFILES.ci.weights, reset: 0 },
      }),
    ).not.toContain('reset');
  });

  it('writes Retry-After as delta-seconds or as an IMF-fixdate that many seconds ahead', () => {
    const now = Date.parse('2026-11-30T10:00:00.400Z');
    expect(retryAfterHeader({ seconds: 40, form: 'seconds' }, now)).toBe('40');
    const date = retryAfterHeader({ seconds: 40, form: 'date' }, now);
    expect(date).toBe('Mon, 30 Nov 2026 10:00:40 GMT');
    expect(date).toMatch(/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
  });
});
