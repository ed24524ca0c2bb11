import { describe, expect, it } from 'vitest';
import type { ScheduledAnswer } from '../../../soak/delivery-faults.js';
import {
  checkDestination,
  type DestinationCheckInputs,
  originalExpectations,
  type PublishedPaymentEvent,
  paymentEventExpectations,
} from '../../../soak/destination-check.js';
import { bodyDigest, type ReceivedAttempt, type ReceiverAnswer } from '../../../soak/receiver.js';
import type { AcceptedWebhook } from '../../../soak/sender.js';

// The soak's check of a delivery destination: each test breaks one property a delivery bug would break (an event
// never delivered, one delivered that was never published or not wanted, a bad signature, a changed body, a retry
// sooner than Retry-After, a request while stopped, a dead letter) and expects it named; and a run that injected
// nothing of a kind must not pass as if it had.

const event = (id: string, detailType = 'payment.succeeded', extra: Record<string, unknown> = {}) =>
  ({
    detailType,
    detail: { id, gateway: 'stripe', reference: `ORDER-${id}`, to: detailType.slice(8), ...extra },
  }) as PublishedPaymentEvent;

const bodyOf = (published: PublishedPaymentEvent, timestamp = '2026-11-30T10:00:00Z') =>
  JSON.stringify({ type: published.detailType, timestamp, data: published.detail });

let seq = 0;
function attempt(
  id: string,
  body: string,
  answer: ReceiverAnswer,
  atMs = 0,
  extra: Partial<ReceivedAttempt> = {},
): ReceivedAttempt {
  seq += 1;
  return { destination: 'shop', seq, atMs, id, verified: true, headers: {}, body, answer, ...extra };
}

const OK: ScheduledAnswer = { kind: 'accept', status: 200 };
const WANTED = new Set(['payment.succeeded', 'payment.refunded']);

const A = event('evt-a');
const B = event('evt-b', 'payment.refunded');
const DISPUTED = event('evt-d', 'payment.disputed');

/** Every kind injected once on A and B, each then delivered: a run with nothing wrong. */
function cleanAttempts(): ReceivedAttempt[] {
  const a = bodyOf(A);
  const b = bodyOf(B);
  return [
    attempt('evt-a', a, { kind: 'error', status: 503, cause: 'planned' }, 0),
    attempt(
      'evt-b',
      b,
      { kind: 'throttle', retryAfter: { seconds: 40, form: 'seconds' }, cause: 'planned' },
      0,
      {
        retryAfter: '40',
      },
    ),
    attempt('evt-a', a, { kind: 'timeout', cause: 'planned' }, 20_000),
    attempt('evt-a', a, { kind: 'reset', cause: 'outage' }, 95_000),
    attempt('evt-b', b, { kind: 'gone', cause: 'stop' }, 41_000),
    attempt('evt-a', a, OK, 100_000),
    attempt('evt-b', b, OK, 100_500),
  ];
}

function inputs(overrides: Partial<DestinationCheckInputs> = {}): DestinationCheckInputs {
  return {
    destination: 'shop',
    format: 'payment-event',
    expected: paymentEventExpectations([A, B, DISPUTED], (each) => WANTED.has(each.detailType)),
    attempts: cleanAttempts(),
    deadLetters: [],
    queueLeft: 0,
    requiredKinds: ['error', 'timeout', 'throttle', 'reset', 'gone'],
    stop: { goneAtMs: 41_000, stoppedSeen: true, resumed: true, resumedAtMs: 90_000, heldAtResume: 1 },
    stopGraceMs: 5000,
    breakerOpens: 1,
    breakerRequired: true,
    retryAfterCheckedFromSeconds: 10,
    retryAfterToleranceMs: 2000,
    retryAfterRequired: true,
    ...overrides,
  };
}

describe('checkDestination', () => {
  it('passes a run where every wanted event arrived after every kind of failure, and counts it', () => {
    const check = checkDestination(inputs());
    expect(check.problems).toEqual([]);
    expect(check).toMatchObject({
      published: 3,
      wanted: 2,
      unwantedPublished: 1,
      delivered: 2,
      missing: 0,
      requests: 7,
      accepted: 2,
      injected: { error: 1, timeout: 1, throttle: 1, reset: 1, gone: 1 },
      outageFailures: 1,
      retryAfterChecked: 1,
      retryAfterEarly: 0,
      requestsWhileStopped: 0,
    });
  });

  it('names a wanted event that was attempted but never answered 2xx, and one never attempted', () => {
    const attempts = cleanAttempts().filter(
      (each) => !(each.id === 'evt-a' && each.answer.kind === 'accept'),
    );
    const check = checkDestination(
      inputs({
        attempts,
        expected: paymentEventExpectations([A, B, event('evt-c')], (each) => WANTED.has(each.detailType)),
      }),
    );
    expect(check.missing).toBe(2);
    expect(check.delivered).toBe(1);
    expect(check.problems).toContainEqual(
      expect.stringMatching(/never delivered payment\.succeeded .*evt-a.*error, timeout, reset/),
    );
    expect(check.problems).toContainEqual(expect.stringMatching(/never delivered .*evt-c.*never attempted/));
  });

  it('fails a delivery of an event never published, and of one the filter does not want', () => {
    const stray = event('evt-x');
    const attempts = [
      ...cleanAttempts(),
      attempt('evt-x', bodyOf(stray), OK),
      attempt('evt-d', bodyOf(DISPUTED), OK),
    ];
    const check = checkDestination(inputs({ attempts }));
    expect(check.unexpected).toBe(1);
    expect(check.unwantedDelivered).toBe(1);
    expect(check.problems).toContainEqual(
      expect.stringMatching(/delivered evt-x, which the stack never published/),
    );
    expect(check.problems).toContainEqual(
      expect.stringMatching(/delivered payment\.disputed .*which it does not want/),
    );
  });

  it('fails a request whose signature did not verify, even if the event was delivered later', () => {
    const attempts = [
      attempt(
        'evt-a',
        bodyOf(A),
        { kind: 'refused', status: 401, reason: 'No matching signature found' },
        0,
        {
          verified: false,
          verifyError: 'No matching signature found',
        },
      ),
      ...cleanAttempts(),
    ];
    const check = checkDestination(inputs({ attempts }));
    expect(check.signatureFailures).toBe(1);
    expect(check.problems).toContainEqual(
      expect.stringMatching(/failed verification: No matching signature found/),
    );
  });

  it('fails a body that is not the published event: another amount, another type, keys out of order', () => {
    const changed = { ...A, detail: { ...A.detail, amount: '999' } } as PublishedPaymentEvent;
    const reordered = JSON.stringify({
      timestamp: '2026-11-30T10:00:00Z',
      type: A.detailType,
      data: A.detail,
    });
    const retyped = JSON.stringify({
      type: 'payment.refunded',
      timestamp: '2026-11-30T10:00:00Z',
      data: A.detail,
    });
    for (const [body, why] of [
      [bodyOf(changed), /data differs from the published event/],
      [reordered, /keys are timestamp,type,data/],
      [retyped, /type payment\.refunded, published as payment\.succeeded/],
      ['not json', /not JSON/],
    ] as const) {
      const check = checkDestination(inputs({ attempts: [...cleanAttempts(), attempt('evt-a', body, OK)] }));
      expect(check.bodyMismatches, String(why)).toBeGreaterThan(0);
      expect(check.problems).toContainEqual(expect.stringMatching(why));
    }
  });

  it('requires an event published once to arrive byte-identical every time; a re-published one may carry a new timestamp', () => {
    const later = attempt('evt-a', bodyOf(A, '2026-11-30T10:00:07Z'), OK, 120_000);
    const once = checkDestination(inputs({ attempts: [...cleanAttempts(), later] }));
    expect(once.problems).toContainEqual(
      expect.stringMatching(/evt-a\) was published once but arrived as 2 different bodies/),
    );
    const twice = checkDestination(
      inputs({
        attempts: [...cleanAttempts(), later],
        expected: paymentEventExpectations([A, B, A], (each) => WANTED.has(each.detailType)),
      }),
    );
    expect(twice.problems).toEqual([]);
    expect(twice).toMatchObject({ republished: 1, republishedDiffering: 1, deliveredMoreThanOnce: 1 });
  });

  it('fails a retry that came sooner than the Retry-After of the 429 before it, and times only ids queued once', () => {
    const attempts = cleanAttempts().map((each) =>
      each.id === 'evt-b' && each.answer.kind === 'gone' ? { ...each, atMs: 30_000 } : each,
    );
    const check = checkDestination(
      inputs({ attempts, stop: { goneAtMs: 30_000, stoppedSeen: true, resumed: true, resumedAtMs: 90_000 } }),
    );
    expect(check.retryAfterEarly).toBe(1);
    expect(check.problems).toContainEqual(
      expect.stringMatching(/evt-b was retried 30\.0 s after a 429 asking for Retry-After 40/),
    );
    // Within the tolerance is in time.
    const close = cleanAttempts().map((each) =>
      each.id === 'evt-b' && each.answer.kind === 'gone' ? { ...each, atMs: 38_500 } : each,
    );
    expect(
      checkDestination(
        inputs({
          attempts: close,
          stop: { goneAtMs: 38_500, stoppedSeen: true, resumed: true, resumedAtMs: 90_000 },
        }),
      ).retryAfterEarly,
    ).toBe(0);
    // A re-published id has a message per copy, each on its own schedule: its attempts are not timed.
    const republished = checkDestination(
      inputs({
        attempts,
        stop: { goneAtMs: 30_000, stoppedSeen: true, resumed: true, resumedAtMs: 90_000 },
        expected: paymentEventExpectations([A, B, B, DISPUTED], (each) => WANTED.has(each.detailType)),
        retryAfterRequired: false,
      }),
    );
    expect(republished.retryAfterEarly).toBe(0);
    expect(republished.problems).toEqual([]);
  });

  it('fails a request that arrived while the destination was stopped, past the grace for batches under way', () => {
    const a = bodyOf(A);
    const inGrace = attempt('evt-a', a, { kind: 'error', status: 500, cause: 'planned' }, 44_000);
    const stopped = attempt('evt-a', a, { kind: 'error', status: 500, cause: 'planned' }, 60_000);
    expect(checkDestination(inputs({ attempts: [...cleanAttempts(), inGrace] })).requestsWhileStopped).toBe(
      0,
    );
    const check = checkDestination(inputs({ attempts: [...cleanAttempts(), stopped] }));
    expect(check.requestsWhileStopped).toBe(1);
    expect(check.problems).toContainEqual(
      expect.stringMatching(/1 request\(s\) arrived while it was stopped/),
    );
  });

  it('fails a stop that was never seen or never resumed', () => {
    const check = checkDestination(
      inputs({ stop: { goneAtMs: 41_000, stoppedSeen: false, resumed: false, error: 'no local stack' } }),
    );
    expect(check.problems).toContainEqual(
      expect.stringMatching(/status never showed the destination stopped/),
    );
    expect(check.problems).toContainEqual(expect.stringMatching(/resume did not resume it: no local stack/));
    expect(checkDestination(inputs({ stop: undefined })).problems).toContainEqual(
      expect.stringMatching(/no 410 was answered/),
    );
  });

  it('does not pass a run that injected nothing of a required kind, nor one whose breaker never opened', () => {
    const attempts = cleanAttempts().filter((each) => each.answer.kind !== 'timeout');
    const check = checkDestination(inputs({ attempts, breakerOpens: 0 }));
    expect(check.problems).toContainEqual(
      'shop: no timeout was injected, so the run proved nothing about it',
    );
    expect(check.problems).toContainEqual(expect.stringMatching(/circuit breaker never opened/));
    const untimed = cleanAttempts().filter((each) => each.answer.kind !== 'throttle');
    expect(checkDestination(inputs({ attempts: untimed })).problems).toContainEqual(
      expect.stringMatching(/no retry after a 429 with Retry-After >= 10 s was timed/),
    );
  });

  it('fails a dead letter and a queue that never drained', () => {
    const check = checkDestination(
      inputs({
        deadLetters: [{ id: 'evt-a', errorClass: 'retries_exhausted', reason: 'gave up' }],
        queueLeft: 3,
      }),
    );
    expect(check.problems).toContainEqual('shop: dead-lettered evt-a: retries_exhausted (gave up)');
    expect(check.problems).toContainEqual(expect.stringMatching(/3 message\(s\) still on its queue/));
  });
});

describe('originalExpectations', () => {
  const signedBody = '{"event":"charge.completed","data":{"tx_ref":"ORDER-1"}}';
  const signed: AcceptedWebhook = {
    gateway: 'flutterwave',
    body: signedBody,
    headers: { 'Content-Type': 'application/json', 'flutterwave-signature': 'sig-1', 'user-agent': 'x' },
    kind: 'signed',
  };
  // The same genuine bytes captured and replayed with the leaked verif-hash alone: a claim, never to be forwarded.
  const claimOfSame: AcceptedWebhook = {
    gateway: 'flutterwave',
    body: signedBody,
    headers: { 'content-type': 'application/json', 'verif-hash': 'leaked' },
    kind: 'claim',
  };
  const claimOnly: AcceptedWebhook = { ...claimOfSame, body: '{"event":"charge.completed","amount":1}' };
  const poison: AcceptedWebhook = { ...signed, body: '{"poison":true}', kind: 'poison' };
  const expected = originalExpectations([signed, claimOfSame, claimOnly, signed, poison]);
  const byId = new Map(expected.map((each) => [each.id, each]));
  const delivered = (body: string, headers: Record<string, string>) =>
    attempt(bodyDigest(body), body, OK, 0, { headers });

  it('wants each signed body once, and never a claim-only or poison body', () => {
    expect(expected).toHaveLength(3);
    expect(byId.get(bodyDigest(signedBody))?.wanted).toBe(true);
    expect(byId.get(bodyDigest(claimOnly.body))?.wanted).toBe(false);
    expect(byId.get(bodyDigest(poison.body))?.wanted).toBe(false);
  });

  it('accepts the exact bytes with a signed copy’s headers, whatever else the transport adds', () => {
    const headers = { 'content-type': 'application/json', 'flutterwave-signature': 'sig-1', host: 'h' };
    expect(byId.get(bodyDigest(signedBody))?.mismatch(delivered(signedBody, headers))).toBeUndefined();
  });

  it('refuses the claim’s headers on a signed body, other bytes, and a signature the gateway did not send', () => {
    const wanted = byId.get(bodyDigest(signedBody));
    const claimHeaders = { 'content-type': 'application/json', 'verif-hash': 'leaked' };
    expect(wanted?.mismatch(delivered(signedBody, claimHeaders))).toMatch(/signature headers/);
    expect(
      wanted?.mismatch(
        attempt(bodyDigest(signedBody), `${signedBody} `, OK, 0, {
          headers: { 'content-type': 'application/json', 'flutterwave-signature': 'sig-1' },
        }),
      ),
    ).toMatch(/body differs/);
    expect(
      wanted?.mismatch(
        delivered(signedBody, {
          'content-type': 'application/json',
          'flutterwave-signature': 'sig-1',
          'webhook-signature': 'v1,x',
        }),
      ),
    ).toMatch(/webhook-signature/);
  });
});
