import { describe, expect, it } from 'vitest';
import {
  DEDUPE_WINDOW_SECONDS,
  DRAINED_QUEUE_ENV,
  EVENT_BUS_ENV,
  IDEMPOTENCY_TABLE_ENV,
  INTAKE_ENV,
  PAYMENTS_TABLE_ENV,
  PRIORITIES,
  PRIORITY_QUEUES,
  QUEUES_ENV,
  queueName,
  RECONCILER_ENV,
  REJECTS_TABLE_ENV,
  SECRETS_ENV,
} from '../../lambdas/definitions.js';
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

  it('keeps the documented environment variable names, whichever resource groups them', () => {
    const names = [
      ...PRIORITIES.flatMap((priority) => [
        QUEUES_ENV.queueUrl(priority),
        QUEUES_ENV.deadLetterQueueUrl(priority),
      ]),
      ...GATEWAYS.map((gateway) => RECONCILER_ENV.apiUrl(gateway)),
      ...[
        DRAINED_QUEUE_ENV,
        SECRETS_ENV,
        INTAKE_ENV,
        REJECTS_TABLE_ENV,
        PAYMENTS_TABLE_ENV,
        IDEMPOTENCY_TABLE_ENV,
        EVENT_BUS_ENV,
        RECONCILER_ENV,
      ].flatMap((group) => Object.values(group).filter((name) => typeof name === 'string')),
    ];
    expect(names.sort()).toEqual(
      [
        'PAYHOOK_QUEUE_URL_HIGH',
        'PAYHOOK_QUEUE_URL_NORMAL',
        'PAYHOOK_QUEUE_URL_LOW',
        'PAYHOOK_DLQ_URL_HIGH',
        'PAYHOOK_DLQ_URL_NORMAL',
        'PAYHOOK_DLQ_URL_LOW',
        ...GATEWAYS.map((gateway) => `PAYHOOK_${gateway.toUpperCase()}_API_URL`),
        'PAYHOOK_PRIORITY',
        'PAYHOOK_QUEUE_URL',
        'PAYHOOK_DLQ_URL',
        'PAYHOOK_GATEWAY_SECRET_IDS',
        'PAYHOOK_SECRETS_FILE',
        'PAYHOOK_GATEWAY_SETTINGS',
        'PAYHOOK_ACCEPT_TEST_MODE',
        'PAYHOOK_MAX_BODY_BYTES',
        'PAYHOOK_REJECTS_TABLE',
        'PAYHOOK_REJECTS_TTL_DAYS',
        'PAYHOOK_REJECTS_PER_MINUTE',
        'PAYHOOK_PAYMENTS_TABLE',
        'PAYHOOK_HISTORY_RETENTION_DAYS',
        'PAYHOOK_HISTORY_KEEPS_PAYLOAD',
        'PAYHOOK_IDEMPOTENCY_TABLE',
        'PAYHOOK_DEDUPE_WINDOWS',
        'PAYHOOK_EVENT_BUS_NAME',
        'PAYHOOK_EVENTS_FILE',
        'PAYHOOK_RECONCILE_GRACE',
        'PAYHOOK_RECONCILE_BUDGET',
        'PAYHOOK_CONFIRMATIONS_PER_RUN',
        'PAYHOOK_PENDING_EXPIRY',
        'PAYHOOK_RECONCILE_INTERVAL',
      ].sort(),
    );
  });
});
