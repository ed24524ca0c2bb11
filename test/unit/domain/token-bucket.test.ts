import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type BucketState,
  capacityMilliTokens,
  debtLimitMilliTokens,
  InvalidRateError,
  MAX_RESERVATION_SECONDS,
  MILLI_TOKENS_PER_TOKEN,
  refill,
  take,
  takeOrReserve,
} from '../../../lambdas/domain/token-bucket.js';

const T0 = Date.parse('2026-11-30T10:00:00Z');
const TOKEN = MILLI_TOKENS_PER_TOKEN;
const bucket = (tokens: number, atMs = T0, version = 3): BucketState => ({
  milliTokens: tokens * TOKEN,
  updatedAtMs: atMs,
  version,
});

describe('capacityMilliTokens', () => {
  it('holds one second of the rate, so a burst never exceeds what a second allows', () => {
    expect(capacityMilliTokens(20)).toBe(20 * TOKEN);
    expect(capacityMilliTokens(10_000)).toBe(10_000 * TOKEN);
  });

  it('holds at least one token, or a rate below 1/s would never let a delivery through', () => {
    expect(capacityMilliTokens(0.25)).toBe(TOKEN);
  });

  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY])(
    'refuses the rate %d instead of granting forever',
    (rate) => {
      expect(() => capacityMilliTokens(rate)).toThrow(InvalidRateError);
      expect(() => take(undefined, rate, 1, T0)).toThrow(InvalidRateError);
    },
  );
});

describe('refill', () => {
  it('reads a missing bucket as full, at the time asked, so an idle destination may take its burst', () => {
    expect(refill(undefined, 20, T0)).toEqual({ milliTokens: 20 * TOKEN, updatedAtMs: T0, version: 0 });
  });

  it('drips the rate in per millisecond, exactly', () => {
    expect(refill(bucket(0), 20, T0 + 1)).toEqual(bucket(0.02, T0 + 1));
    expect(refill(bucket(0), 20, T0 + 250)).toEqual(bucket(5, T0 + 250));
    expect(refill(bucket(1), 3, T0 + 500)).toEqual(bucket(2.5, T0 + 500));
  });

  it('adds no drift over many small refills: a thousand 1 ms steps equal one 1 s step', () => {
    let state = bucket(0);
    for (let ms = 1; ms <= 1000; ms += 1) state = refill(state, 7, T0 + ms);
    expect(state).toEqual(refill(bucket(0), 7, T0 + 1000));
    expect(state.milliTokens).toBe(7 * TOKEN);
  });

  it('caps at the capacity however long the bucket sat idle', () => {
    expect(refill(bucket(0), 20, T0 + 60_000).milliTokens).toBe(20 * TOKEN);
    expect(refill(bucket(0), 20, T0 + 10 ** 12).milliTokens).toBe(20 * TOKEN);
  });

  it('brings a bucket stored above the capacity (the rate was lowered since) down to it', () => {
    expect(refill(bucket(50), 5, T0).milliTokens).toBe(5 * TOKEN);
  });

  it('keeps a reserved debt, but never below 900 s of the rate, even from a stored value below it', () => {
    expect(refill({ milliTokens: -5000, updatedAtMs: T0, version: 1 }, 5, T0).milliTokens).toBe(-5000);
    expect(refill({ milliTokens: -1e12, updatedAtMs: T0, version: 1 }, 5, T0).milliTokens).toBe(
      -debtLimitMilliTokens(5),
    );
    expect(debtLimitMilliTokens(5)).toBe(5 * MAX_RESERVATION_SECONDS * TOKEN);
  });

  it('counts a clock behind the bucket as no time passed, and keeps the later time so nothing drips in twice', () => {
    const behind = refill(bucket(1), 10, T0 - 5_000);
    expect(behind).toEqual(bucket(1, T0));
    // Once the clock catches up, only the time after the bucket's own counts.
    expect(refill(behind, 10, T0 + 100).milliTokens).toBe(2 * TOKEN);
  });

  it('carries the version through, for the store to count up', () => {
    expect(refill(bucket(1, T0, 41), 10, T0 + 100).version).toBe(41);
  });
});

describe('take', () => {
  it('grants all that is wanted when the bucket holds it, and says no wait', () => {
    expect(take(bucket(10), 10, 4, T0)).toEqual({ granted: 4, waitSeconds: 0, next: bucket(6) });
  });

  it('grants a full bucket its burst from nothing stored', () => {
    expect(take(undefined, 20, 20, T0)).toEqual({ granted: 20, waitSeconds: 0, next: bucket(0, T0, 0) });
  });

  it('grants what it holds in whole tokens and keeps the fraction, so partial tokens are not lost', () => {
    const result = take({ milliTokens: 3500, updatedAtMs: T0, version: 1 }, 10, 5, T0);
    expect(result.granted).toBe(3);
    expect(result.next.milliTokens).toBe(500);
  });

  it('grants nothing when less than a token is there, and tells the records to wait', () => {
    const result = take({ milliTokens: 999, updatedAtMs: T0, version: 1 }, 1, 1, T0);
    expect(result).toEqual({
      granted: 0,
      waitSeconds: 1,
      next: { milliTokens: 999, updatedAtMs: T0, version: 1 },
    });
  });

  it('waits as long as the rest takes to drip in, in whole seconds rounded up', () => {
    // 2 granted, 8 left; 8 tokens at 2/s is 4 s.
    expect(take(bucket(2), 2, 10, T0)).toMatchObject({ granted: 2, waitSeconds: 4 });
    // 0.5 of a token held: 2.5 tokens missing at 2/s is 1.25 s, so 2 s.
    expect(take({ milliTokens: 500, updatedAtMs: T0, version: 1 }, 2, 3, T0)).toMatchObject({
      granted: 0,
      waitSeconds: 2,
    });
  });

  it('waits at least a second, the finest a queue can hide a message', () => {
    expect(take(bucket(0), 10_000, 1, T0)).toMatchObject({ granted: 0, waitSeconds: 1 });
  });

  it('waits long enough for a fractional rate, whose quotient can fall a hair short once floored', () => {
    const rate = 1 / 3;
    const { waitSeconds, next } = take(bucket(0), rate, 1, T0);
    expect(take(next, rate, 1, T0 + waitSeconds * 1000).granted).toBe(1);
  });

  it('grants nothing and changes nothing for 0 wanted', () => {
    expect(take(bucket(5), 10, 0, T0)).toEqual({ granted: 0, waitSeconds: 0, next: bucket(5) });
  });

  it.each([-1, 1.5, Number.NaN])(
    'refuses %d wanted rather than granting a fraction or minting tokens',
    (wanted) => {
      expect(() => take(bucket(5), 10, wanted, T0)).toThrow(RangeError);
    },
  );

  it('grants no more than the rate within a second of a drained bucket, taken one at a time', () => {
    let state = take(undefined, 5, 5, T0).next;
    let granted = 0;
    for (let ms = 0; ms <= 1000; ms += 10) {
      const result = take(state, 5, 1, T0 + ms);
      granted += result.granted;
      state = result.next;
    }
    expect(granted).toBe(5);
  });
});

describe('take, over any sequence of takes', () => {
  const steps = fc.array(fc.record({ afterMs: fc.integer({ min: 0, max: 3000 }), wanted: fc.nat(50) }), {
    minLength: 1,
    maxLength: 60,
  });
  const rates = fc.integer({ min: 1, max: 10_000 });

  it('never grants more than rate * elapsed seconds + capacity, the promise of the limit', () => {
    fc.assert(
      fc.property(rates, steps, (rate, sequence) => {
        let state: BucketState | undefined;
        let now = T0;
        let granted = 0;
        for (const { afterMs, wanted } of sequence) {
          now += afterMs;
          const result = take(state, rate, wanted, now);
          granted += result.granted;
          state = result.next;
        }
        // In milli-tokens, all integers: the bound is exact.
        return granted * TOKEN <= rate * (now - T0) + capacityMilliTokens(rate);
      }),
    );
  });

  it('holds the bound with a clock that jumps back and forth: only the latest time seen counts', () => {
    fc.assert(
      fc.property(
        rates,
        fc.array(fc.tuple(fc.integer({ min: -5000, max: 5000 }), fc.nat(50))),
        (rate, jumps) => {
          let state: BucketState | undefined;
          let latest = T0;
          let granted = 0;
          for (const [offsetMs, wanted] of [[0, 0] as const, ...jumps]) {
            const now = T0 + offsetMs;
            latest = Math.max(latest, now);
            const result = take(state, rate, wanted, now);
            granted += result.granted;
            state = result.next;
          }
          return granted * TOKEN <= rate * (latest - T0) + capacityMilliTokens(rate);
        },
      ),
    );
  });

  it('keeps the bucket whole and in range, grants at most what is wanted, and waits exactly when short', () => {
    fc.assert(
      fc.property(rates, steps, (rate, sequence) => {
        let state: BucketState | undefined;
        let now = T0;
        for (const { afterMs, wanted } of sequence) {
          now += afterMs;
          const result = take(state, rate, wanted, now);
          const { milliTokens } = result.next;
          if (!Number.isSafeInteger(milliTokens) || milliTokens < 0) return false;
          if (milliTokens > capacityMilliTokens(rate)) return false;
          if (result.granted < 0 || result.granted > wanted) return false;
          if (result.waitSeconds > 0 !== result.granted < wanted) return false;
          state = result.next;
        }
        return true;
      }),
    );
  });

  it('has the rest granted after waiting the wait it gave, when the rest fits in a bucket (nobody else taking)', () => {
    fc.assert(
      fc.property(rates, fc.nat(20_000), fc.nat(20_000), (rate, heldMilliTokens, wanted) => {
        const start = {
          milliTokens: Math.min(heldMilliTokens, capacityMilliTokens(rate)),
          updatedAtMs: T0,
          version: 1,
        };
        const first = take(start, rate, wanted, T0);
        const rest = wanted - first.granted;
        fc.pre(rest > 0 && rest * TOKEN <= capacityMilliTokens(rate));
        const later = take(first.next, rate, rest, T0 + first.waitSeconds * 1000);
        // Enough, and not a second more than needed.
        const sooner = take(first.next, rate, rest, T0 + (first.waitSeconds - 1) * 1000);
        return later.granted === rest && (first.waitSeconds === 1 || sooner.granted < rest);
      }),
    );
  });
});

describe('takeOrReserve', () => {
  it('grants what is there and reserves the rest, each at the whole second its token drips in', () => {
    const result = takeOrReserve(bucket(2), 2, 7, T0);
    expect(result.granted).toBe(2);
    // At 2/s from an empty bucket: tokens at 0.5 s, 1 s, 1.5 s, 2 s, 2.5 s, rounded up.
    expect(result.reservedDelaySeconds).toEqual([1, 1, 2, 2, 3]);
    expect(result.next.milliTokens).toBe(-5 * TOKEN);
    // The next ask stands behind the reservations.
    expect(takeOrReserve(result.next, 2, 1, T0).reservedDelaySeconds).toEqual([3]);
  });

  it('reserves at most 900 s ahead, the longest an SQS copy can wait', () => {
    const result = takeOrReserve(bucket(0), 1, 2000, T0);
    expect(result.granted).toBe(0);
    expect(result.reservedDelaySeconds).toHaveLength(MAX_RESERVATION_SECONDS);
    expect(Math.max(...result.reservedDelaySeconds)).toBe(MAX_RESERVATION_SECONDS);
    expect(takeOrReserve(result.next, 1, 1, T0).reservedDelaySeconds).toEqual([]);
  });

  it('never lets more through than rate * elapsed + capacity, counting each reservation at its time', () => {
    const steps = fc.array(fc.record({ afterMs: fc.integer({ min: 0, max: 3000 }), wanted: fc.nat(50) }), {
      minLength: 1,
      maxLength: 60,
    });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 500 }), steps, (rate, sequence) => {
        let state: BucketState | undefined;
        let now = T0;
        const admissions: number[] = [];
        for (const { afterMs, wanted } of sequence) {
          now += afterMs;
          const result = takeOrReserve(state, rate, wanted, now);
          for (let index = 0; index < result.granted; index += 1) admissions.push(now);
          for (const delay of result.reservedDelaySeconds) admissions.push(now + delay * 1000);
          if (result.granted + result.reservedDelaySeconds.length > wanted) return false;
          state = result.next;
        }
        admissions.sort((a, b) => a - b);
        // By each admission's time, the admissions so far fit the burst plus what dripped in (exact, in milli-tokens).
        return admissions.every(
          (at, index) => (index + 1) * TOKEN <= rate * (at - T0) + capacityMilliTokens(rate),
        );
      }),
    );
  });
});
