import { describe, expect, it } from 'vitest';
import { devSecret, readSample, SIGNERS } from '../../../events/index.js';
import { inProgressExpirySeconds, PRIORITIES, PRIORITY_QUEUES } from '../../../lambdas/definitions.js';
import { moneyFromMinor } from '../../../lambdas/domain/money.js';
import { ImpossibleEventError } from '../../../lambdas/domain/payment.js';
import { type WebhookEvent, webhookEventToJson } from '../../../lambdas/domain/webhook-event.js';
import { ADAPTERS } from '../../../lambdas/gateways/registry.js';
import { DEFAULT_GATEWAY_SETTINGS } from '../../../lambdas/gateways/settings.js';
import {
  backOffSeconds,
  classifyFailure,
  inProgressDelaySeconds,
  transientClass,
} from '../../../lambdas/processing/consumer.js';
import { InvalidMessageError, parseQueueMessage } from '../../../lambdas/processing/queue-message.js';
import { webhookRequest } from '../../support/requests.js';

const EVENT: WebhookEvent = {
  gateway: 'stripe',
  eventId: 'evt_1',
  eventType: 'payment_intent.succeeded',
  kind: 'payment.succeeded',
  gatewayPaymentId: 'pi_1',
  money: moneyFromMinor('2000', 'USD'),
  mode: 'test',
  occurredAt: '2026-11-24T10:00:00.000Z',
  receivedAt: '2026-11-24T10:00:01.000Z',
  priority: 'high',
  requestId: 'req-1',
  payload: '{"id":"evt_1"}',
};

const body = (overrides: Record<string, unknown> = {}) =>
  JSON.stringify({ ...webhookEventToJson(EVENT), ...overrides });

describe('parseQueueMessage', () => {
  it('reads back exactly the event ingest queued', () => {
    expect(parseQueueMessage(body())).toEqual(EVENT);
  });

  it('writes version 2 and reads back the fact id and the running refunded total exactly', () => {
    const refund: WebhookEvent = {
      ...EVENT,
      kind: 'refund.succeeded',
      eventType: 'charge.refunded',
      factId: 're_1',
      refundedTotal: moneyFromMinor('123456789012345678901', 'ETH'),
    };
    expect(JSON.parse(JSON.stringify(webhookEventToJson(refund))).version).toBe(2);
    expect(parseQueueMessage(JSON.stringify(webhookEventToJson(refund)))).toEqual(refund);
  });

  it.each([
    ['razorpay', 'payment.captured', 'pay_Q8mN2xK7rT4vLa', undefined],
    ['razorpay', 'order.paid', 'pay_Q8mN2xK7rT4vLa', undefined],
    ['stripe', 'charge.refunded', undefined, 1500n],
    ['paystack', 'refund.processed', 'RFD-1001-1', undefined],
    ['adyen', 'REFUND', 'T4DKQH2VJ8RSMS82', undefined],
  ] as const)(
    'reads the fact fields of a version 1 %s %s message again from its payload, as ingest reads them now',
    (gateway, sample, factId, refundedTotal) => {
      const signed = SIGNERS[gateway](readSample(gateway, sample), { secret: devSecret(gateway) });
      const [now] = ADAPTERS[gateway].normalise(
        webhookRequest(signed.body, signed.headers),
        DEFAULT_GATEWAY_SETTINGS,
      ).events;
      if (!now) throw new Error('no event');
      const {
        factId: _factId,
        refundedTotal: _total,
        version: _version,
        ...previous
      } = webhookEventToJson(now);
      const read = parseQueueMessage(JSON.stringify({ ...previous, version: 1 }));
      expect(read.factId).toBe(factId);
      expect(read.refundedTotal?.amountMinor).toBe(refundedTotal);
      expect(read).toEqual(now);
    },
  );

  it('reads the claims an answer settles only from a synthetic (reconciler) event, never from a webhook', () => {
    const synthetic = body({ eventId: 'payhook:reconciler:pi_1:payment.failed:abc', settlesClaims: ['c1'] });
    expect(parseQueueMessage(synthetic).settlesClaims).toEqual(['c1']);
    expect(parseQueueMessage(body({ settlesClaims: ['c1'] })).settlesClaims).toBeUndefined();
    expect(() => parseQueueMessage(body({ eventId: 'payhook:reconciler:x', settlesClaims: 'c1' }))).toThrow(
      InvalidMessageError,
    );
  });

  it('still reads a version 1 message (queued by the previous release), which has no fact fields', () => {
    const { version: _version, ...current } = webhookEventToJson(EVENT);
    const previous = JSON.stringify({ ...current, version: 1 });
    expect(parseQueueMessage(previous)).toEqual(EVENT);
    // A version 1 message carries no fact id; one that claims to is not read as if version 2 had written it.
    const odd = JSON.stringify({ ...current, version: 1, factId: 'x' });
    expect(parseQueueMessage(odd).factId).toBeUndefined();
  });

  it.each([
    ['not JSON', 'nope', 'invalid_message'],
    ['an array', '[]', 'invalid_message'],
    ['another message type', body({ messageType: 'something' }), 'invalid_message'],
    ['a future version', body({ version: 3 }), 'invalid_message'],
    ['a bad running total', body({ refundedTotal: { amountMinor: 5 } }), 'invalid_message'],
    ['an unknown gateway', body({ gateway: 'paypal' }), 'unknown_gateway'],
    ['an unknown kind', body({ kind: 'payment.done' }), 'invalid_message'],
    ['an empty event id', body({ eventId: '' }), 'invalid_message'],
    ['a bad time', body({ receivedAt: 'yesterday' }), 'invalid_message'],
    [
      'a float amount',
      body({ money: { amountMinor: '20.5', currency: 'USD', exponent: 2 } }),
      'invalid_message',
    ],
    [
      'a numeric amount',
      body({ money: { amountMinor: 2000, currency: 'USD', exponent: 2 } }),
      'invalid_message',
    ],
    [
      'a parked unparseable webhook',
      JSON.stringify({ messageType: 'unparseable-webhook', version: 1 }),
      'unparseable_payload',
    ],
  ])('refuses %s as %s', (_name, text, errorClass) => {
    try {
      parseQueueMessage(text);
      expect.unreachable('parsed a bad message');
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidMessageError);
      expect((error as InvalidMessageError).errorClass).toBe(errorClass);
    }
  });
});

describe('classifyFailure', () => {
  it.each([
    [new InvalidMessageError('bad'), 'invalid_message', true],
    [new ImpossibleEventError('refund in another currency'), 'impossible_event', true],
    [
      Object.assign(new Error('throttled'), { name: 'ProvisionedThroughputExceededException' }),
      'retries_exhausted',
      false,
    ],
  ])('classifies %s as %s (permanent: %s)', (error, errorClass, permanent) => {
    expect(classifyFailure(error)).toMatchObject({ errorClass, permanent });
  });

  it('looks through the wrapper Powertools puts around errors it did not raise', () => {
    const wrapped = Object.assign(new Error('unknown', { cause: new ImpossibleEventError('x') }), {
      name: 'IdempotencyUnknownError',
    });
    expect(classifyFailure(wrapped)).toMatchObject({ errorClass: 'impossible_event', permanent: true });
  });
});

describe('backOffSeconds', () => {
  it('doubles with each receive, within a 20% jitter, capped at 15 minutes', () => {
    expect([1, 2, 3, 4].map((count) => backOffSeconds(count, () => 0.5))).toEqual([10, 20, 40, 80]);
    expect(backOffSeconds(1, () => 0)).toBe(8);
    expect(backOffSeconds(1, () => 1)).toBe(12);
    expect(backOffSeconds(20, () => 0.5)).toBe(900);
  });
});

describe('inProgressDelaySeconds', () => {
  it('waits briefly at first (a concurrent twin), then doubling up to the in-progress expiry', () => {
    expect([1, 2, 3, 4, 5].map((count) => inProgressDelaySeconds(count, 35))).toEqual([5, 10, 20, 35, 35]);
    expect(inProgressDelaySeconds(1, 0)).toBe(0);
  });

  it('lets an orphaned in-progress record expire before a queue runs out of receives', () => {
    for (const priority of PRIORITIES) {
      const { maxReceiveCount, consumerTimeoutSeconds } = PRIORITY_QUEUES[priority];
      const expiry = inProgressExpirySeconds(priority);
      let waited = 0;
      for (let receive = 1; receive < maxReceiveCount; receive += 1)
        waited += inProgressDelaySeconds(receive, expiry);
      expect(waited, priority).toBeGreaterThan(consumerTimeoutSeconds);
    }
  });
});

describe('transientClass', () => {
  it('folds error names into a short fixed list for the metrics', () => {
    expect(
      [
        'ProvisionedThroughputExceededException',
        'ThrottlingException',
        'TimeoutError',
        'InternalException',
        'ServiceUnavailable',
        'IdempotencyPersistenceLayerError',
        'TypeError',
      ].map(transientClass),
    ).toEqual(['throttled', 'throttled', 'network', 'aws_5xx', 'aws_5xx', 'idempotency_store', 'other']);
  });
});
