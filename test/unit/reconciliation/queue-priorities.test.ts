import { SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { RECONCILER_QUEUE_PRIORITIES } from '../../../lambdas/definitions.js';
import { moneyFromMinor } from '../../../lambdas/domain/money.js';
import { defaultPriority, type WebhookEvent } from '../../../lambdas/domain/webhook-event.js';
import { SqsEventQueue } from '../../../lambdas/intake/sqs-event-queue.js';
import { RECONCILER_EVENT_KINDS } from '../../../lambdas/reconciliation/reconcile.js';

// The stack grants the reconciler the queues of RECONCILER_QUEUE_PRIORITIES alone: a kind it can queue at another
// priority would be denied on AWS (and only the deploy rehearsal would notice).
describe('the reconciler queue priorities', () => {
  it('are exactly the priorities of the kinds a run can queue', () => {
    const used = [...new Set(RECONCILER_EVENT_KINDS.map(defaultPriority))].sort();
    expect(used).toEqual([...RECONCILER_QUEUE_PRIORITIES].sort());
    expect(RECONCILER_EVENT_KINDS).toEqual(
      expect.arrayContaining([
        'payment.succeeded',
        'payment.failed',
        'payment.authorized',
        'payment.expired',
      ]),
    );
  });

  it('a queue writer without a queue for an event priority refuses it by name instead of sending anywhere', async () => {
    const client = new SQSClient({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9', maxAttempts: 1 });
    const queue = new SqsEventQueue(client, { queues: { high: 'http://127.0.0.1:9/000000000000/high' } });
    const event: WebhookEvent = {
      gateway: 'paystack',
      eventId: 'evt_low_1',
      eventType: 'subscription.create',
      kind: 'other',
      mode: 'test',
      receivedAt: '2026-11-30T00:00:00.000Z',
      priority: 'low',
      requestId: 'req-1',
      payload: '{}',
      money: moneyFromMinor('100', 'NGN'),
    };
    await expect(queue.enqueue([event])).rejects.toThrow(/no low-priority queue \(PAYHOOK_QUEUE_URL_LOW\)/);
    client.destroy();
  });
});
