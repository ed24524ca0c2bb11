import { describe, expect, it } from 'vitest';
import { DEDUPE_WINDOW_SECONDS, PRIORITIES, PRIORITY_QUEUES, queueName } from '../../lambdas/definitions.js';
import { GATEWAYS } from '../../lambdas/domain/webhook-event.js';

describe('Definitions', () => {
  it.each(PRIORITIES)('%s: visibility timeout is at least 6x the consumer timeout', (priority) => {
    const definition = PRIORITY_QUEUES[priority];
    expect(definition.visibilityTimeoutSeconds).toBeGreaterThanOrEqual(6 * definition.consumerTimeoutSeconds);
  });

  it.each(PRIORITIES)('%s: batch settings are ones the SQS event source accepts', (priority) => {
    const { batchSize, maxBatchingWindowSeconds, maxConcurrency, maxReceiveCount } =
      PRIORITY_QUEUES[priority];
    expect(batchSize).toBeGreaterThanOrEqual(1);
    expect(batchSize).toBeLessThanOrEqual(10_000);
    // Standard queues take more than 10 records per batch only with a batching window.
    if (batchSize > 10) expect(maxBatchingWindowSeconds).toBeGreaterThanOrEqual(1);
    expect(maxBatchingWindowSeconds).toBeLessThanOrEqual(300);
    expect(maxConcurrency).toBeGreaterThanOrEqual(2);
    expect(maxConcurrency).toBeLessThanOrEqual(1000);
    expect(maxReceiveCount).toBeGreaterThanOrEqual(2);
  });

  it('names every queue uniquely', () => {
    const names = PRIORITIES.flatMap((priority) => [queueName(priority), queueName(priority, 'deadLetter')]);
    expect(new Set(names).size).toBe(names.length);
  });

  it('remembers each gateway at least as long as it retries or replays', () => {
    const days = (gateway: (typeof GATEWAYS)[number]) => DEDUPE_WINDOW_SECONDS[gateway] / 86_400;
    expect([days('stripe'), days('razorpay'), days('paystack'), days('oxapay'), days('adyen')]).toEqual([
      3, 7, 3, 1, 30,
    ]);
    for (const gateway of GATEWAYS) expect(days(gateway)).toBeGreaterThanOrEqual(1);
  });
});
