import { createHash, createHmac } from 'node:crypto';
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

function eventIdOf(request: ReturnType<typeof webhookRequest>): string | undefined {
  return razorpay.normalise(request, settings).events[0]?.eventId;
}

/** A Razorpay event body around the given payload entities. */
function razorpayBody(event: string, entities: Record<string, Record<string, unknown>>): string {
  const payload = Object.fromEntries(Object.entries(entities).map(([name, entity]) => [name, { entity }]));
  return JSON.stringify({
    entity: 'event',
    event,
    contains: Object.keys(entities),
    payload,
    created_at: 1795253406,
  });
}

const PAYMENT = {
  id: 'pay_Q8mN2xK7rT4vLa',
  entity: 'payment',
  amount: 49900,
  currency: 'INR',
  order_id: null,
};

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
        eventId: 'payment.captured:pay_Q8mN2xK7rT4vLa',
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
      const first = eventIdOf(signed(captured));
      const again = eventIdOf(signed(captured, 'rzp_other'));
      const other = eventIdOf(signed(readSample('razorpay', 'order.paid')));
      expect(first).toBe('payment.captured:pay_Q8mN2xK7rT4vLa');
      expect(again).toBe(first);
      expect(other).not.toBe(first);
    });

    it.each([
      ['payment.authorized', 'payment.authorized:pay_Q8mN2xK7rT4vLa'],
      ['payment.captured', 'payment.captured:pay_Q8mN2xK7rT4vLa'],
      ['payment.failed', 'payment.failed:pay_Q8mLq1Zf8sYc2D'],
      ['order.paid', 'order.paid:order_Q8mMz5hJ3kW9pB:pay_Q8mN2xK7rT4vLa'],
      ['refund.processed', 'refund.processed:rfnd_Q9aB3cD4eF5gH6'],
      ['payment.dispute.created', 'payment.dispute.created:disp_Q9bC4dE5fG6hJ7:open'],
    ])('derives the event id of the %s sample from the signed body: %s', (sample, id) => {
      const body = readSample('razorpay', sample);
      expect(eventIdOf(signed(body))).toBe(id);
      expect(eventIdOf(withoutEventId(body))).toBe(id);
    });

    it.each(['payment.captured', 'order.paid', 'refund.processed', 'payment.dispute.created'])(
      'keeps one event id for a captured %s body replayed under any x-razorpay-event-id',
      (sample) => {
        // The header is not signed: anyone holding one captured body can send it with fresh header values.
        const body = readSample('razorpay', sample);
        const ids = new Set(
          [
            eventIdOf(signed(body)),
            eventIdOf(withoutEventId(body)),
            ...['evt_replay1', 'evt_replay2', 'evt_replay3', 'evt_replay4', '', '   '].map((header) =>
              eventIdOf(signed(body, SECRET, header)),
            ),
            eventIdOf(signed(body, SECRET, 'payhook:reconciler:order_Q8mMz5hJ3kW9pB:payment.succeeded')),
          ].map((id) => id ?? 'none'),
        );
        expect([...ids]).toHaveLength(1);
        expect([...ids][0]).not.toMatch(/evt_|payhook:/);
      },
    );

    it('keys one dispute moving through statuses apart, and a retry of one status together', () => {
      const dispute = (status: string) => ({
        id: 'disp_Q9bC4dE5fG6hJ7',
        entity: 'dispute',
        payment_id: PAYMENT.id,
        amount: 29900,
        currency: 'INR',
        status,
      });
      const underReview = eventIdOf(
        signed(
          razorpayBody('payment.dispute.action_required', { payment: PAYMENT, dispute: dispute('open') }),
        ),
      );
      const later = eventIdOf(
        signed(
          razorpayBody('payment.dispute.action_required', {
            payment: PAYMENT,
            dispute: dispute('under_review'),
          }),
        ),
      );
      expect(underReview).toBe('payment.dispute.action_required:disp_Q9bC4dE5fG6hJ7:open');
      expect(later).toBe('payment.dispute.action_required:disp_Q9bC4dE5fG6hJ7:under_review');
    });

    it.each([
      ['payment_link.paid', 'payment_link', 'plink_Q9cD5eF6gH7jK8'],
      ['payment_link.partially_paid', 'payment_link', 'plink_Q9cD5eF6gH7jK8'],
      ['invoice.paid', 'invoice', 'inv_Q9dE6fG7hJ8kL9'],
      ['invoice.partially_paid', 'invoice', 'inv_Q9dE6fG7hJ8kL9'],
    ])('keys %s by the %s and the payment: one link or invoice can be paid in parts', (event, name, id) => {
      const order = { id: 'order_Q9eF7gH8jK9lM0', entity: 'order', amount: 49900, currency: 'INR' };
      const entities = { [name]: { id, entity: name }, order, payment: PAYMENT };
      const second = { ...PAYMENT, id: 'pay_Q9fG8hJ9kL0mN1' };
      expect(eventIdOf(signed(razorpayBody(event, entities)))).toBe(`${event}:${id}:${PAYMENT.id}`);
      expect(eventIdOf(signed(razorpayBody(event, { ...entities, payment: second })))).toBe(
        `${event}:${id}:pay_Q9fG8hJ9kL0mN1`,
      );
    });

    it.each([
      ['an event with no entity', '{"entity":"event","event":"payment.downtime.started","payload":{}}'],
      ['an event type with no rule', razorpayBody('subscription.charged', { payment: PAYMENT })],
      [
        'a payment link event without a payment',
        razorpayBody('payment_link.expired', { payment_link: { id: 'plink_1' } }),
      ],
      ['order.paid without a payment', razorpayBody('order.paid', { order: { id: 'order_1' } })],
      ['a dispute without a status', razorpayBody('payment.dispute.won', { dispute: { id: 'disp_1' } })],
    ])('falls back to the event and a digest of the body for %s', (_name, body) => {
      const [event] = razorpay.normalise(signed(body, SECRET, 'evt_chosen_by_sender'), settings).events;
      const eventType = (JSON.parse(body) as { event: string }).event;
      expect(event?.eventId).toBe(`${eventType}:sha256:${createHash('sha256').update(body).digest('hex')}`);
      // Other bytes (another event, or the same one re-serialised) are another id.
      expect(eventIdOf(signed(`${body}\n`))).not.toBe(event?.eventId);
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
