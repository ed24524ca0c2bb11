import type { SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import type { StructuredLog } from '../../../lambdas/common/log.js';
import {
  admitBatch,
  RATE_RESERVED_ATTRIBUTE,
  RESERVATION_LATE_MS,
  reservationAttribute,
} from '../../../lambdas/delivery/admission.js';
import type { DestinationSettings } from '../../../lambdas/delivery/destinations.js';
import type { RateGrant, RateLimiter } from '../../../lambdas/ports/deliveries.js';

const SETTINGS: DestinationSettings = {
  url: 'https://shop.example.com/hooks',
  format: 'payment-event',
  timeoutSeconds: 10,
  retryHours: 24,
  maxConcurrency: 2,
  allowPrivateNetwork: false,
  rateLimitPerSecond: 2,
};

const log = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
} as unknown as StructuredLog;

const NOW = Date.parse('2026-11-30T10:00:00Z');

/** A record; `reserved`: a held copy whose token is due `dueInMs` from now, reserved at `rate` per second. */
function record(
  id: string,
  options: { reserved?: boolean; receiveCount?: number; dueInMs?: number; rate?: number } = {},
): SQSRecord {
  const value = reservationAttribute(NOW + (options.dueInMs ?? 0), options.rate ?? 2);
  return {
    messageId: id,
    body: '{}',
    attributes: { ApproximateReceiveCount: String(options.receiveCount ?? 1) },
    messageAttributes: options.reserved
      ? { [RATE_RESERVED_ATTRIBUTE]: { stringValue: value, dataType: 'String' } }
      : {},
  } as unknown as SQSRecord;
}

/** A limiter answering as scripted, noting how many tokens each call asked for. */
function limiter(answer: (wanted: number) => RateGrant) {
  const asked: number[] = [];
  const rateLimiter: RateLimiter = {
    acquire: async (_destination, _rate, wanted) => {
      asked.push(wanted);
      return answer(wanted);
    },
  };
  return { asked, deps: { rateLimiter, now: () => new Date(NOW), log } };
}

describe('admitBatch and the rate limit', () => {
  it('lets a copy through on the first receive of its reservation without asking, and asks for the others only', async () => {
    const { asked, deps } = limiter(() => ({ granted: 1, waitSeconds: 0, reservedDelaySeconds: [1] }));
    const admitted = await admitBatch(deps, 'shop', SETTINGS, [
      record('reserved', { reserved: true }),
      record('fresh-1'),
      record('fresh-2'),
    ]);
    expect(asked).toEqual([2]);
    expect(admitted.attempt.map((item) => item.messageId)).toEqual(['reserved', 'fresh-1']);
    expect(admitted.held).toHaveLength(1);
    expect(admitted.held[0]).toMatchObject({ outcome: 'throttled', reserved: true });
    expect(admitted.held[0]?.records.map((item) => item.messageId)).toEqual(['fresh-2']);
    expect(admitted.held[0]?.delaySeconds(0)).toBe(1);
  });

  it('makes a reserved copy that comes back again (it failed) ask like any other: a reservation is used once', async () => {
    const { asked, deps } = limiter(() => ({ granted: 0, waitSeconds: 0, reservedDelaySeconds: [3] }));
    const admitted = await admitBatch(deps, 'shop', SETTINGS, [
      record('again', { reserved: true, receiveCount: 2 }),
    ]);
    expect(asked).toEqual([1]);
    expect(admitted.attempt).toEqual([]);
    expect(admitted.held[0]?.delaySeconds(0)).toBe(3);
  });

  it('holds what it could neither grant nor reserve, unreserved, for as long as the limiter says', async () => {
    const { deps } = limiter(() => ({ granted: 0, waitSeconds: 900, reservedDelaySeconds: [] }));
    const admitted = await admitBatch(deps, 'shop', SETTINGS, [record('a'), record('b')]);
    expect(admitted.held).toEqual([
      expect.objectContaining({ outcome: 'throttled', records: [expect.anything(), expect.anything()] }),
    ]);
    expect(admitted.held[0]?.reserved).toBeUndefined();
    expect(admitted.held[0]?.delaySeconds(0)).toBe(900);
  });

  it('makes a reserved copy that comes too late, or for another rate, ask: a stale slot is never used', async () => {
    const { asked, deps } = limiter((wanted) => ({
      granted: 0,
      waitSeconds: 0,
      reservedDelaySeconds: Array(wanted).fill(1),
    }));
    const admitted = await admitBatch(deps, 'shop', SETTINGS, [
      // Due a minute ago: the function was throttled, or the endpoint slow; its slot is gone.
      record('late', { reserved: true, dueInMs: -60_000 }),
      record('just-late', { reserved: true, dueInMs: -RESERVATION_LATE_MS - 1 }),
      // Reserved at 5/s; the destination is now at 2/s.
      record('old-rate', { reserved: true, rate: 5 }),
      // On time (within the tolerance), at this rate: let through.
      record('on-time', { reserved: true, dueInMs: -RESERVATION_LATE_MS }),
    ]);
    expect(admitted.attempt.map((item) => item.messageId)).toEqual(['on-time']);
    expect(asked).toEqual([3]);
  });
});
