import { describe, expect, it } from 'vitest';
import { freshCopy } from '../../../events/fresh-copy.js';
import { devSecret, listSamples, readSample, signWithDevSecret } from '../../../events/index.js';
import type { GatewaySecret } from '../../../lambdas/domain/gateway-secret.js';
import { moneyToJson } from '../../../lambdas/domain/money.js';
import { paymentKeyOf } from '../../../lambdas/domain/payment.js';
import { GATEWAYS, type GatewayName, type WebhookEvent } from '../../../lambdas/domain/webhook-event.js';
import { ADAPTERS } from '../../../lambdas/gateways/registry.js';
import { DEFAULT_GATEWAY_SETTINGS } from '../../../lambdas/gateways/settings.js';
import { webhookRequest } from '../../support/requests.js';

function devSecrets(gateway: GatewayName): GatewaySecret {
  return gateway === 'oxapay'
    ? { secrets: [devSecret('oxapay')], payoutSecrets: [devSecret('oxapay', 'payoutSecrets')] }
    : { secrets: [devSecret(gateway)] };
}

/** Signs as `payhook send` does, checks the adapter accepts the signature, and returns what it normalises to. */
function signedEvents(gateway: GatewayName, payload: string, eventId?: string): readonly WebhookEvent[] {
  const signed = signWithDevSecret(gateway, payload, eventId);
  const request = webhookRequest(signed.body, { ...signed.headers });
  expect(ADAPTERS[gateway].verify(request, devSecrets(gateway), DEFAULT_GATEWAY_SETTINGS)).toEqual({
    ok: true,
  });
  const { events, unparseable } = ADAPTERS[gateway].normalise(request, DEFAULT_GATEWAY_SETTINGS);
  expect(unparseable).toEqual([]);
  return events;
}

const moneyOf = (event: WebhookEvent) => (event.money === undefined ? undefined : moneyToJson(event.money));

const EVERY_SAMPLE = GATEWAYS.flatMap((gateway) =>
  listSamples(gateway).map((sample) => [gateway, sample] as const),
);

describe('freshCopy', () => {
  it.each(EVERY_SAMPLE)('%s %s: two copies are two new payments with the same money', (gateway, sample) => {
    const payload = readSample(gateway, sample);
    const original = signedEvents(gateway, payload);
    const first = freshCopy(gateway, payload, 'seed-1');
    const second = freshCopy(gateway, payload, 'seed-2');
    const copies = [first, second].map((copy) => signedEvents(gateway, copy.payload, copy.eventId));

    const eventIds = [original, ...copies].flatMap((events) => events.map((event) => event.eventId));
    expect(new Set(eventIds).size).toBe(eventIds.length);

    for (const events of copies) {
      expect(events).toHaveLength(original.length);
      events.forEach((event, index) => {
        const before = original[index];
        expect(event.eventType).toBe(before?.eventType);
        expect(event.kind).toBe(before?.kind);
        expect(moneyOf(event)).toEqual(before === undefined ? undefined : moneyOf(before));
      });
    }
    original.forEach((event, index) => {
      const key = paymentKeyOf(event);
      // An OXA Pay payout and Paystack's expiring cards are about no payment; every other sample names one, and each
      // copy names another.
      if (key === undefined) {
        expect(['oxapay payout.confirmed', 'paystack subscription.expiring_cards']).toContain(
          `${gateway} ${sample}`,
        );
        return;
      }
      const keys = [key, ...copies.map((events) => events[index] && paymentKeyOf(events[index]))];
      expect(keys.every((each) => typeof each === 'string')).toBe(true);
      expect(new Set(keys).size).toBe(3);
    });
  });

  it.each(GATEWAYS)('%s: the same seed gives the same copy, another seed another one', (gateway) => {
    const payload = readSample(gateway, listSamples(gateway)[0] ?? '');
    expect(freshCopy(gateway, payload, 'same')).toEqual(freshCopy(gateway, payload, 'same'));
    expect(freshCopy(gateway, payload, 'same').payload).not.toBe(
      freshCopy(gateway, payload, 'other').payload,
    );
  });

  it.each([
    ['flutterwave', 'charge.completed', ['"amount":7500.50', '"charged_amount":7500.5', '"app_fee":105.01']],
    ['oxapay', 'invoice.refunded', ['"amount":42.125', '"value":42.125']],
    ['oxapay', 'static_address.paid', ['"amount":0.0025']],
    ['paystack', 'refund.processed', ['"amount":"100000"']],
  ] as const)('%s %s: keeps every amount text exactly as written', (gateway, sample, texts) => {
    const { payload } = freshCopy(gateway, readSample(gateway, sample), 'seed');
    for (const text of texts) expect(payload).toContain(text);
  });

  it.each([
    ['paystack', 'charge.success', 'data.id stays a number', /"id":[1-9]\d{11},"domain"/],
    ['oxapay', 'invoice.paid', 'track_id stays a digit string', /"track_id":"[1-9]\d{11}"/],
    ['stripe', 'payment_intent.succeeded', 'ids keep their prefix', /"id":"evt_[A-Za-z0-9]{24}".*"id":"pi_/],
    [
      'adyen',
      'AUTHORISATION',
      'references keep the original as a prefix',
      /"merchantReference":"ORDER-2001-/,
    ],
  ] as const)('%s %s: %s', (gateway, sample, _what, pattern) => {
    expect(freshCopy(gateway, readSample(gateway, sample), 'seed').payload).toMatch(pattern);
  });

  it('replaces a value found in two places by the same new value (Razorpay order id)', () => {
    const { payload } = freshCopy('razorpay', readSample('razorpay', 'order.paid'), 'seed');
    const orderIds = [...payload.matchAll(/"(?:order_id|id)":"(order_[^"]+)"/g)].map((match) => match[1]);
    expect(orderIds).toHaveLength(2);
    expect(orderIds[0]).toBe(orderIds[1]);
    expect(orderIds[0]).not.toBe('order_Q8mMz5hJ3kW9pB');
  });

  it.each([
    ['razorpay', /^evt_[A-Za-z0-9]{14}$/],
    ['standard', /^msg_[A-Za-z0-9]{27}$/],
  ] as const)('%s: returns a new header event id', (gateway, pattern) => {
    const payload = readSample(gateway, listSamples(gateway)[0] ?? '');
    const first = freshCopy(gateway, payload, 'seed-1').eventId;
    expect(first).toMatch(pattern);
    expect(freshCopy(gateway, payload, 'seed-2').eventId).not.toBe(first);
  });
});
