import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { devSecret, readSample } from '../../../events/index.js';
import { signOxapay } from '../../../events/oxapay/sign.js';
import type { GatewaySecret } from '../../../lambdas/domain/gateway-secret.js';
import { oxapay } from '../../../lambdas/gateways/oxapay.js';
import { DEFAULT_GATEWAY_SETTINGS } from '../../../lambdas/gateways/settings.js';
import { UnparseablePayloadError } from '../../../lambdas/gateways/types.js';
import { secretOf, webhookRequest } from '../../support/requests.js';

const MERCHANT_KEY = 'MERCHANT-KEY-TEST';
const PAYOUT_KEY = 'PAYOUT-KEY-TEST';
const settings = DEFAULT_GATEWAY_SETTINGS;
const keys: GatewaySecret = { secrets: [MERCHANT_KEY], payoutSecrets: [PAYOUT_KEY] };
const INVOICE = '{"track_id":"1","type":"invoice","status":"Paid","amount":1,"currency":"USDT"}';
const PAYOUT = '{"track_id":"2","type":"payout","status":"Confirmed","amount":1,"currency":"USDT"}';

function signed(body: string, secret = MERCHANT_KEY) {
  const { headers } = signOxapay(body, { secret });
  return webhookRequest(body, headers);
}

/** Normalises a sample signed with the key OXA Pay would use for it. */
function sampleEvent(name: string) {
  const body = readSample('oxapay', name);
  const [event] = oxapay.normalise(
    signed(body, name.startsWith('payout.') ? PAYOUT_KEY : MERCHANT_KEY),
    settings,
  ).events;
  return { body, event };
}

describe('Gateway: oxapay', () => {
  describe('verify', () => {
    it('matches the documented test vector', () => {
      // Vector from providers.md, computed with node:crypto; the signer must reproduce it exactly.
      const body = '{"track_id":"123","type":"invoice","status":"Paid"}';
      const { headers } = signOxapay(body, { secret: 'MERCHANT-KEY' });
      expect(headers.HMAC).toBe(
        '75a59c90600e87f297269e36be21f07d61e52de814edc269931cee88574204160b98d26a9406ea94abe2d5bff188f2d57f0dfd17361646c7900ccd4485ef71f9',
      );
      expect(oxapay.verify(webhookRequest(body, headers), secretOf('MERCHANT-KEY'), settings)).toEqual({
        ok: true,
      });
    });

    it.each([
      ['an invoice callback with the merchant key', () => signed(INVOICE, MERCHANT_KEY)],
      ['a payout callback with the payout key', () => signed(PAYOUT, PAYOUT_KEY)],
      [
        'an upper-case hex digest',
        () => webhookRequest(INVOICE, { HMAC: signed(INVOICE).headers.hmac?.toUpperCase() ?? '' }),
      ],
      ['a body that is not JSON, with the merchant key', () => signed('not json at all', MERCHANT_KEY)],
    ])('accepts %s', (_name, makeRequest) => {
      expect(oxapay.verify(makeRequest(), keys, settings)).toEqual({ ok: true });
    });

    it.each([
      ['merchant', INVOICE, { secrets: ['MERCHANT-NEW', 'MERCHANT-OLD'] }, 'MERCHANT-OLD'],
      [
        'payout',
        PAYOUT,
        { secrets: [MERCHANT_KEY], payoutSecrets: ['PAYOUT-NEW', 'PAYOUT-OLD'] },
        'PAYOUT-OLD',
      ],
    ])('accepts a %s callback signed with an older key during rotation', (_name, body, secret, oldKey) => {
      expect(oxapay.verify(signed(body, oldKey), secret, settings).ok).toBe(true);
    });

    it.each([
      [
        'a tampered body',
        () => ({ ...signed(INVOICE), body: Buffer.from(INVOICE.replace('"amount":1', '"amount":9')) }),
        'invalid_signature',
      ],
      ['the wrong merchant key', () => signed(INVOICE, 'MERCHANT-OTHER'), 'invalid_signature'],
      [
        'a payout callback signed with the merchant key',
        () => signed(PAYOUT, MERCHANT_KEY),
        'invalid_signature',
      ],
      [
        'a payment callback signed with the payout key',
        () => signed(INVOICE, PAYOUT_KEY),
        'invalid_signature',
      ],
      [
        'a body switched to type payout after signing with the merchant key',
        () => ({ ...signed(INVOICE), body: Buffer.from(INVOICE.replace('invoice', 'payout')) }),
        'invalid_signature',
      ],
      ['no HMAC header', () => webhookRequest(INVOICE), 'missing_signature'],
      ['an empty HMAC header', () => webhookRequest(INVOICE, { HMAC: '' }), 'missing_signature'],
      [
        'an HMAC that is not 128 hex characters',
        () => webhookRequest(INVOICE, { HMAC: 'abc' }),
        'malformed_signature',
      ],
      [
        'a SHA-256 digest where SHA-512 is expected',
        () =>
          webhookRequest(INVOICE, { HMAC: createHmac('sha256', MERCHANT_KEY).update(INVOICE).digest('hex') }),
        'malformed_signature',
      ],
    ])('refuses %s', (_name, makeRequest, reason) => {
      const result = oxapay.verify(makeRequest(), keys, settings);
      expect(result).toMatchObject({ ok: false, reason });
      expect(JSON.stringify(result)).not.toContain(MERCHANT_KEY);
      expect(JSON.stringify(result)).not.toContain(PAYOUT_KEY);
    });

    it.each([
      ['absent', { secrets: [MERCHANT_KEY] }],
      ['empty', { secrets: [MERCHANT_KEY], payoutSecrets: [] }],
    ])('refuses a payout callback when payout keys are %s, saying none is configured', (_name, secret) => {
      const result = oxapay.verify(signed(PAYOUT, PAYOUT_KEY), secret, settings);
      expect(result).toMatchObject({ ok: false, reason: 'invalid_signature' });
      expect(result.ok ? '' : result.detail).toContain('no payout API key is configured');
    });

    it('has no replay window: a delivery received a day later still verifies', () => {
      const request = { ...signed(INVOICE), receivedAt: new Date(Date.now() + 86_400_000) };
      expect(oxapay.verify(request, keys, settings).ok).toBe(true);
    });

    it('verifies every sample with the development keys, picking the payout key for the payout sample', () => {
      const devKeys: GatewaySecret = {
        secrets: [devSecret('oxapay')],
        payoutSecrets: [devSecret('oxapay', 'payoutSecrets')],
      };
      for (const name of [
        'invoice.paid',
        'invoice.paying',
        'invoice.expired',
        'invoice.refunded',
        'static_address.paid',
      ]) {
        expect(
          oxapay.verify(signed(readSample('oxapay', name), devSecret('oxapay')), devKeys, settings).ok,
        ).toBe(true);
      }
      const payout = readSample('oxapay', 'payout.confirmed');
      expect(oxapay.verify(signed(payout, devSecret('oxapay', 'payoutSecrets')), devKeys, settings).ok).toBe(
        true,
      );
      expect(oxapay.verify(signed(payout, devSecret('oxapay')), devKeys, settings).ok).toBe(false);
    });
  });

  describe('normalise', () => {
    it('turns invoice.paid into a high-priority payment.succeeded with exact USDT money', () => {
      const { body, event } = sampleEvent('invoice.paid');
      expect(event).toMatchObject({
        gateway: 'oxapay',
        eventId: '184747701:paid',
        eventType: 'invoice.paid',
        kind: 'payment.succeeded',
        priority: 'high',
        reference: 'ORDER-2101',
        gatewayPaymentId: '184747701',
        mode: 'unknown',
        occurredAt: '2026-11-21T13:00:00.000Z',
        payload: body,
      });
      expect(event?.money).toEqual({ amountMinor: 10_500_000n, currency: 'USDT', exponent: 6 });
    });

    it.each([
      [
        'invoice.paying',
        '184747701:paying',
        'invoice.paying',
        'payment.pending',
        'normal',
        'ORDER-2101',
        10_500_000n,
      ],
      [
        'invoice.expired',
        '184747755:expired',
        'invoice.expired',
        'payment.expired',
        'normal',
        'ORDER-2102',
        25_000_000n,
      ],
      [
        'invoice.refunded',
        '184747790:refunded',
        'invoice.refunded',
        'refund.succeeded',
        'normal',
        'ORDER-2103',
        42_125_000n,
      ],
    ])('classifies the %s sample', (sample, eventId, eventType, kind, priority, reference, amountMinor) => {
      const { event } = sampleEvent(sample);
      expect(event).toMatchObject({
        eventId,
        eventType,
        kind,
        priority,
        reference,
        gatewayPaymentId: eventId.split(':')[0],
      });
      expect(event?.money).toEqual({ amountMinor, currency: 'USDT', exponent: 6 });
    });

    it('keys a static-address payment by its transaction hash, since one address receives many payments', () => {
      const { event } = sampleEvent('static_address.paid');
      expect(event).toMatchObject({
        eventId: '195328702:paid:7a752a415b96bdcb4d39c096485bfd8e6cdc4c3a9ac25f8e086878bd4b9acf5c',
        eventType: 'static_address.paid',
        kind: 'payment.succeeded',
        priority: 'high',
        reference: 'ORDER-2105',
        gatewayPaymentId: '195328702',
      });
      expect(event?.money).toEqual({ amountMinor: 250_000n, currency: 'BTC', exponent: 8 });
    });

    it('files a payout as low-priority "other" with a payout-prefixed id and no payment id', () => {
      const { event } = sampleEvent('payout.confirmed');
      expect(event).toMatchObject({
        eventId: 'payout:259671232:confirmed',
        eventType: 'payout.confirmed',
        kind: 'other',
        priority: 'low',
        occurredAt: '2026-11-21T16:00:00.000Z',
      });
      expect(event?.gatewayPaymentId).toBeUndefined();
      expect(event?.money).toEqual({ amountMinor: 50_000_000n, currency: 'USDT', exponent: 6 });
    });

    it.each([
      ['Paid', 'payment.succeeded', 'high'],
      ['paid', 'payment.succeeded', 'high'],
      ['PAID', 'payment.succeeded', 'high'],
      ['Manual_Accept', 'payment.succeeded', 'high'],
      ['New', 'payment.pending', 'normal'],
      ['Waiting', 'payment.pending', 'normal'],
      ['Paying', 'payment.pending', 'normal'],
      ['Confirming', 'payment.pending', 'normal'],
      ['Underpaid', 'payment.pending', 'normal'],
      ['Expired', 'payment.expired', 'normal'],
      ['Failed', 'payment.failed', 'normal'],
      ['Refunding', 'refund.pending', 'normal'],
      ['Refunded', 'refund.succeeded', 'normal'],
      ['Something_New', 'other', 'low'],
    ])(
      'classifies a payment callback with status %s as %s (%s), whatever the case',
      (status, kind, priority) => {
        const body = `{"track_id":"9","type":"white_label","status":"${status}"}`;
        expect(oxapay.normalise(signed(body), settings).events[0]).toMatchObject({
          eventType: `white_label.${status.toLowerCase()}`,
          eventId: `9:${status.toLowerCase()}`,
          kind,
          priority,
        });
      },
    );

    it('files a payout as "other" even when its status reads like a payment status', () => {
      const body = '{"track_id":"3","type":"payout","status":"Paid"}';
      expect(oxapay.normalise(signed(body, PAYOUT_KEY), settings).events[0]).toMatchObject({
        kind: 'other',
        priority: 'low',
      });
    });

    it('honours a configured priority override by event type', () => {
      const overridden = { ...settings, priorityOverrides: { 'invoice.underpaid': 'high' as const } };
      const body = '{"track_id":"4","type":"invoice","status":"Underpaid"}';
      expect(oxapay.normalise(signed(body), overridden).events[0]?.priority).toBe('high');
    });

    it('reads an 18-decimal token amount exactly', () => {
      const body =
        '{"track_id":"5","type":"invoice","status":"Paid","amount":0.123456789012345678,"currency":"ETH"}';
      expect(oxapay.normalise(signed(body), settings).events[0]?.money).toEqual({
        amountMinor: 123_456_789_012_345_678n,
        currency: 'ETH',
        exponent: 18,
      });
    });

    it('falls back to a digest of the body when there is no track_id', () => {
      const body = '{"type":"invoice","status":"Paid"}';
      expect(oxapay.normalise(signed(body), settings).events[0]?.eventId).toMatch(/^sha256:[0-9a-f]{64}$/);
    });

    it.each([
      ['no status', '{"track_id":"1","type":"invoice"}'],
      ['no type', '{"track_id":"1","status":"Paid"}'],
      ['a body that is not JSON', 'status=Paid'],
    ])('refuses to normalise a body with %s', (_name, body) => {
      expect(() => oxapay.normalise(signed(body), settings)).toThrow(UnparseablePayloadError);
    });

    it('answers HTTP 200 with the literal text "ok", as OXA Pay requires', () => {
      expect(oxapay.acceptedResponse).toEqual({ contentType: 'text/plain', body: 'ok' });
    });
  });
});

describe('Gateway: oxapay (static address deposits)', () => {
  const deposit = (txs: { tx_hash: string }[]) =>
    JSON.stringify({
      track_id: '555',
      type: 'static_address',
      status: 'Paid',
      amount: '5',
      currency: 'USDT',
      txs,
    });

  it('tells deposits apart by their transactions, whatever order a retry lists them in', () => {
    const idOf = (body: string) =>
      oxapay.normalise(signed(body), DEFAULT_GATEWAY_SETTINGS).events[0]?.eventId;
    const first = idOf(deposit([{ tx_hash: '0xaaa' }]));
    const both = idOf(deposit([{ tx_hash: '0xaaa' }, { tx_hash: '0xbbb' }]));
    const bothReordered = idOf(deposit([{ tx_hash: '0xbbb' }, { tx_hash: '0xaaa' }]));
    expect(first).toBe('555:paid:0xaaa');
    expect(both).not.toBe(first);
    expect(bothReordered).toBe(both);
  });
});
