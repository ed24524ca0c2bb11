import { createHmac } from 'node:crypto';
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { devSecret, readSample } from '../../../events/index.js';
import { signStripe } from '../../../events/stripe/sign.js';
import { paymentKeyOf } from '../../../lambdas/domain/payment.js';
import { DEFAULT_GATEWAY_SETTINGS } from '../../../lambdas/gateways/settings.js';
import { stripe } from '../../../lambdas/gateways/stripe.js';
import { UnparseablePayloadError } from '../../../lambdas/gateways/types.js';
import { secretOf, webhookRequest } from '../../support/requests.js';

const SECRET = 'whsec_test_secret';
const settings = DEFAULT_GATEWAY_SETTINGS;
const NOW = new Date('2026-11-20T10:15:30.000Z');
const BODY =
  '{"id":"evt_1","object":"event","type":"payment_intent.succeeded","data":{"object":{"id":"pi_1"}}}';

function secondsFrom(date: Date, offset: number): Date {
  return new Date(date.getTime() + offset * 1000);
}

function signed(body: string, secret = SECRET, timestamp = NOW) {
  const { headers } = signStripe(body, { secret, timestamp });
  return webhookRequest(body, headers, NOW);
}

function withHeader(header: string, body = BODY) {
  return webhookRequest(body, { 'stripe-signature': header }, NOW);
}

function v1For(body: string, secret = SECRET, timestamp = NOW): string {
  const t = Math.floor(timestamp.getTime() / 1000);
  return createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
}

/** A Stripe event around a given data.object, for table cases the samples do not cover. */
function event(type: string, object: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    id: 'evt_case_1',
    object: 'event',
    created: 1795169719,
    livemode: false,
    type,
    data: { object },
    ...extra,
  });
}

describe('Gateway: stripe', () => {
  describe('verify', () => {
    it('matches the documented test vector', () => {
      const payload =
        '{"id":"evt_test_1","object":"event","type":"payment_intent.succeeded","data":{"object":{"id":"pi_1","object":"payment_intent","amount":2000,"currency":"usd","status":"succeeded"}}}';
      const timestamp = new Date(1_700_000_000 * 1000);
      const { headers } = signStripe(payload, { secret: SECRET, timestamp });
      expect(headers['stripe-signature']).toBe(
        't=1700000000,v1=2b1b906c114d467bbba1e904b7189225dc9163eab1dce4ded347f33e6bd21c92',
      );
      const request = webhookRequest(payload, headers, secondsFrom(timestamp, 10));
      expect(stripe.verify(request, secretOf(SECRET), settings)).toEqual({ ok: true });
    });

    it('accepts a header made by the official stripe package', () => {
      const timestamp = Math.floor(NOW.getTime() / 1000);
      const header = Stripe.webhooks.generateTestHeaderString({ payload: BODY, secret: SECRET, timestamp });
      expect(stripe.verify(withHeader(header), secretOf(SECRET), settings)).toEqual({ ok: true });
    });

    it('produces a header the official stripe package accepts', () => {
      const { headers } = signStripe(BODY, { secret: SECRET });
      const header = headers['stripe-signature'] ?? '';
      expect(Stripe.webhooks.signature?.verifyHeader(BODY, header, SECRET)).toBe(true);
      expect(Stripe.webhooks.constructEvent(BODY, header, SECRET).id).toBe('evt_1');
    });

    it('uses the whsec_ secret as-is, not base64-decoded', () => {
      const secret = devSecret('stripe');
      const request = signed(BODY, secret);
      expect(request.headers['stripe-signature']).toContain(`v1=${v1For(BODY, secret)}`);
      expect(stripe.verify(request, secretOf(secret), settings).ok).toBe(true);
    });

    it('accepts a signature made with an older secret during rotation', () => {
      const request = signed(BODY, 'whsec_old');
      expect(stripe.verify(request, secretOf('whsec_new', 'whsec_old'), settings).ok).toBe(true);
    });

    it('accepts any v1 of several, as Stripe sends while an endpoint secret is rolled, and ignores v0', () => {
      const t = Math.floor(NOW.getTime() / 1000);
      const header = `t=${t},v1=${'0'.repeat(64)},v1=${v1For(BODY)},v0=${'1'.repeat(64)}`;
      expect(stripe.verify(withHeader(header), secretOf(SECRET), settings).ok).toBe(true);
    });

    it('tolerates spaces around header parts', () => {
      const t = Math.floor(NOW.getTime() / 1000);
      expect(stripe.verify(withHeader(`t=${t}, v1=${v1For(BODY)}`), secretOf(SECRET), settings).ok).toBe(
        true,
      );
    });

    it('bounds the timestamp in both directions (Stripe itself bounds only the age)', () => {
      const old = signed(BODY, SECRET, secondsFrom(NOW, -301));
      const future = signed(BODY, SECRET, secondsFrom(NOW, 301));
      const justInside = signed(BODY, SECRET, secondsFrom(NOW, 299));
      expect(stripe.verify(old, secretOf(SECRET), settings)).toMatchObject({
        ok: false,
        reason: 'timestamp_out_of_tolerance',
        detail: expect.stringContaining('old'),
      });
      expect(stripe.verify(future, secretOf(SECRET), settings)).toMatchObject({
        ok: false,
        reason: 'timestamp_out_of_tolerance',
        detail: expect.stringContaining('future'),
      });
      expect(stripe.verify(justInside, secretOf(SECRET), settings).ok).toBe(true);
      expect(stripe.verify(old, secretOf(SECRET), { ...settings, toleranceSeconds: 600 }).ok).toBe(true);
    });

    it.each([
      [
        'a tampered body',
        () => ({ ...signed(BODY), body: Buffer.from(BODY.replace('pi_1', 'pi_2')) }),
        'invalid_signature',
      ],
      ['the wrong secret', () => signed(BODY, 'whsec_other'), 'invalid_signature'],
      [
        'a signature over a different timestamp',
        () => withHeader(`t=${Math.floor(NOW.getTime() / 1000) + 1},v1=${v1For(BODY)}`),
        'invalid_signature',
      ],
      ['no signature header', () => webhookRequest(BODY, {}, NOW), 'missing_signature'],
      ['a blank signature header', () => withHeader('  '), 'missing_signature'],
      ['a header without t', () => withHeader(`v1=${v1For(BODY)}`), 'malformed_signature'],
      ['a header with two t values', () => withHeader(`t=1,t=2,v1=${v1For(BODY)}`), 'malformed_signature'],
      [
        'a header without v1',
        () => withHeader(`t=${Math.floor(NOW.getTime() / 1000)},v0=${v1For(BODY)}`),
        'malformed_signature',
      ],
      [
        'a v1 that is not a SHA-256 hex digest',
        () => withHeader(`t=${Math.floor(NOW.getTime() / 1000)},v1=abc`),
        'malformed_signature',
      ],
      [
        'a timestamp that is not a number',
        () => withHeader(`t=yesterday,v1=${v1For(BODY)}`),
        'malformed_signature',
      ],
    ])('refuses %s', (_name, makeRequest, reason) => {
      const result = stripe.verify(makeRequest(), secretOf(SECRET), settings);
      expect(result).toMatchObject({ ok: false, reason });
    });

    it('never puts the secret or the expected signature in the refusal detail', () => {
      const result = stripe.verify(signed(BODY, 'whsec_other'), secretOf(SECRET), settings);
      expect(result.ok).toBe(false);
      const detail = result.ok ? '' : result.detail;
      expect(detail).not.toContain(SECRET);
      expect(detail).not.toContain(v1For(BODY));
    });
  });

  describe('normalise', () => {
    const samples = [
      {
        sample: 'payment_intent.succeeded',
        eventId: 'evt_3QpHyk2eZvKYlo2C1a7Gm4Ns',
        kind: 'payment.succeeded',
        priority: 'high',
        reference: 'ORDER-2001',
        gatewayPaymentId: 'pi_3QpHyk2eZvKYlo2C1qW8tRzD',
        money: { amountMinor: 4999n, currency: 'USD', exponent: 2 },
      },
      {
        sample: 'payment_intent.payment_failed',
        eventId: 'evt_3QpI0c2eZvKYlo2C0bH5Lx9Q',
        kind: 'payment.failed',
        priority: 'normal',
        reference: 'ORDER-2002',
        gatewayPaymentId: 'pi_3QpI0c2eZvKYlo2C0kT2wYpE',
        money: { amountMinor: 4999n, currency: 'USD', exponent: 2 },
      },
      {
        sample: 'payment_intent.processing',
        eventId: 'evt_3QpI2r2eZvKYlo2C1cJ8nP0w',
        kind: 'payment.pending',
        priority: 'normal',
        reference: 'ORDER-2003',
        gatewayPaymentId: 'pi_3QpI2r2eZvKYlo2C1xN3sQuV',
        money: { amountMinor: 125000n, currency: 'EUR', exponent: 2 },
      },
      {
        sample: 'checkout.session.completed',
        eventId: 'evt_1QpI5t2eZvKYlo2CkL3mN4oP',
        kind: 'payment.succeeded',
        priority: 'high',
        reference: 'ORDER-2004',
        gatewayPaymentId: 'pi_3QpI5s2eZvKYlo2C0pQ7rS8t',
        money: { amountMinor: 9900n, currency: 'GBP', exponent: 2 },
      },
      {
        sample: 'charge.refunded',
        eventId: 'evt_3QpHyk2eZvKYlo2C1r9Tq2Vb',
        kind: 'refund.succeeded',
        priority: 'normal',
        reference: 'ORDER-2001',
        gatewayPaymentId: 'pi_3QpHyk2eZvKYlo2C1qW8tRzD',
        // The refunded part, not the original charge of 4999.
        money: { amountMinor: 1500n, currency: 'USD', exponent: 2 },
      },
      {
        sample: 'charge.dispute.created',
        eventId: 'evt_1QpK8d2eZvKYlo2CdIsPuT3x',
        kind: 'dispute.opened',
        priority: 'high',
        reference: undefined,
        gatewayPaymentId: 'pi_3QpHyk2eZvKYlo2C1qW8tRzD',
        money: { amountMinor: 4999n, currency: 'USD', exponent: 2 },
      },
    ];

    it.each(samples)('normalises the $sample sample', ({ sample, money, reference, ...expected }) => {
      const body = readSample('stripe', sample);
      const { events, unparseable } = stripe.normalise(signed(body), settings);
      expect(unparseable).toEqual([]);
      expect(events).toHaveLength(1);
      const [normalised] = events;
      expect(normalised).toMatchObject({
        gateway: 'stripe',
        eventType: sample,
        mode: 'test',
        payload: body,
        ...expected,
      });
      expect(normalised?.reference).toBe(reference);
      expect(normalised?.money).toEqual(money);
      expect(normalised?.occurredAt).toMatch(/^2026-11-\d\dT\d\d:\d\d:\d\d\.000Z$/);
    });

    it('dates the event from its created time and reads livemode', () => {
      const [event] = stripe.normalise(
        signed(readSample('stripe', 'payment_intent.succeeded')),
        settings,
      ).events;
      expect(event?.occurredAt).toBe('2026-11-20T10:15:19.000Z');
      const live = readSample('stripe', 'payment_intent.succeeded').replace(
        /"livemode": false/g,
        '"livemode": true',
      );
      expect(stripe.normalise(signed(live), settings).events[0]?.mode).toBe('live');
      expect(stripe.normalise(signed(BODY), settings).events[0]?.mode).toBe('unknown');
    });

    it('counts amount_received on payment_intent.succeeded and amount on other intent events', () => {
      const object = {
        id: 'pi_9',
        object: 'payment_intent',
        amount: 5000,
        amount_received: 4000,
        currency: 'usd',
      };
      const succeeded = stripe.normalise(signed(event('payment_intent.succeeded', object)), settings)
        .events[0];
      const canceled = stripe.normalise(signed(event('payment_intent.canceled', object)), settings).events[0];
      expect(succeeded?.money?.amountMinor).toBe(4000n);
      expect(canceled).toMatchObject({ kind: 'payment.expired', gatewayPaymentId: 'pi_9' });
      expect(canceled?.money?.amountMinor).toBe(5000n);
    });

    it.each([
      ['ISK', 'isk', {}, 2],
      ['UGX', 'ugx', {}, 2],
      ['JPY', 'jpy', {}, 0],
      ['KWD', 'kwd', {}, 3],
      ['a deployment override of ISK', 'isk', { ISK: 0 }, 0],
    ])('applies the exponent Stripe uses for %s', (_name, currency, currencyExponents, exponent) => {
      const object = { id: 'pi_1', object: 'payment_intent', amount: 129900, currency };
      const [normalised] = stripe.normalise(signed(event('payment_intent.succeeded', object)), {
        ...settings,
        currencyExponents,
      }).events;
      expect(normalised?.money).toEqual({ amountMinor: 129900n, currency: currency.toUpperCase(), exponent });
    });

    it('keeps amounts beyond a double exactly', () => {
      const body =
        '{"id":"evt_big","object":"event","type":"charge.succeeded","data":{"object":{"object":"charge","amount":90071992547409931,"currency":"usd"}}}';
      expect(stripe.normalise(signed(body), settings).events[0]?.money?.amountMinor).toBe(90071992547409931n);
    });

    it('finds the reference under configured metadata keys, then client_reference_id', () => {
      const object = {
        id: 'cs_1',
        object: 'checkout.session',
        payment_status: 'paid',
        client_reference_id: 'ORDER-2010',
      };
      const withMetadata = { ...object, metadata: { cart: 'CART-7', order_id: 'ORDER-2011' } };
      const normaliseWith = (o: Record<string, unknown>, keys: string[]) =>
        stripe.normalise(signed(event('checkout.session.completed', o)), {
          ...settings,
          stripeReferenceMetadataKeys: keys,
        }).events[0]?.reference;
      expect(normaliseWith(object, ['reference', 'order_id'])).toBe('ORDER-2010');
      expect(normaliseWith(withMetadata, ['reference', 'order_id'])).toBe('ORDER-2011');
      expect(normaliseWith(withMetadata, ['cart', 'order_id'])).toBe('CART-7');
    });

    it.each([
      [
        'checkout.session.completed',
        { object: 'checkout.session', status: 'complete', payment_status: 'unpaid' },
        'payment.pending',
        'normal',
      ],
      [
        'checkout.session.completed',
        { object: 'checkout.session', status: 'complete', payment_status: 'no_payment_required' },
        'other',
        'low',
      ],
      [
        'checkout.session.async_payment_succeeded',
        { object: 'checkout.session', payment_status: 'paid' },
        'payment.succeeded',
        'high',
      ],
      [
        'checkout.session.async_payment_failed',
        { object: 'checkout.session', payment_status: 'unpaid' },
        'payment.failed',
        'normal',
      ],
      [
        'checkout.session.expired',
        { object: 'checkout.session', status: 'expired', payment_status: 'unpaid' },
        'payment.expired',
        'normal',
      ],
      ['charge.succeeded', { object: 'charge', status: 'succeeded' }, 'payment.succeeded', 'high'],
      ['charge.captured', { object: 'charge', status: 'succeeded' }, 'payment.succeeded', 'high'],
      ['charge.pending', { object: 'charge', status: 'pending' }, 'payment.pending', 'normal'],
      ['charge.failed', { object: 'charge', status: 'failed' }, 'payment.failed', 'normal'],
      ['charge.expired', { object: 'charge', status: 'failed' }, 'payment.expired', 'normal'],
      [
        'payment_intent.created',
        { object: 'payment_intent', status: 'requires_payment_method' },
        'payment.pending',
        'normal',
      ],
      [
        'payment_intent.requires_action',
        { object: 'payment_intent', status: 'requires_action' },
        'payment.pending',
        'normal',
      ],
      [
        'payment_intent.amount_capturable_updated',
        { object: 'payment_intent', status: 'requires_capture' },
        'payment.authorized',
        'normal',
      ],
      ['refund.created', { object: 'refund', status: 'pending' }, 'refund.pending', 'normal'],
      ['refund.created', { object: 'refund', status: 'succeeded' }, 'refund.succeeded', 'normal'],
      ['refund.updated', { object: 'refund', status: 'succeeded' }, 'refund.succeeded', 'normal'],
      ['refund.updated', { object: 'refund', status: 'canceled' }, 'refund.failed', 'normal'],
      ['refund.failed', { object: 'refund', status: 'failed' }, 'refund.failed', 'normal'],
      ['charge.refund.updated', { object: 'refund', status: 'failed' }, 'refund.failed', 'normal'],
      ['charge.dispute.updated', { object: 'dispute', status: 'under_review' }, 'dispute.updated', 'high'],
      [
        'charge.dispute.funds_withdrawn',
        { object: 'dispute', status: 'needs_response' },
        'dispute.updated',
        'high',
      ],
      ['charge.dispute.funds_reinstated', { object: 'dispute', status: 'won' }, 'dispute.updated', 'high'],
      ['charge.dispute.closed', { object: 'dispute', status: 'won' }, 'dispute.won', 'high'],
      ['charge.dispute.closed', { object: 'dispute', status: 'lost' }, 'dispute.lost', 'high'],
      ['charge.dispute.closed', { object: 'dispute', status: 'warning_closed' }, 'dispute.updated', 'high'],
      ['customer.created', { object: 'customer' }, 'other', 'low'],
    ])('classifies %s with %j as %s (%s)', (type, object, kind, priority) => {
      const [normalised] = stripe.normalise(signed(event(type, { id: 'obj_1', ...object })), settings).events;
      expect(normalised).toMatchObject({ eventType: type, kind, priority });
    });

    it('points refunds and disputes at their PaymentIntent, expanded or not', () => {
      const refund = {
        id: 're_1',
        object: 'refund',
        status: 'succeeded',
        amount: 700,
        currency: 'usd',
        payment_intent: 'pi_5',
      };
      const dispute = {
        id: 'dp_1',
        object: 'dispute',
        status: 'lost',
        payment_intent: { id: 'pi_6', object: 'payment_intent' },
      };
      const [refunded] = stripe.normalise(signed(event('refund.updated', refund)), settings).events;
      const [lost] = stripe.normalise(signed(event('charge.dispute.closed', dispute)), settings).events;
      expect(refunded).toMatchObject({
        gatewayPaymentId: 'pi_5',
        money: { amountMinor: 700n, currency: 'USD', exponent: 2 },
      });
      expect(lost?.gatewayPaymentId).toBe('pi_6');
    });

    it('passes a thin event on as low-priority "other" under its own id', () => {
      const body =
        '{"id":"evt_test_65R9Ijk8eZvKYlo2C","object":"v2.core.event","type":"v1.billing.meter.error_report_triggered","livemode":false,"created":"2026-11-20T10:15:19.000Z","related_object":{"id":"mtr_1","type":"billing.meter"}}';
      const [normalised] = stripe.normalise(signed(body), settings).events;
      expect(normalised).toMatchObject({
        eventId: 'evt_test_65R9Ijk8eZvKYlo2C',
        eventType: 'v1.billing.meter.error_report_triggered',
        kind: 'other',
        priority: 'low',
        mode: 'test',
        occurredAt: '2026-11-20T10:15:19.000Z',
        payload: body,
      });
      expect(normalised?.money).toBeUndefined();
    });

    it('honours a configured priority override', () => {
      const body = event('customer.created', { id: 'cus_1', object: 'customer' });
      const overridden = { ...settings, priorityOverrides: { 'customer.created': 'normal' as const } };
      expect(stripe.normalise(signed(body), overridden).events[0]?.priority).toBe('normal');
    });

    it.each([
      ['not JSON', 'evt_1'],
      ['without an id', '{"object":"event","type":"charge.succeeded","data":{"object":{}}}'],
      ['without a type', '{"id":"evt_1","object":"event","data":{"object":{}}}'],
      ['without data.object', '{"id":"evt_1","object":"event","type":"charge.succeeded","data":{}}'],
    ])('refuses to normalise a body %s', (_name, body) => {
      expect(() => stripe.normalise(signed(body), settings)).toThrow(UnparseablePayloadError);
    });

    it('lets an amount that is not whole minor units fail loudly', () => {
      const body = event('charge.succeeded', { id: 'ch_1', object: 'charge', amount: 12.5, currency: 'usd' });
      expect(() => stripe.normalise(signed(body), settings)).toThrow(/not an integer of minor units/);
    });
  });
});

describe('Gateway: stripe (capture and currency details)', () => {
  const normaliseOne = (body: string) => stripe.normalise(signed(body), settings).events[0];

  it('treats an uncaptured charge.succeeded (manual capture) as authorised, not as money arrived', () => {
    const uncaptured = normaliseOne(
      event('charge.succeeded', {
        id: 'ch_1',
        object: 'charge',
        amount: 5000,
        currency: 'usd',
        status: 'succeeded',
        captured: false,
        payment_intent: 'pi_1',
      }),
    );
    expect(uncaptured).toMatchObject({ kind: 'payment.authorized', priority: 'normal' });
    const captured = normaliseOne(
      event('charge.succeeded', {
        id: 'ch_1',
        object: 'charge',
        amount: 5000,
        currency: 'usd',
        status: 'succeeded',
        captured: true,
        payment_intent: 'pi_1',
      }),
    );
    expect(captured).toMatchObject({ kind: 'payment.succeeded', priority: 'high' });
  });

  it('reports the captured amount of a partial capture', () => {
    const capture = normaliseOne(
      event('charge.captured', {
        id: 'ch_1',
        object: 'charge',
        amount: 5000,
        amount_captured: 3000,
        currency: 'usd',
        captured: true,
        payment_intent: 'pi_1',
      }),
    );
    expect(capture?.money).toEqual({ amountMinor: 3000n, currency: 'USD', exponent: 2 });
  });

  it('counts MGA in whole units, as Stripe does, though ISO 4217 gives it two decimals', () => {
    const paid = normaliseOne(
      event('payment_intent.succeeded', {
        id: 'pi_1',
        object: 'payment_intent',
        amount: 10000,
        amount_received: 10000,
        currency: 'mga',
        status: 'succeeded',
      }),
    );
    expect(paid?.money).toEqual({ amountMinor: 10000n, currency: 'MGA', exponent: 0 });
  });
});

/**
 * The payment's identity comes from Stripe's own ids in the signed object. `client_reference_id` can be set by the
 * payer (Payment Links take it from the URL), so it is only ever carried as a reference, never the key.
 */
describe('Gateway: stripe (payment identity from Stripe ids only)', () => {
  const normaliseOne = (body: string) => stripe.normalise(signed(body), settings).events[0];
  const identity = (body: string) => {
    const normalised = normaliseOne(body);
    return {
      gatewayPaymentId: normalised?.gatewayPaymentId,
      factId: normalised?.factId,
      reference: normalised?.reference,
      paymentKey: normalised && paymentKeyOf(normalised),
    };
  };
  const VICTIM = 'pi_3QpVictim2eZvKYlo2C0aB1cD';

  it("keys a session without a PaymentIntent by its own cs_ id, even when client_reference_id names another payment's pi_", () => {
    const session = {
      id: 'cs_test_attacker1',
      object: 'checkout.session',
      mode: 'payment',
      status: 'complete',
      payment_status: 'paid',
      amount_total: 100,
      currency: 'usd',
      client_reference_id: VICTIM,
      payment_intent: null,
    };
    expect(identity(event('checkout.session.completed', session))).toEqual({
      gatewayPaymentId: 'cs_test_attacker1',
      factId: 'cs_test_attacker1',
      reference: VICTIM,
      paymentKey: 'cs_test_attacker1',
    });
    expect(identity(event('checkout.session.async_payment_succeeded', session)).paymentKey).toBe(
      'cs_test_attacker1',
    );
    expect(identity(event('checkout.session.expired', { ...session, status: 'expired' })).paymentKey).toBe(
      'cs_test_attacker1',
    );
  });

  it('keys a session with a PaymentIntent by the PaymentIntent, expanded or not, whatever client_reference_id says', () => {
    const session = {
      id: 'cs_test_2',
      object: 'checkout.session',
      payment_status: 'paid',
      amount_total: 100,
      currency: 'usd',
      client_reference_id: VICTIM,
    };
    expect(
      identity(event('checkout.session.completed', { ...session, payment_intent: 'pi_own' })),
    ).toMatchObject({
      gatewayPaymentId: 'pi_own',
      paymentKey: 'pi_own',
      reference: VICTIM,
    });
    expect(
      identity(
        event('checkout.session.completed', { ...session, payment_intent: { id: 'pi_own', object: 'x' } }),
      ).paymentKey,
    ).toBe('pi_own');
  });

  it('tracks a charge without a PaymentIntent by its ch_ id through its refunds and disputes, not dead-lettered', () => {
    const charge = {
      id: 'ch_3QpNoIntent',
      object: 'charge',
      amount: 5000,
      amount_refunded: 2000,
      currency: 'usd',
      status: 'succeeded',
      captured: true,
      payment_intent: null,
      metadata: {},
    };
    const refund = {
      id: 're_1',
      object: 'refund',
      amount: 2000,
      currency: 'usd',
      status: 'succeeded',
      payment_intent: null,
    };
    const dispute = { id: 'dp_1', object: 'dispute', amount: 3000, currency: 'usd', status: 'lost' };
    const cases = [
      [event('charge.succeeded', charge), 'ch_3QpNoIntent'],
      [event('charge.captured', charge), 'ch_3QpNoIntent'],
      [event('charge.refunded', charge), undefined],
      [event('refund.updated', { ...refund, charge: 'ch_3QpNoIntent' }), 're_1'],
      [
        event('charge.refund.updated', { ...refund, charge: { id: 'ch_3QpNoIntent', object: 'charge' } }),
        're_1',
      ],
      [event('charge.dispute.closed', { ...dispute, charge: 'ch_3QpNoIntent' }), 'dp_1'],
    ] as const;
    for (const [body, factId] of cases) {
      expect(identity(body)).toEqual({
        gatewayPaymentId: 'ch_3QpNoIntent',
        factId,
        reference: undefined,
        paymentKey: 'ch_3QpNoIntent',
      });
    }
  });

  it('reads the object kind from the event type when the object does not say', () => {
    expect(identity(BODY)).toMatchObject({ gatewayPaymentId: 'pi_1', factId: 'pi_1', paymentKey: 'pi_1' });
    expect(identity(event('charge.failed', { id: 'ch_2', currency: 'usd', amount: 10 })).paymentKey).toBe(
      'ch_2',
    );
    expect(
      identity(
        event('checkout.session.completed', {
          id: 'cs_3',
          payment_status: 'paid',
          amount_total: 7,
          currency: 'usd',
        }),
      ),
    ).toMatchObject({ gatewayPaymentId: 'cs_3', paymentKey: 'cs_3' });
    expect(
      normaliseOne(
        event('checkout.session.completed', { id: 'cs_3', amount_total: 7, amount: 9, currency: 'usd' }),
      )?.money?.amountMinor,
    ).toBe(7n);
  });

  it('never lets client_reference_id stand in for the payment when the object carries no Stripe id at all', () => {
    const session = { object: 'checkout.session', payment_status: 'paid', client_reference_id: VICTIM };
    expect(identity(event('checkout.session.completed', session))).toEqual({
      gatewayPaymentId: undefined,
      factId: undefined,
      reference: undefined,
      paymentKey: undefined,
    });
    // A reference the merchant's server set (a configured metadata key) is still read.
    const withMetadata = { ...session, metadata: { reference: 'ORDER-2020' } };
    expect(identity(event('checkout.session.completed', withMetadata)).reference).toBe('ORDER-2020');
  });
});
