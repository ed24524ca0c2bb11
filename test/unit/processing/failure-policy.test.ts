import { describe, expect, it } from 'vitest';
import { inProgressExpirySeconds, PRIORITIES, PRIORITY_QUEUES } from '../../../lambdas/definitions.js';
import { ImpossibleEventError } from '../../../lambdas/domain/payment.js';
import { InvalidMessageError } from '../../../lambdas/messages/webhook-event-message.js';
import {
  backOffSeconds,
  classifyFailure,
  inProgressDelaySeconds,
  transientClass,
} from '../../../lambdas/processing/consumer.js';

describe('classifyFailure', () => {
  it.each([
    [new InvalidMessageError('bad'), 'invalid_message', true],
    [new ImpossibleEventError('refund in another currency'), 'impossible_event', true],
    [
      Object.assign(new Error('throttled'), { name: 'ProvisionedThroughputExceededException' }),
      'retries_exhausted',
      false,
    ],
    [
      Object.assign(new Error('Size of hashkey has exceeded the maximum size limit'), {
        name: 'ValidationException',
      }),
      'invalid_data',
      true,
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
