import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { moneyFromMinor } from '../../../lambdas/domain/money.js';
import type { FactRef, PaymentStatus } from '../../../lambdas/domain/payment.js';
import { moneyFields, type PaymentEvent, paymentEventId } from '../../../lambdas/domain/payment-event.js';
import {
  EventBridgePublisher,
  PublishFailedError,
} from '../../../lambdas/publishing/eventbridge-publisher.js';

// These tests stop at the client boundary; test/integration/eventbridge-moto.test.ts exercises the real API.
const eventBridge = mockClient(EventBridgeClient);

const BUS = 'payhook-payments';

/** The fact an event about `to` announces: money in, a refund, or an attempt. */
function factFor(to: PaymentStatus): FactRef {
  if (to === 'partially_refunded' || to === 'refunded')
    return { type: 'refund', id: 'rfnd_5521', state: 'succeeded' };
  if (to === 'failed') return { type: 'attempt', id: 'trx_98765', state: 'failed' };
  return { type: 'money_in', id: 'trx_98765', state: 'received' };
}

function paymentEvent(from: PaymentStatus | null, to: PaymentStatus, amountMinor = '250000'): PaymentEvent {
  const fact = factFor(to);
  return {
    version: 1,
    id: paymentEventId('paystack', 'order-7731-secret-ref', fact),
    gateway: 'paystack',
    reference: 'order-7731-secret-ref',
    gatewayPaymentId: 'trx_98765',
    from,
    to,
    ...moneyFields(moneyFromMinor(amountMinor, 'NGN')),
    status: to,
    paid: '250000',
    refunded: to === 'refunded' ? '250000' : '0',
    fact,
    occurredAt: '2026-11-24T10:00:00.000Z',
    sourceEventId: 'evt_4211',
  };
}

function publisher() {
  return new EventBridgePublisher(new EventBridgeClient({}), BUS);
}

describe('EventBridgePublisher', () => {
  beforeEach(() => {
    eventBridge.reset();
  });

  it.each([
    { from: null, to: 'succeeded', detailType: 'payment.succeeded' },
    { from: 'succeeded', to: 'partially_refunded', detailType: 'payment.partially_refunded' },
    { from: 'pending', to: 'failed', detailType: 'payment.failed' },
  ] as const)('sends one PutEvents entry with detail-type $detailType', async ({ from, to, detailType }) => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'eb-1' }] });
    const event = paymentEvent(from, to);

    await publisher().publish(event);

    const calls = eventBridge.commandCalls(PutEventsCommand);
    expect(calls).toHaveLength(1);
    const entries = calls[0]?.args[0].input.Entries ?? [];
    expect(entries).toEqual([
      {
        Source: 'payhook',
        DetailType: detailType,
        Detail: expect.any(String),
        EventBusName: BUS,
        Resources: [],
      },
    ]);
    expect(JSON.parse(entries[0]?.Detail ?? 'null')).toEqual(event);
  });

  it('keeps the exact minor-unit amount as a string in the detail', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'eb-1' }] });
    // More digits than a double holds exactly: a number in the JSON would lose the last ones.
    await publisher().publish(paymentEvent(null, 'succeeded', '12345678901234567890'));
    const detail = eventBridge.commandCalls(PutEventsCommand)[0]?.args[0].input.Entries?.[0]?.Detail;
    expect(JSON.parse(detail ?? 'null')).toMatchObject({
      amount: '12345678901234567890',
      currency: 'NGN',
      paid: '250000',
      refunded: '0',
    });
  });

  it('throws PublishFailedError when PutEvents answers with a failed entry, without leaking the detail', async () => {
    eventBridge.on(PutEventsCommand).resolves({
      FailedEntryCount: 1,
      Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'Internal service error' }],
    });
    const event = paymentEvent('succeeded', 'refunded');

    const failure = await publisher()
      .publish(event)
      .then(
        () => undefined,
        (error: unknown) => error,
      );

    expect(failure).toBeInstanceOf(PublishFailedError);
    const error = failure as PublishFailedError;
    expect(error.errorCode).toBe('InternalFailure');
    expect(error.errorMessage).toBe('Internal service error');
    expect(error.message).toContain('InternalFailure');
    for (const value of [
      event.id,
      event.reference,
      event.gatewayPaymentId,
      event.sourceEventId,
      event.fact.id,
      event.amount,
      event.occurredAt,
    ]) {
      expect(error.message).not.toContain(value);
    }
  });

  it('lets an SDK rejection through unchanged', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    eventBridge.on(PutEventsCommand).rejects(throttled);
    await expect(publisher().publish(paymentEvent(null, 'succeeded'))).rejects.toBe(throttled);
  });
});
