import { describe, expect, it } from 'vitest';
import { devSecret, readSample, SIGNERS } from '../../../events/index.js';
import type { GatewayName } from '../../../lambdas/domain/webhook-event.js';
import { ADAPTERS } from '../../../lambdas/gateways/registry.js';
import { DEFAULT_GATEWAY_SETTINGS } from '../../../lambdas/gateways/settings.js';
import { webhookRequest } from '../../support/requests.js';

function normalise(gateway: GatewayName, sample: string, body = readSample(gateway, sample)) {
  const signed = SIGNERS[gateway](body, { secret: devSecret(gateway) });
  return ADAPTERS[gateway].normalise(webhookRequest(signed.body, signed.headers), DEFAULT_GATEWAY_SETTINGS)
    .events;
}

/**
 * The fact id is what the payment record counts once: the gateway's own id of the capture, deposit, refund, dispute
 * or attempt, read from the signed body. Events about the same thing must agree on it.
 */
describe('Gateway adapters: fact ids from the signed body', () => {
  it.each([
    ['paystack', 'charge.success', 'payment.succeeded', '302961'],
    ['paystack', 'refund.processed', 'refund.succeeded', 'RFD-1001-1'],
    ['paystack', 'charge.dispute.create', 'dispute.opened', '358950'],
    ['flutterwave', 'charge.completed', 'payment.succeeded', '4975361'],
    ['razorpay', 'payment.captured', 'payment.succeeded', 'pay_Q8mN2xK7rT4vLa'],
    ['razorpay', 'order.paid', 'payment.succeeded', 'pay_Q8mN2xK7rT4vLa'],
    ['razorpay', 'payment.authorized', 'payment.authorized', 'pay_Q8mN2xK7rT4vLa'],
    ['razorpay', 'refund.processed', 'refund.succeeded', 'rfnd_Q9aB3cD4eF5gH6'],
    ['razorpay', 'payment.dispute.created', 'dispute.opened', 'disp_Q9bC4dE5fG6hJ7'],
    ['oxapay', 'invoice.paid', 'payment.succeeded', '184747701'],
    [
      'oxapay',
      'static_address.paid',
      'payment.succeeded',
      '7a752a415b96bdcb4d39c096485bfd8e6cdc4c3a9ac25f8e086878bd4b9acf5c',
    ],
    ['stripe', 'payment_intent.succeeded', 'payment.succeeded', 'pi_3QpHyk2eZvKYlo2C1qW8tRzD'],
    ['stripe', 'checkout.session.completed', 'payment.succeeded', 'pi_3QpI5s2eZvKYlo2C0pQ7rS8t'],
    ['stripe', 'charge.dispute.created', 'dispute.opened', 'dp_1QpK8d2eZvKYlo2C0dIsP1a'],
    ['standard', 'refund.succeeded', 'refund.succeeded', 'rfd_01JDG2K5N8Q1T4W7Z0C3F6H9J2'],
    ['adyen', 'AUTHORISATION', 'payment.succeeded', 'QFQTPCQ8HXSKGK82'],
    ['adyen', 'REFUND', 'refund.succeeded', 'T4DKQH2VJ8RSMS82'],
    // A chargeback is about the payment it disputes (one chargeback chain per payment).
    ['adyen', 'CHARGEBACK', 'dispute.lost', 'QFQTPCQ8HXSKGK82'],
  ] as const)('%s %s (%s) names fact %s', (gateway, sample, kind, factId) => {
    const [event] = normalise(gateway, sample);
    expect(event?.kind).toBe(kind);
    expect(event?.factId).toBe(factId);
  });

  it("reads Stripe charge.refunded's amount_refunded as a running total, naming no refund of its own", () => {
    const [event] = normalise('stripe', 'charge.refunded');
    expect(event?.factId).toBeUndefined();
    expect(event?.refundedTotal).toEqual({ amountMinor: 1500n, currency: 'USD', exponent: 2 });
  });

  it("names a Razorpay refund by its own id and takes no running total from its payment's amount_refunded", () => {
    // amount_refunded counts refunds still under way: one that then fails must not stay counted.
    const [event] = normalise('razorpay', 'refund.processed');
    expect(event?.factId).toBe('rfnd_Q9aB3cD4eF5gH6');
    expect(event?.refundedTotal).toBeUndefined();
  });

  it('gives a Stripe refund the same fact id whichever event type announces it', () => {
    const refundObject = (type: string, status: string) =>
      JSON.stringify({
        id: `evt_${type}`,
        object: 'event',
        type,
        created: 1764000000,
        livemode: false,
        data: {
          object: {
            id: 're_1',
            object: 'refund',
            amount: 2500,
            currency: 'usd',
            status,
            payment_intent: 'pi_1',
          },
        },
      });
    const ids = [
      normalise('stripe', '', refundObject('refund.created', 'succeeded'))[0],
      normalise('stripe', '', refundObject('refund.updated', 'succeeded'))[0],
      normalise('stripe', '', refundObject('charge.refund.updated', 'succeeded'))[0],
    ].map((event) => [event?.kind, event?.factId, event?.gatewayPaymentId]);
    expect(ids).toEqual([
      ['refund.succeeded', 're_1', 'pi_1'],
      ['refund.succeeded', 're_1', 'pi_1'],
      ['refund.succeeded', 're_1', 'pi_1'],
    ]);
  });

  it('names a Stripe session or charge made without a PaymentIntent by its own id, for the fact and the payment', () => {
    const withoutIntent = (sample: string) => {
      const body = JSON.parse(readSample('stripe', sample)) as { data: { object: Record<string, unknown> } };
      body.data.object.payment_intent = null;
      return normalise('stripe', '', JSON.stringify(body))[0];
    };
    const session = withoutIntent('checkout.session.completed');
    const charge = withoutIntent('charge.refunded');
    const dispute = withoutIntent('charge.dispute.created');
    expect([session?.factId, session?.gatewayPaymentId, session?.reference]).toEqual([
      'cs_test_a1B2c3D4e5F6g7H8i9J0kLmNoPqRsTuVwXyZ',
      'cs_test_a1B2c3D4e5F6g7H8i9J0kLmNoPqRsTuVwXyZ',
      'ORDER-2004',
    ]);
    // charge.refunded names no refund of its own; the charge is the payment.
    expect([charge?.factId, charge?.gatewayPaymentId]).toEqual([undefined, 'ch_3QpHyk2eZvKYlo2C1mZ0vB7c']);
    expect([dispute?.factId, dispute?.gatewayPaymentId]).toEqual([
      'dp_1QpK8d2eZvKYlo2C0dIsP1a',
      'ch_3QpHyk2eZvKYlo2C1mZ0vB7c',
    ]);
  });

  it('gives each deposit to one OXA Pay static address its own fact id (its transaction hash)', () => {
    const deposit = (hash: string) => {
      const body = JSON.parse(readSample('oxapay', 'static_address.paid')) as { txs: { tx_hash: string }[] };
      const first = body.txs[0];
      if (first) first.tx_hash = hash;
      return normalise('oxapay', '', JSON.stringify(body))[0];
    };
    const [a, b] = [deposit('0xaaa'), deposit('0xbbb')];
    expect(a?.factId).toBe('0xaaa');
    expect(b?.factId).toBe('0xbbb');
    expect(a?.reference).toBe(b?.reference);
    expect(a?.eventId).not.toBe(b?.eventId);
  });

  it('keys an Adyen second chargeback apart from the first, so a reversed chargeback that comes back is a new dispute', () => {
    const batch = JSON.parse(readSample('adyen', 'CHARGEBACK')) as {
      notificationItems: { NotificationRequestItem: Record<string, unknown> }[];
    };
    const item = batch.notificationItems[0]?.NotificationRequestItem;
    if (item) item.eventCode = 'SECOND_CHARGEBACK';
    const [event] = normalise('adyen', '', JSON.stringify(batch));
    expect(event?.kind).toBe('dispute.lost');
    expect(event?.factId).toBe('QFQTPCQ8HXSKGK82:second');
  });
});
