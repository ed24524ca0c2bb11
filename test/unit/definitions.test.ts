import { describe, expect, it } from 'vitest';
import { CLIENT_SETTINGS, worstCaseCallMs } from '../../lambdas/composition/client-settings.js';
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
  RECONCILER_MIN_INTERVAL_MINUTES,
  RECONCILER_TIMEOUT_SECONDS,
  REJECTS_TABLE_ENV,
  reconcilerTimeoutSeconds,
  SECRETS_ENV,
  visibilityTimeoutSeconds as visibilityTimeoutFor,
} from '../../lambdas/definitions.js';
import { GATEWAYS } from '../../lambdas/domain/webhook-event.js';

describe('Definitions', () => {
  it.each(PRIORITIES)(
    '%s: visibility timeout is at least 6x the consumer timeout plus the batching window',
    (priority) => {
      const { consumerTimeoutSeconds, maxBatchingWindowSeconds, visibilityTimeoutSeconds } =
        PRIORITY_QUEUES[priority];
      expect(visibilityTimeoutSeconds).toBeGreaterThanOrEqual(
        6 * consumerTimeoutSeconds + maxBatchingWindowSeconds,
      );
      expect(visibilityTimeoutSeconds).toBe(6 * (consumerTimeoutSeconds + maxBatchingWindowSeconds));
      // SQS's longest visibility timeout is 12 hours.
      expect(visibilityTimeoutSeconds).toBeLessThanOrEqual(43_200);
    },
  );

  it('derives visibility timeouts: 180 s, 186 s and 390 s today', () => {
    expect(visibilityTimeoutFor(30, 0)).toBe(180);
    expect(PRIORITIES.map((priority) => PRIORITY_QUEUES[priority].visibilityTimeoutSeconds)).toEqual([
      180, 186, 390,
    ]);
  });

  it("keeps the reconciler's timeout at least a minute short of its interval, so runs never overlap", () => {
    expect(reconcilerTimeoutSeconds(5)).toBe(RECONCILER_TIMEOUT_SECONDS);
    expect(RECONCILER_TIMEOUT_SECONDS).toBe(240);
    expect(reconcilerTimeoutSeconds(2)).toBe(60);
    expect(reconcilerTimeoutSeconds(60)).toBe(RECONCILER_TIMEOUT_SECONDS);
    for (let minutes = RECONCILER_MIN_INTERVAL_MINUTES; minutes <= 120; minutes += 1) {
      const timeout = reconcilerTimeoutSeconds(minutes);
      expect(timeout, `${minutes} min`).toBeLessThanOrEqual(minutes * 60 - 60);
      expect(timeout, `${minutes} min`).toBeGreaterThanOrEqual(60);
      expect(timeout, `${minutes} min`).toBeLessThanOrEqual(RECONCILER_TIMEOUT_SECONDS);
    }
  });

  it('refuses a reconciler interval with no time left for a run', () => {
    expect(RECONCILER_MIN_INTERVAL_MINUTES).toBe(2);
    for (const minutes of [1, 0, -5, 2.5, Number.NaN]) {
      expect(() => reconcilerTimeoutSeconds(minutes), String(minutes)).toThrow(RangeError);
    }
  });

  it("fits the reconciler's worst-case AWS call in the shortest timeout an interval can give it", () => {
    expect(worstCaseCallMs(CLIENT_SETTINGS.reconciler)).toBeLessThan(
      reconcilerTimeoutSeconds(RECONCILER_MIN_INTERVAL_MINUTES) * 1000,
    );
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
