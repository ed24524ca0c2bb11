import {
  IdempotencyAlreadyInProgressError,
  IdempotencyPersistenceLayerError,
  IdempotencyValidationError,
} from '@aws-lambda-powertools/idempotency';
import { describe, expect, it } from 'vitest';
import { inProgressExpirySeconds, PRIORITIES, PRIORITY_QUEUES } from '../../../lambdas/definitions.js';
import { ImpossibleEventError } from '../../../lambdas/domain/payment.js';
import { InvalidMessageError } from '../../../lambdas/messages/webhook-event-message.js';
import {
  backOffSeconds,
  classifyFailure,
  type FailureAction,
  type FailureLimits,
  failureAction,
  inProgressDelaySeconds,
  MAX_IN_PROGRESS_REQUEUES,
  transientClass,
} from '../../../lambdas/processing/failure-policy.js';

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

describe('failureAction', () => {
  // A queue that allows five receives; a retry delay that shows the receive count it was asked about.
  const limits: FailureLimits = {
    maxReceiveCount: 5,
    maxInProgressRequeues: MAX_IN_PROGRESS_REQUEUES,
    inProgressExpirySeconds: 35,
    retryDelay: (receiveCount) => 100 + receiveCount,
  };
  const named = (name: string, message: string) => Object.assign(new Error(message), { name });
  const throttled = named('ProvisionedThroughputExceededException', 'slow down');
  const inProgress = new IdempotencyAlreadyInProgressError('held by another invocation');
  const deadLetter = (
    errorClass: string,
    reason: string,
    failingSince: 'first-receive' | 'this-receive' = 'this-receive',
  ): FailureAction => ({ action: 'dead-letter', errorClass, reason, failingSince });
  const stillInProgress = (requeues: number) =>
    `still in progress elsewhere after ${requeues} requeues: another invocation holds it; redrive once it is done`;

  it.each<[string, number, number, unknown, FailureAction]>([
    // Transient failures: retried with the back-off, dead-lettered with their reason on the last allowed receive.
    ['a transient failure on its first receive', 1, 0, throttled, { action: 'retry', afterSeconds: 101 }],
    [
      'a transient failure below the last allowed receive',
      4,
      0,
      throttled,
      { action: 'retry', afterSeconds: 104 },
    ],
    [
      'a transient failure at the last allowed receive',
      5,
      0,
      throttled,
      deadLetter('retries_exhausted', 'ProvisionedThroughputExceededException: slow down', 'first-receive'),
    ],
    [
      'a transient failure past the last allowed receive',
      7,
      0,
      throttled,
      deadLetter('retries_exhausted', 'ProvisionedThroughputExceededException: slow down', 'first-receive'),
    ],
    // Unknown errors are transient: payhook cannot tell that a retry would not succeed.
    ['an unknown error', 2, 0, new TypeError('x is undefined'), { action: 'retry', afterSeconds: 102 }],
    ['something thrown that is not an Error', 1, 0, 'boom', { action: 'retry', afterSeconds: 101 }],
    [
      'an idempotency store failure',
      1,
      0,
      new IdempotencyPersistenceLayerError('table unavailable'),
      { action: 'retry', afterSeconds: 101 },
    ],
    [
      // Since issue #20 the record's completion writes the history item: DynamoDB refusing it is refused for good.
      "an item DynamoDB refuses in the record's completion, wrapped by Powertools",
      1,
      0,
      new IdempotencyPersistenceLayerError('Failed to update success record to idempotency store', {
        cause: named('ValidationException', 'Item size has exceeded the maximum allowed size'),
      }),
      deadLetter('invalid_data', 'ValidationException: Item size has exceeded the maximum allowed size'),
    ],
    [
      'an unknown error at the last allowed receive',
      5,
      0,
      new TypeError('x is undefined'),
      deadLetter('retries_exhausted', 'TypeError: x is undefined', 'first-receive'),
    ],
    // In progress elsewhere: short waits while receives are left, then fresh receives, then the DLQ with a reason.
    ['in progress, first receive', 1, 0, inProgress, { action: 'retry', afterSeconds: 5 }],
    ['in progress, below the last two receives', 3, 0, inProgress, { action: 'retry', afterSeconds: 20 }],
    [
      'in progress with one receive left, no requeue yet',
      4,
      0,
      inProgress,
      { action: 'requeue', afterSeconds: 35, requeues: 1 },
    ],
    [
      'in progress on the last receive, with requeues left',
      5,
      MAX_IN_PROGRESS_REQUEUES - 1,
      inProgress,
      { action: 'requeue', afterSeconds: 35, requeues: MAX_IN_PROGRESS_REQUEUES },
    ],
    [
      'in progress with the requeues exhausted',
      4,
      MAX_IN_PROGRESS_REQUEUES,
      inProgress,
      deadLetter('in_progress_exhausted', stillInProgress(MAX_IN_PROGRESS_REQUEUES)),
    ],
    [
      'in progress with receives left, whatever its requeues',
      1,
      7,
      inProgress,
      { action: 'retry', afterSeconds: 5 },
    ],
    // Permanent failures: dead-lettered at once, whatever receives are left, dated from this receive.
    [
      'an invalid message',
      1,
      0,
      new InvalidMessageError('not JSON'),
      deadLetter('invalid_message', 'not JSON'),
    ],
    [
      'a message for an unknown gateway',
      1,
      0,
      new InvalidMessageError('no consumer for gateway x', 'unknown_gateway'),
      deadLetter('unknown_gateway', 'no consumer for gateway x'),
    ],
    [
      'a payload the adapter cannot read',
      2,
      0,
      new InvalidMessageError('bad payload', 'unparseable_payload'),
      deadLetter('unparseable_payload', 'bad payload'),
    ],
    [
      'an impossible event',
      1,
      0,
      new ImpossibleEventError('refund in another currency'),
      deadLetter('impossible_event', 'refund in another currency'),
    ],
    [
      'the same event id with other money (payload_mismatch)',
      1,
      0,
      new IdempotencyValidationError('hash differs'),
      deadLetter(
        'payload_mismatch',
        'this event id was already processed with a different amount or currency; refusing to apply it',
      ),
    ],
    [
      'data DynamoDB refuses (invalid_data)',
      1,
      0,
      named('ValidationException', 'Size of hashkey has exceeded the maximum size limit'),
      deadLetter('invalid_data', 'ValidationException: Size of hashkey has exceeded the maximum size limit'),
    ],
    [
      'a permanent failure on the last allowed receive',
      5,
      0,
      new ImpossibleEventError('zero refund'),
      deadLetter('impossible_event', 'zero refund'),
    ],
  ])('%s (receive %i, %i requeues)', (_what, receiveCount, requeues, error, expected) => {
    expect(failureAction(classifyFailure(error), { receiveCount, requeues }, limits)).toEqual(expected);
  });

  it('keeps at least one receive for the requeue: a queue allowing two receives requeues on the first', () => {
    const failure = classifyFailure(inProgress);
    expect(
      failureAction(failure, { receiveCount: 1, requeues: 0 }, { ...limits, maxReceiveCount: 2 }),
    ).toEqual({
      action: 'requeue',
      afterSeconds: 35,
      requeues: 1,
    });
  });
});
