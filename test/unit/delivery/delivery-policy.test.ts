import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AttemptResult,
  backoffSeconds,
  DEFAULT_DELIVERY_LIMITS,
  type DeliveryLimits,
  deliveryDecision,
  MAX_RETRY_AFTER_SECONDS,
  retryAfterSeconds,
  sanitiseAnswerStart,
} from '../../../lambdas/delivery/delivery-policy.js';

const LIMITS = DEFAULT_DELIVERY_LIMITS;
const NOW = new Date('2026-11-30T10:00:00Z');
const FIRST = { receiveCount: 1, ageSeconds: 0, now: NOW };
/** Draws the top of the jitter range, so a wait is exactly its back-off ceiling. */
const HIGHEST = () => 1;
const LOWEST = () => 0;

function answered(status: number, extra: Partial<Extract<AttemptResult, { kind: 'answered' }>> = {}) {
  return { kind: 'answered', status, answerStart: '{"error":"nope"}', latencyMs: 120, ...extra } as const;
}

describe('DEFAULT_DELIVERY_LIMITS', () => {
  it('retries for 24 h, backing off from 30 s up to an hour', () => {
    expect(DEFAULT_DELIVERY_LIMITS).toEqual({
      retryPeriodSeconds: 86_400,
      baseBackoffSeconds: 30,
      maxBackoffSeconds: 3600,
    });
  });
});

describe('deliveryDecision', () => {
  it.each([200, 201, 202, 204, 299])('counts HTTP %i as delivered, so the message is deleted', (status) => {
    expect(deliveryDecision(answered(status), FIRST, LIMITS, HIGHEST)).toEqual({ action: 'delivered' });
  });

  it('stops the destination on 410 Gone and keeps the message, rather than dead-lettering or retrying it', () => {
    expect(deliveryDecision(answered(410), FIRST, LIMITS, HIGHEST)).toEqual({
      action: 'stop',
      reason: expect.stringContaining('410'),
    });
  });

  it.each([408, 425, 429, 500, 502, 503, 504, 599])('retries HTTP %i, a "not now" answer', (status) => {
    expect(deliveryDecision(answered(status), FIRST, LIMITS, HIGHEST)).toEqual({
      action: 'retry',
      afterSeconds: 30,
      reason: `HTTP ${status}`,
    });
  });

  it('retries a timeout and a connection error, which say nothing about the message itself', () => {
    expect(deliveryDecision({ kind: 'timeout', latencyMs: 10_000 }, FIRST, LIMITS, HIGHEST)).toEqual({
      action: 'retry',
      afterSeconds: 30,
      reason: 'timed out after 10000 ms',
    });
    const refused = { kind: 'connection-error', code: 'ECONNREFUSED', latencyMs: 3 } as const;
    expect(deliveryDecision(refused, FIRST, LIMITS, HIGHEST)).toEqual({
      action: 'retry',
      afterSeconds: 30,
      reason: 'connection error ECONNREFUSED',
    });
  });

  it.each([100, 101, 199, 400, 401, 403, 404, 405, 409, 413, 415, 422, 451, 499, 600])(
    'dead-letters HTTP %i at once as permanent_status, with the status and the start of the answer',
    (status) => {
      expect(deliveryDecision(answered(status), FIRST, LIMITS, HIGHEST)).toEqual({
        action: 'dead-letter',
        errorClass: 'permanent_status',
        reason: expect.stringContaining(`HTTP ${status}`),
        status,
        answerStart: '{"error":"nope"}',
      });
    },
  );

  it.each([300, 301, 302, 303, 304, 307, 308])(
    'dead-letters a %i redirect as permanent_status, since no redirect is followed',
    (status) => {
      const decision = deliveryDecision(answered(status), FIRST, LIMITS, HIGHEST);
      expect(decision).toMatchObject({ action: 'dead-letter', errorClass: 'permanent_status', status });
      expect(decision).toMatchObject({ reason: `HTTP ${status} (redirects are not followed)` });
    },
  );

  it('dead-letters a refused address (e.g. a private IP) at once, never retrying it', () => {
    const result = { kind: 'refused-address', reason: 'resolves to a private address' } as const;
    expect(deliveryDecision(result, { receiveCount: 1, ageSeconds: 0 }, LIMITS)).toEqual({
      action: 'dead-letter',
      errorClass: 'refused_address',
      reason: 'refused address: resolves to a private address',
    });
  });

  it('never puts the answer body into a retry or exhaustion reason (only into answerStart)', () => {
    const result = answered(503, { answerStart: 'card 4242424242424242 declined' });
    const retry = deliveryDecision(result, FIRST, LIMITS, HIGHEST);
    const exhausted = deliveryDecision(result, { ...FIRST, ageSeconds: 86_399 }, LIMITS, HIGHEST);
    for (const decision of [retry, exhausted]) {
      expect('reason' in decision && decision.reason).not.toContain('4242');
    }
    expect(exhausted).toMatchObject({ answerStart: 'card 4242424242424242 declined' });
  });

  it('sanitises a connection error code, which ends up in a DLQ attribute and a terminal', () => {
    const result = { kind: 'connection-error', code: 'E\nBAD\u001b[31m', latencyMs: 1 } as const;
    expect(deliveryDecision(result, FIRST, LIMITS, HIGHEST)).toMatchObject({
      reason: 'connection error E\\x0aBAD\\x1b[31m',
    });
  });

  describe('back-off', () => {
    it.each([
      [1, 30],
      [2, 60],
      [3, 120],
      [6, 960],
      [7, 1920],
      [8, 3600],
      [30, 3600],
      [10_000, 3600],
    ])(
      'after receive %i waits at most %i s: base * 2^(n-1), capped at the maximum',
      (receiveCount, ceiling) => {
        const attempt = { receiveCount, ageSeconds: 0, now: NOW };
        expect(deliveryDecision(answered(503), attempt, LIMITS, HIGHEST)).toMatchObject({
          afterSeconds: ceiling,
        });
        expect(deliveryDecision(answered(503), attempt, LIMITS, LOWEST)).toMatchObject({
          afterSeconds: ceiling / 2,
        });
      },
    );

    it('keeps every jittered wait within [ceiling / 2, ceiling] (equal jitter), in whole seconds', () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 200 }),
          fc.double({ min: 0, max: 1, noNaN: true }),
          (count, draw) => {
            const ceiling = Math.min(3600, 30 * 2 ** (count - 1));
            const wait = backoffSeconds(count, LIMITS, () => draw);
            return Number.isInteger(wait) && wait >= ceiling / 2 && wait <= ceiling;
          },
        ),
      );
    });

    it('spreads messages that failed together instead of retrying them all at the same second', () => {
      const waits = [0, 0.25, 0.5, 0.75, 0.999].map((draw) => backoffSeconds(3, LIMITS, () => draw));
      expect(waits).toEqual([60, 75, 90, 105, 120]);
    });

    it('reads a receive count below 1 (a fake or a bug upstream) as the first attempt', () => {
      expect(backoffSeconds(0, LIMITS, HIGHEST)).toBe(30);
      expect(backoffSeconds(-5, LIMITS, HIGHEST)).toBe(30);
    });

    it('stays a finite number of seconds when the base is 0 and the count is huge', () => {
      const limits: DeliveryLimits = { ...LIMITS, baseBackoffSeconds: 0 };
      expect(backoffSeconds(5000, limits, HIGHEST)).toBe(0);
    });
  });

  describe('Retry-After', () => {
    function waitFor(retryAfter: string, random = HIGHEST) {
      return deliveryDecision(answered(429, { retryAfter }), FIRST, LIMITS, random);
    }

    it('waits the delta-seconds asked for when longer than the back-off', () => {
      expect(waitFor('120')).toEqual({
        action: 'retry',
        afterSeconds: 120,
        reason: 'HTTP 429 (Retry-After)',
      });
      expect(waitFor('  120 ')).toMatchObject({ afterSeconds: 120 });
    });

    it('never retries sooner than the back-off, even when Retry-After asks for less', () => {
      expect(waitFor('5')).toEqual({ action: 'retry', afterSeconds: 30, reason: 'HTTP 429' });
      expect(waitFor('0')).toMatchObject({ afterSeconds: 30 });
    });

    it.each([
      ['IMF-fixdate', 'Mon, 30 Nov 2026 10:10:00 GMT'],
      ['obsolete RFC 850', 'Monday, 30-Nov-26 10:10:00 GMT'],
      ['obsolete asctime', 'Mon Nov 30 10:10:00 2026'],
    ])('waits until an HTTP-date in %s form', (_form, value) => {
      expect(waitFor(value)).toMatchObject({ action: 'retry', afterSeconds: 600 });
      expect(retryAfterSeconds(value, NOW)).toBe(600);
    });

    it('reads a single-digit asctime day, which is space-padded', () => {
      expect(retryAfterSeconds('Mon Nov 30 10:00:09 2026', NOW)).toBe(9);
      const lateEvening = new Date('2026-11-30T23:00:00Z');
      expect(retryAfterSeconds('Tue Dec  1 00:00:00 2026', lateEvening)).toBe(3600);
    });

    it('reads an HTTP-date in the past as no wait, so the back-off applies', () => {
      expect(retryAfterSeconds('Sun, 29 Nov 2026 10:00:00 GMT', NOW)).toBe(0);
      expect(waitFor('Sun, 29 Nov 2026 10:00:00 GMT')).toMatchObject({ afterSeconds: 30 });
    });

    it.each([
      'soon',
      '',
      '12.5',
      '-1',
      '+60',
      '1e3',
      '0x10',
      '120 s',
      '120, 240',
      'Mon, 30 Nov 2026 10:10:00 +0000',
      'Mon, 30 Nov 2026 10:10:00 UTC',
      'Mon, 30 Nov 2026 10:10:00',
      'mon, 30 nov 2026 10:10:00 GMT',
      'Tue, 30 Nov 2026 10:10:00 GMT',
      'Mon, 31 Nov 2026 10:10:00 GMT',
      'Mon, 30 Nov 2026 24:10:00 GMT',
      'Mon, 30 Nov 2026 10:60:00 GMT',
      '2026-11-30T10:10:00Z',
      'Mon, 30 Nov 2026 10:10:00 GMT trailing',
    ])('ignores the garbled value %j, falling back to the back-off rather than guessing', (value) => {
      expect(retryAfterSeconds(value, NOW)).toBeUndefined();
      expect(waitFor(value)).toEqual({ action: 'retry', afterSeconds: 30, reason: 'HTTP 429' });
    });

    it.each([
      ['delta-seconds', '99999999'],
      ['delta-seconds beyond any number', `1${'0'.repeat(400)}`],
      ['an HTTP-date a year ahead', 'Tue, 30 Nov 2027 10:00:00 GMT'],
    ])('caps a huge Retry-After (%s) at 43200 s, the longest SQS can hide a message', (_name, value) => {
      expect(retryAfterSeconds(value, NOW)).toBe(MAX_RETRY_AFTER_SECONDS);
      expect(waitFor(value)).toMatchObject({ action: 'retry', afterSeconds: 43_200 });
    });

    it('reads an RFC 850 two-digit year more than 50 years ahead as last century (RFC 9110)', () => {
      // 30 Nov 1977 was a Wednesday; read as 2077 it would be a Tuesday, and refused for the weekday mismatch.
      expect(retryAfterSeconds('Wednesday, 30-Nov-77 10:00:00 GMT', NOW)).toBe(0);
      expect(retryAfterSeconds('Tuesday, 30-Nov-77 10:00:00 GMT', NOW)).toBeUndefined();
    });

    it('is ignored on a permanent status: a 400 with Retry-After is still dead-lettered', () => {
      const decision = deliveryDecision(answered(400, { retryAfter: '60' }), FIRST, LIMITS, HIGHEST);
      expect(decision).toMatchObject({ action: 'dead-letter', errorClass: 'permanent_status' });
    });
  });

  describe('retry period', () => {
    it('dead-letters as retries_exhausted, with the last status and answer, once the next retry would outlast it', () => {
      const attempt = { receiveCount: 40, ageSeconds: 86_400 - 3599, now: NOW };
      expect(deliveryDecision(answered(503), attempt, LIMITS, HIGHEST)).toEqual({
        action: 'dead-letter',
        errorClass: 'retries_exhausted',
        reason: 'gave up after 40 attempt(s) over 23 h; last: HTTP 503',
        status: 503,
        answerStart: '{"error":"nope"}',
      });
    });

    it('still retries when the next retry lands exactly at the end of the period', () => {
      const attempt = { receiveCount: 40, ageSeconds: 86_400 - 3600, now: NOW };
      expect(deliveryDecision(answered(503), attempt, LIMITS, HIGHEST)).toMatchObject({
        action: 'retry',
        afterSeconds: 3600,
      });
    });

    it('names the last failure of an exhausted timeout or connection error, with no status to report', () => {
      const attempt = { receiveCount: 3, ageSeconds: 86_390, now: NOW };
      const timeout = deliveryDecision({ kind: 'timeout', latencyMs: 10_000 }, attempt, LIMITS, HIGHEST);
      expect(timeout).toEqual({
        action: 'dead-letter',
        errorClass: 'retries_exhausted',
        reason: 'gave up after 3 attempt(s) over 24 h; last: timed out after 10000 ms',
      });
      const reset = { kind: 'connection-error', code: 'ECONNRESET', latencyMs: 5 } as const;
      expect(deliveryDecision(reset, attempt, LIMITS, HIGHEST)).toMatchObject({
        errorClass: 'retries_exhausted',
        reason: expect.stringContaining('last: connection error ECONNRESET'),
      });
    });

    it('dead-letters when an endpoint asks, via Retry-After, for a wait past the end of the period', () => {
      const attempt = { receiveCount: 2, ageSeconds: 80_000, now: NOW };
      const decision = deliveryDecision(answered(429, { retryAfter: '7200' }), attempt, LIMITS, HIGHEST);
      expect(decision).toMatchObject({ action: 'dead-letter', errorClass: 'retries_exhausted', status: 429 });
    });

    it('follows configured limits rather than the defaults', () => {
      const limits: DeliveryLimits = {
        retryPeriodSeconds: 600,
        baseBackoffSeconds: 10,
        maxBackoffSeconds: 40,
      };
      const attempt = (receiveCount: number, ageSeconds: number) => ({ receiveCount, ageSeconds, now: NOW });
      expect(deliveryDecision(answered(500), attempt(1, 0), limits, HIGHEST)).toMatchObject({
        afterSeconds: 10,
      });
      expect(deliveryDecision(answered(500), attempt(9, 0), limits, HIGHEST)).toMatchObject({
        afterSeconds: 40,
      });
      expect(deliveryDecision(answered(500), attempt(9, 561), limits, HIGHEST)).toMatchObject({
        action: 'dead-letter',
        errorClass: 'retries_exhausted',
      });
    });
  });
});

describe('sanitiseAnswerStart', () => {
  it('keeps printable ASCII as it is', () => {
    expect(sanitiseAnswerStart(Buffer.from('{"error":"invalid signature"}'))).toBe(
      '{"error":"invalid signature"}',
    );
  });

  it('escapes control bytes, so an answer cannot move the cursor or recolour a terminal', () => {
    expect(sanitiseAnswerStart(Buffer.from('a\r\nb\tc\u001b[2J\u0000\u007f'))).toBe(
      'a\\x0d\\x0ab\\x09c\\x1b[2J\\x00\\x7f',
    );
  });

  it('escapes every byte of non-ASCII text, so the result is ASCII whatever the encoding', () => {
    expect(sanitiseAnswerStart(Buffer.from('café', 'utf8'))).toBe('caf\\xc3\\xa9');
    expect(sanitiseAnswerStart(Buffer.from([0xff, 0xfe]))).toBe('\\xff\\xfe');
  });

  it('escapes the backslash itself, so a literal "\\x41" in an answer is not read as an escaped byte', () => {
    expect(sanitiseAnswerStart(Buffer.from('\\x41'))).toBe('\\x5cx41');
  });

  it('keeps at most max bytes of the answer (256 by default)', () => {
    expect(sanitiseAnswerStart(Buffer.alloc(1000, 'a'))).toHaveLength(256);
    expect(sanitiseAnswerStart(Buffer.from('abcdef'), 3)).toBe('abc');
    expect(sanitiseAnswerStart(Buffer.from('é'), 1)).toBe('\\xc3');
    expect(sanitiseAnswerStart(Buffer.from('abc'), 0)).toBe('');
  });

  it('always yields printable ASCII only, safe as an SQS message attribute, for any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) =>
        /^[\x20-\x7e]*$/.test(sanitiseAnswerStart(Buffer.from(bytes))),
      ),
    );
  });
});
