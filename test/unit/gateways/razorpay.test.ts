import { createHmac } from 'node:crypto';
import Razorpay from 'razorpay';
import { describe, expect, it } from 'vitest';
import { devSecret, readSample } from '../../../events/index.js';
import { signRazorpay } from '../../../events/razorpay/sign.js';
import { razorpay } from '../../../lambdas/gateways/razorpay.js';
import { DEFAULT_GATEWAY_SETTINGS } from '../../../lambdas/gateways/settings.js';
import { UnparseablePayloadError } from '../../../lambdas/gateways/types.js';
import { secretOf, webhookRequest } from '../../support/requests.js';

const SECRET = 'rzp_whsec_test';
const settings = DEFAULT_GATEWAY_SETTINGS;

function signed(body: string, secret = SECRET, eventId?: string) {
  const { headers } = signRazorpay(body, { secret, ...(eventId !== undefined && { eventId }) });
  return webhookRequest(body, headers);
}

function withoutEventId(body: string) {
  const { 'x-razorpay-event-id': _id, ...headers } = signRazorpay(body, { secret: SECRET }).headers;
  return webhookRequest(body, headers);
}

describe('Gateway: razorpay', () => {
  describe('verify', () => {
    it('matches the documented test vector', () => {
      const body = '{"entity":"event","event":"payment.captured"}';
      const { headers } = signRazorpay(body, { secret: 'rzp_secret' });
      expect(headers['x-razorpay-signature']).toBe(
        'bb23e99a63affcafa84fe47a9e7b117356acd0452b3dff471f7a55c4edc24b9a',
      );
      expect(razorpay.verify(webhookRequest(body, headers), secretOf('rzp_secret'), settings)).toEqual({
        ok: true,
      });
    });

    it("signs every sample the way Razorpay's own SDK verifies it", () => {
      const secret = devSecret('razorpay');
      for (const name of ['payment.captured', 'order.paid', 'refund.processed']) {
        const body = readSample('razorpay', name);
        const { headers } = signRazorpay(body, { secret });
        const signature = headers['x-razorpay-signature'] ?? '';
        expect(Razorpay.validateWebhookSignature(body, signature, secret)).toBe(true);
        expect(razorpay.verify(webhookRequest(body, headers), secretOf(secret), settings)).toEqual({
          ok: true,
        });
      }
    });

    it('accepts an uppercase hex signature', () => {
      const body = '{"event":"payment.captured"}';
      const upper = createHmac('sha256', SECRET).update(body).digest('hex').toUpperCase();
      const request = webhookRequest(body, { 'x-razorpay-signature': upper });
      expect(razorpay.verify(request, secretOf(SECRET), settings).ok).toBe(true);
    });

    it('accepts a signature made with an older secret during rotation', () => {
      const request = signed('{"event":"payment.captured"}', 'rzp_old');
      expect(razorpay.verify(request, secretOf('rzp_new', 'rzp_old'), settings).ok).toBe(true);
    });

    it.each([
      [
        'a tampered body',
        () => ({ ...signed('{"a":1}'), body: Buffer.from('{"a":2}') }),
        'invalid_signature',
      ],
      ['the wrong secret', () => signed('{"a":1}', 'rzp_other'), 'invalid_signature'],
      ['no signature header', () => webhookRequest('{"a":1}'), 'missing_signature'],
      [
        'an empty signature header',
        () => webhookRequest('{"a":1}', { 'x-razorpay-signature': ' ' }),
        'missing_signature',
      ],
      [
        'a signature that is not 64 hex characters',
        () => webhookRequest('{"a":1}', { 'x-razorpay-signature': 'abc' }),
        'malformed_signature',
      ],
      [
        'a base64 digest where hex is expected',
        () =>
          webhookRequest('{"a":1}', {
            'x-razorpay-signature': createHmac('sha256', SECRET).update('{"a":1}').digest('base64'),
          }),
        'malformed_signature',
      ],
      [
        'a SHA-512 digest where SHA-256 is expected',
        () =>
          webhookRequest('{"a":1}', {
            'x-razorpay-signature': createHmac('sha512', SECRET).update('{"a":1}').digest('hex'),
          }),
        'malformed_signature',
      ],
    ])('refuses %s', (_name, makeRequest, reason) => {
      const result = razorpay.verify(makeRequest(), secretOf(SECRET), settings);
      expect(result).toMatchObject({ ok: false, reason });
    });

    it('never puts the secret or the expected signature in the refusal', () => {
      const body = '{"a":1}';
      const result = razorpay.verify(signed(body, 'rzp_other'), secretOf(SECRET), settings);
      const expected = createHmac('sha256', SECRET).update(body).digest('hex');
      expect(result.ok).toBe(false);
      expect(JSON.stringify(result)).not.toContain(SECRET);
      expect(JSON.stringify(result)).not.toContain(expected);
    });
  });

  describe('normalise', () => {
    it('turns payment.captured into a high-priority payment.succeeded with exact money', () => {
      const body = readSample('razorpay', 'payment.captured');
      const [event] = razorpay.normalise(signed(body, SECRET, 'evt_KnU7wdxaPy2Qnq'), settings).events;
      expect(event).toMatchObject({
        gateway: 'razorpay',
        eventId: 'evt_KnU7wdxaPy2Qnq',
        eventType: 'payment.captured',
        kind: 'payment.succeeded',
        priority: 'high',
        reference: 'ORDER-2001',
        gatewayPaymentId: 'order_Q8mMz5hJ3kW9pB',
        mode: 'unknown',
        occurredAt: '2026-11-21T09:30:06.000Z',
        payload: body,
      });
      expect(event?.money).toEqual({ amountMinor: 49900n, currency: 'INR', exponent: 2 });
    });

    it('takes the reference from the order receipt when the payment has no notes', () => {
      const [event] = razorpay.normalise(signed(readSample('razorpay', 'order.paid')), settings).events;
      expect(event).toMatchObject({
        kind: 'payment.succeeded',
        priority: 'high',
        reference: 'ORDER-2001',
        gatewayPaymentId: 'order_Q8mMz5hJ3kW9pB',
        occurredAt: '2026-11-21T09:30:07.000Z',
      });
      expect(event?.money).toEqual({ amountMinor: 49900n, currency: 'INR', exponent: 2 });
    });

    it('reports the refund amount, not the payment amount, for a partial refund', () => {
      const [event] = razorpay.normalise(signed(readSample('razorpay', 'refund.processed')), settings).events;
      expect(event).toMatchObject({
        kind: 'refund.succeeded',
        priority: 'normal',
        reference: 'ORDER-2001',
        gatewayPaymentId: 'order_Q8mMz5hJ3kW9pB',
      });
      expect(event?.money).toEqual({ amountMinor: 20000n, currency: 'INR', exponent: 2 });
    });

    it('ranks a dispute high and reports the disputed amount', () => {
      const [event] = razorpay.normalise(
        signed(readSample('razorpay', 'payment.dispute.created')),
        settings,
      ).events;
      expect(event).toMatchObject({
        kind: 'dispute.opened',
        priority: 'high',
        reference: 'ORDER-2001',
        gatewayPaymentId: 'order_Q8mMz5hJ3kW9pB',
        occurredAt: '2026-11-28T16:40:02.000Z',
      });
      expect(event?.money).toEqual({ amountMinor: 29900n, currency: 'INR', exponent: 2 });
    });

    it('leaves the reference out when notes is the empty list Razorpay sends', () => {
      const [event] = razorpay.normalise(signed(readSample('razorpay', 'payment.failed')), settings).events;
      expect(event).toMatchObject({
        kind: 'payment.failed',
        priority: 'normal',
        gatewayPaymentId: 'order_Q8mLp0Ye7rXb1C',
      });
      expect(event).not.toHaveProperty('reference');
      expect(event?.money).toEqual({ amountMinor: 125000n, currency: 'INR', exponent: 2 });
    });

    it.each([
      ['payment.authorized', 'payment.authorized', 'normal'],
      ['payment.failed', 'payment.failed', 'normal'],
      ['payment.captured', 'payment.succeeded', 'high'],
      ['order.paid', 'payment.succeeded', 'high'],
      ['refund.processed', 'refund.succeeded', 'normal'],
      ['payment.dispute.created', 'dispute.opened', 'high'],
    ])('classifies the %s sample as %s (%s)', (sample, kind, priority) => {
      const [event] = razorpay.normalise(signed(readSample('razorpay', sample)), settings).events;
      expect(event).toMatchObject({ eventType: sample, kind, priority, mode: 'unknown' });
    });

    it.each([
      ['payment_link.paid', 'payment.succeeded', 'high'],
      ['invoice.paid', 'payment.succeeded', 'high'],
      ['refund.created', 'refund.pending', 'normal'],
      ['refund.failed', 'refund.failed', 'normal'],
      ['payment.dispute.won', 'dispute.won', 'high'],
      ['payment.dispute.lost', 'dispute.lost', 'high'],
      ['payment.dispute.closed', 'dispute.updated', 'high'],
      ['payment.dispute.under_review', 'dispute.updated', 'high'],
      ['payment.dispute.action_required', 'dispute.updated', 'high'],
      ['subscription.charged', 'other', 'low'],
    ])('classifies %s as %s (%s)', (eventType, kind, priority) => {
      const body = JSON.stringify({ entity: 'event', event: eventType, payload: {}, created_at: 1795253406 });
      expect(razorpay.normalise(signed(body), settings).events[0]).toMatchObject({ kind, priority });
    });

    it('gives a re-signed sample the same event id, and different samples different ids', () => {
      const captured = readSample('razorpay', 'payment.captured');
      const first = razorpay.normalise(signed(captured), settings).events[0]?.eventId;
      const again = razorpay.normalise(signed(captured, 'rzp_other'), settings).events[0]?.eventId;
      const other = razorpay.normalise(signed(readSample('razorpay', 'order.paid')), settings).events[0]
        ?.eventId;
      expect(first).toMatch(/^evt_[0-9a-f]{14}$/);
      expect(again).toBe(first);
      expect(other).not.toBe(first);
    });

    it.each([
      ['payment.captured', 'payment.captured:pay_Q8mN2xK7rT4vLa'],
      ['refund.processed', 'refund.processed:rfnd_Q9aB3cD4eF5gH6'],
      ['payment.dispute.created', 'payment.dispute.created:disp_Q9bC4dE5fG6hJ7'],
    ])(
      'falls back to the event and its own entity id for %s when the event-id header is missing',
      (sample, id) => {
        const [event] = razorpay.normalise(withoutEventId(readSample('razorpay', sample)), settings).events;
        expect(event?.eventId).toBe(id);
      },
    );

    it('falls back to a body digest when there is neither an event-id header nor an entity', () => {
      const body = '{"entity":"event","event":"payment.downtime.started","payload":{}}';
      const [event] = razorpay.normalise(withoutEventId(body), settings).events;
      expect(event?.eventId).toMatch(/^sha256:[0-9a-f]{64}$/);
    });

    it('reads the reference from notes.order_id and a bare payment id when there is no order', () => {
      const body =
        '{"event":"payment.captured","payload":{"payment":{"entity":{"id":"pay_X1","order_id":null,"amount":100,"currency":"INR","notes":{"order_id":"ORDER-2009"}}}}}';
      expect(razorpay.normalise(signed(body), settings).events[0]).toMatchObject({
        reference: 'ORDER-2009',
        gatewayPaymentId: 'pay_X1',
      });
    });

    it('honours a configured priority override', () => {
      const overridden = { ...settings, priorityOverrides: { 'payment.authorized': 'high' as const } };
      const [event] = razorpay.normalise(
        signed(readSample('razorpay', 'payment.authorized')),
        overridden,
      ).events;
      expect(event?.priority).toBe('high');
    });

    it.each([
      ['a body without an event name', '{"entity":"event","payload":{}}'],
      ['a body without a payload object', '{"entity":"event","event":"payment.captured"}'],
      ['a body that is not JSON', 'event=payment.captured'],
    ])('refuses to normalise %s', (_name, body) => {
      expect(() => razorpay.normalise(signed(body), settings)).toThrow(UnparseablePayloadError);
    });

    it('refuses an amount that is not an integer of paise', () => {
      const body =
        '{"event":"payment.captured","payload":{"payment":{"entity":{"id":"pay_X1","amount":499.5,"currency":"INR"}}}}';
      expect(() => razorpay.normalise(signed(body), settings)).toThrow(/not an integer of minor units/);
    });
  });
});
