import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { readSample } from '../../../events/index.js';
import { signPaystack } from '../../../events/paystack/sign.js';
import { paystack } from '../../../lambdas/gateways/paystack.js';
import { DEFAULT_GATEWAY_SETTINGS } from '../../../lambdas/gateways/settings.js';
import { secretOf, webhookRequest } from '../../support/requests.js';

const SECRET = 'sk_test_abc';
const settings = DEFAULT_GATEWAY_SETTINGS;

function signed(body: string, secret = SECRET) {
  const { headers } = signPaystack(body, { secret });
  return webhookRequest(body, headers);
}

describe('Gateway: paystack', () => {
  describe('verify', () => {
    it('matches the documented test vector', () => {
      // Vector from providers.md, computed with node:crypto; the signer must reproduce it exactly.
      const body =
        '{"event":"charge.success","data":{"id":302961,"reference":"qTPrJoy9Bx","amount":10000,"currency":"NGN","status":"success"}}';
      const { headers } = signPaystack(body, { secret: SECRET });
      expect(headers['x-paystack-signature']).toBe(
        'ebdd16a12e7057c5dcf6648399b77a24c77466e8532fabbd8cd71a5a6cdbe189a24355ab7c545901022e778dcd6a3b65d12a5942cdcb81fed6519e752541c5a1',
      );
      expect(paystack.verify(webhookRequest(body, headers), secretOf(SECRET), settings)).toEqual({
        ok: true,
      });
    });

    it('accepts a signature made with an older secret during rotation', () => {
      const request = signed('{"event":"charge.success","data":{"id":1}}', 'sk_test_old');
      expect(paystack.verify(request, secretOf('sk_test_new', 'sk_test_old'), settings).ok).toBe(true);
    });

    it.each([
      [
        'a tampered body',
        () => ({ ...signed('{"a":1}'), body: Buffer.from('{"a":2}') }),
        'invalid_signature',
      ],
      ['the wrong secret', () => signed('{"a":1}', 'sk_test_other'), 'invalid_signature'],
      ['no signature header', () => webhookRequest('{"a":1}'), 'missing_signature'],
      [
        'a signature that is not 128 hex characters',
        () => webhookRequest('{"a":1}', { 'x-paystack-signature': 'abc' }),
        'malformed_signature',
      ],
      [
        'a SHA-256 digest where SHA-512 is expected',
        () =>
          webhookRequest('{"a":1}', {
            'x-paystack-signature': createHmac('sha256', SECRET).update('{"a":1}').digest('hex'),
          }),
        'malformed_signature',
      ],
    ])('refuses %s', (_name, makeRequest, reason) => {
      const result = paystack.verify(makeRequest(), secretOf(SECRET), settings);
      expect(result).toMatchObject({ ok: false, reason });
    });
  });

  describe('normalise', () => {
    it('turns charge.success into a high-priority payment.succeeded with exact money', () => {
      const body = readSample('paystack', 'charge.success');
      const [event] = paystack.normalise(signed(body), settings).events;
      expect(event).toMatchObject({
        gateway: 'paystack',
        eventId: 'charge.success:302961',
        eventType: 'charge.success',
        kind: 'payment.succeeded',
        priority: 'high',
        reference: 'ORDER-1001',
        gatewayPaymentId: '302961',
        mode: 'test',
        occurredAt: '2026-11-20T10:15:19.000Z',
        payload: body,
      });
      expect(event?.money).toEqual({ amountMinor: 250000n, currency: 'NGN', exponent: 2 });
    });

    it('reads a refund amount sent as a string and derives the id from refund_reference', () => {
      const [event] = paystack.normalise(signed(readSample('paystack', 'refund.processed')), settings).events;
      expect(event).toMatchObject({
        eventId: 'refund.processed:RFD-1001-1',
        kind: 'refund.succeeded',
        priority: 'normal',
        reference: 'ORDER-1001',
      });
      expect(event?.money?.amountMinor).toBe(100000n);
    });

    it('ranks a dispute high and points it at the disputed transaction', () => {
      const [event] = paystack.normalise(
        signed(readSample('paystack', 'charge.dispute.create')),
        settings,
      ).events;
      expect(event).toMatchObject({
        kind: 'dispute.opened',
        priority: 'high',
        reference: 'ORDER-1001',
        gatewayPaymentId: '302961',
      });
    });

    it.each([
      ['merchant-accepted', 'dispute.lost'],
      ['auto-accepted', 'dispute.lost'],
      ['declined', 'dispute.won'],
      ['something-new', 'dispute.updated'],
    ])('reads a dispute resolved as %s as %s, about the same dispute', (resolution, kind) => {
      const body = JSON.parse(readSample('paystack', 'charge.dispute.create')) as {
        event: string;
        data: object;
      };
      const resolved = { ...body, event: 'charge.dispute.resolve', data: { ...body.data, resolution } };
      const [event] = paystack.normalise(signed(JSON.stringify(resolved)), settings).events;
      expect(event).toMatchObject({ kind, factId: '358950' });
    });

    it.each([
      ['paymentrequest.pending', 'payment.pending', 'normal'],
      ['invoice.payment_failed', 'payment.failed', 'normal'],
    ])('classifies %s as %s (%s)', (sample, kind, priority) => {
      const [event] = paystack.normalise(signed(readSample('paystack', sample)), settings).events;
      expect(event).toMatchObject({ kind, priority });
    });

    it('ranks unknown events low as "other" and honours a configured priority override', () => {
      const body = '{"event":"subscription.create","data":{"id":9,"domain":"live"}}';
      expect(paystack.normalise(signed(body), settings).events[0]).toMatchObject({
        kind: 'other',
        priority: 'low',
        mode: 'live',
      });
      const overridden = { ...settings, priorityOverrides: { 'subscription.create': 'normal' as const } };
      expect(paystack.normalise(signed(body), overridden).events[0]?.priority).toBe('normal');
    });

    it('refuses to normalise a body without an event name', () => {
      expect(() => paystack.normalise(signed('{"data":{}}'), settings)).toThrow(/no "event" name/);
    });
  });
});

describe('Event tables', () => {
  it('do not mistake built-in object members for event types', () => {
    const body = '{"event":"constructor","data":{"id":1}}';
    const { headers } = signPaystack(body, { secret: SECRET });
    const [event] = paystack.normalise(webhookRequest(body, headers), settings).events;
    expect(event).toMatchObject({ kind: 'other', priority: 'low' });
  });
});

describe('Gateway: paystack (recurring event types)', () => {
  const remind = (dueAt: string) =>
    JSON.stringify({ event: 'charge.dispute.remind', data: { id: 358950, due_at: dueAt, domain: 'test' } });
  const idOf = (body: string) => paystack.normalise(signed(body), settings).events[0]?.eventId;

  it('gives each reminder for one dispute its own id, while a resend of the same reminder keeps it', () => {
    const first = idOf(remind('2026-11-28T00:00:00.000Z'));
    const second = idOf(remind('2026-11-29T00:00:00.000Z'));
    expect(first).toMatch(/^charge\.dispute\.remind:358950:[0-9a-f]{16}$/);
    expect(second).not.toBe(first);
    expect(idOf(remind('2026-11-28T00:00:00.000Z'))).toBe(first);
  });

  it('keeps the plain id for events that happen once per object', () => {
    expect(idOf('{"event":"charge.success","data":{"id":7}}')).toBe('charge.success:7');
  });
});
