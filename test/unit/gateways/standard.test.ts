import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { devSecret, readSample } from '../../../events/index.js';
import { signStandard } from '../../../events/standard/sign.js';
import { DEFAULT_GATEWAY_SETTINGS, type GatewaySettings } from '../../../lambdas/gateways/settings.js';
import { standard } from '../../../lambdas/gateways/standard.js';
import { UnparseablePayloadError } from '../../../lambdas/gateways/types.js';
import { secretOf, webhookRequest } from '../../support/requests.js';

const KEY = Buffer.from('0123456789abcdef0123456789abcdef');
const SECRET = `whsec_${KEY.toString('base64')}`;
const OLD_SECRET = `whsec_${Buffer.from('an older key, before the rotation').toString('base64')}`;
const NOW = new Date('2026-11-21T10:05:01Z');
const settings = DEFAULT_GATEWAY_SETTINGS;

function signed(body: string, secret = SECRET, timestamp = NOW, eventId = 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W') {
  const { headers } = signStandard(body, { secret, timestamp, eventId });
  return webhookRequest(body, headers, NOW);
}

function svixHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [name.replace(/^webhook-/, 'svix-'), value]),
  );
}

function without(name: string) {
  const { [name]: _dropped, ...headers } = signStandard('{"a":1}', {
    secret: SECRET,
    timestamp: NOW,
  }).headers;
  return webhookRequest('{"a":1}', headers, NOW);
}

function withSignature(value: string) {
  const { headers } = signStandard('{"a":1}', { secret: SECRET, timestamp: NOW });
  return webhookRequest('{"a":1}', { ...headers, 'webhook-signature': value }, NOW);
}

describe('Gateway: standard', () => {
  describe('verify', () => {
    it('reproduces the reference library signature and accepts it', () => {
      const body = readSample('standard', 'payment.succeeded');
      const { headers } = signStandard(body, { secret: SECRET, timestamp: NOW, eventId: 'msg_1' });
      expect(headers['webhook-signature']).toBe(new Webhook(SECRET).sign('msg_1', NOW, body));
      expect(standard.verify(webhookRequest(body, headers, NOW), secretOf(SECRET), settings)).toEqual({
        ok: true,
      });
    });

    it('accepts what the reference library signs with the development secret, and the library accepts ours', () => {
      const secret = devSecret('standard');
      const body = readSample('standard', 'refund.succeeded');
      const now = new Date();
      const headers = {
        'webhook-id': 'msg_lib',
        'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
        'webhook-signature': new Webhook(secret).sign('msg_lib', now, body),
      };
      expect(standard.verify(webhookRequest(body, headers, now), secretOf(secret), settings)).toEqual({
        ok: true,
      });
      const ours = signStandard(body, { secret, timestamp: now });
      expect(new Webhook(secret).verify(body, ours.headers)).toMatchObject({ type: 'refund.succeeded' });
    });

    it('accepts a secret given as plain base64, without the whsec_ prefix', () => {
      const request = signed('{"a":1}');
      expect(standard.verify(request, secretOf(KEY.toString('base64')), settings).ok).toBe(true);
    });

    it('keys the HMAC with the decoded secret, not its text', () => {
      const body = '{"a":1}';
      const seconds = String(Math.floor(NOW.getTime() / 1000));
      const asText = createHmac('sha256', SECRET).update(`msg_1.${seconds}.${body}`).digest('base64');
      const request = webhookRequest(
        body,
        { 'webhook-id': 'msg_1', 'webhook-timestamp': seconds, 'webhook-signature': `v1,${asText}` },
        NOW,
      );
      expect(standard.verify(request, secretOf(SECRET), settings)).toMatchObject({
        ok: false,
        reason: 'invalid_signature',
      });
    });

    it('accepts a signature made with an older secret during rotation', () => {
      expect(standard.verify(signed('{"a":1}', OLD_SECRET), secretOf(SECRET, OLD_SECRET), settings).ok).toBe(
        true,
      );
    });

    it('accepts any matching v1 entry of a list, skipping bad entries and other versions', () => {
      const good =
        signStandard('{"a":1}', { secret: SECRET, timestamp: NOW }).headers['webhook-signature'] ?? '';
      const request = withSignature(`v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5Bdq== v1,bad ${good}`);
      expect(standard.verify(request, secretOf(SECRET), settings).ok).toBe(true);
    });

    it('accepts the Svix header names', () => {
      const { headers } = signStandard('{"a":1}', { secret: SECRET, timestamp: NOW });
      const request = webhookRequest('{"a":1}', svixHeaders(headers), NOW);
      expect(standard.verify(request, secretOf(SECRET), settings).ok).toBe(true);
    });

    it('refuses a timestamp out of tolerance even when the signature is genuine', () => {
      const stale = signed('{"a":1}', SECRET, new Date(NOW.getTime() - 301_000));
      expect(standard.verify(stale, secretOf(SECRET), settings)).toMatchObject({
        ok: false,
        reason: 'timestamp_out_of_tolerance',
      });
      const lenient = { ...settings, toleranceSeconds: 600 };
      expect(standard.verify(stale, secretOf(SECRET), lenient).ok).toBe(true);
    });

    it.each([
      [
        'a tampered body',
        () => ({ ...signed('{"a":1}'), body: Buffer.from('{"a":2}') }),
        'invalid_signature',
      ],
      [
        'a changed message id',
        () => {
          const request = signed('{"a":1}');
          return { ...request, headers: { ...request.headers, 'webhook-id': 'msg_other' } };
        },
        'invalid_signature',
      ],
      ['the wrong secret', () => signed('{"a":1}', OLD_SECRET), 'invalid_signature'],
      [
        'a timestamp 301 s old',
        () => signed('{"a":1}', SECRET, new Date(NOW.getTime() - 301_000)),
        'timestamp_out_of_tolerance',
      ],
      [
        'a timestamp 301 s in the future',
        () => signed('{"a":1}', SECRET, new Date(NOW.getTime() + 301_000)),
        'timestamp_out_of_tolerance',
      ],
      ['no headers at all', () => webhookRequest('{"a":1}', {}, NOW), 'missing_signature'],
      ['no webhook-id', () => without('webhook-id'), 'missing_signature'],
      ['no webhook-timestamp', () => without('webhook-timestamp'), 'missing_signature'],
      ['no webhook-signature', () => without('webhook-signature'), 'missing_signature'],
      [
        'a timestamp in milliseconds',
        () => {
          const request = signed('{"a":1}');
          return { ...request, headers: { ...request.headers, 'webhook-timestamp': String(NOW.getTime()) } };
        },
        'malformed_signature',
      ],
      [
        'a timestamp that is not a number',
        () => {
          const request = signed('{"a":1}');
          return { ...request, headers: { ...request.headers, 'webhook-timestamp': 'yesterday' } };
        },
        'malformed_signature',
      ],
      ['a signature list without a v1 entry', () => withSignature('v1a,abc v2,def'), 'malformed_signature'],
      [
        'a bare base64 signature without a version',
        () => withSignature('K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4='),
        'malformed_signature',
      ],
      [
        'v1 entries that are not 32 bytes of base64',
        () => withSignature('v1,abc v1,!!!'),
        'malformed_signature',
      ],
    ])('refuses %s', (_name, makeRequest, reason) => {
      const result = standard.verify(makeRequest(), secretOf(SECRET), settings);
      expect(result).toMatchObject({ ok: false, reason });
    });

    it('names the missing headers, in the webhook-* set unless the request uses svix-*', () => {
      expect(standard.verify(webhookRequest('{"a":1}', {}, NOW), secretOf(SECRET), settings)).toMatchObject({
        detail: 'missing webhook-id, webhook-timestamp, webhook-signature header(s)',
      });
      expect(standard.verify(without('webhook-timestamp'), secretOf(SECRET), settings)).toMatchObject({
        detail: expect.stringContaining('webhook-timestamp'),
      });
      const { 'webhook-id': _id, ...headers } = signStandard('{"a":1}', {
        secret: SECRET,
        timestamp: NOW,
      }).headers;
      const svix = webhookRequest('{"a":1}', svixHeaders(headers), NOW);
      expect(standard.verify(svix, secretOf(SECRET), settings)).toMatchObject({
        reason: 'missing_signature',
        detail: expect.stringContaining('svix-id'),
      });
    });

    it('refuses without matching anything when no configured secret is base64', () => {
      const result = standard.verify(signed('{"a":1}'), secretOf('whsec_not base64!'), settings);
      expect(result).toMatchObject({ ok: false, reason: 'invalid_signature' });
      expect(JSON.stringify(result)).not.toContain('not base64!');
    });

    it('never puts the secret or the expected signature in the refusal', () => {
      const request = signed('{"a":1}', OLD_SECRET);
      const expected = signStandard('{"a":1}', {
        secret: SECRET,
        timestamp: NOW,
        eventId: 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W',
      }).headers['webhook-signature'];
      const result = JSON.stringify(standard.verify(request, secretOf(SECRET), settings));
      expect(result).not.toContain(KEY.toString('base64'));
      expect(result).not.toContain(expected?.slice(3));
    });
  });

  describe('normalise', () => {
    it('turns payment.succeeded into a high-priority payment.succeeded with exact money', () => {
      const body = readSample('standard', 'payment.succeeded');
      const [event] = standard.normalise(signed(body), settings).events;
      expect(event).toMatchObject({
        gateway: 'standard',
        eventId: 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W',
        eventType: 'payment.succeeded',
        kind: 'payment.succeeded',
        priority: 'high',
        reference: 'ORDER-2001',
        gatewayPaymentId: 'pay_01JD8Q4W7M2S9K3XTB5N6R1C0F',
        mode: 'unknown',
        occurredAt: '2026-11-21T10:05:00.118Z',
        payload: body,
      });
      expect(event?.money).toEqual({ amountMinor: 4999n, currency: 'USD', exponent: 2 });
    });

    it.each([
      [
        'payment.failed',
        'payment.failed',
        'normal',
        'ORDER-2002',
        { amountMinor: 12500n, currency: 'EUR', exponent: 2 },
      ],
      [
        'payment.pending',
        'payment.pending',
        'normal',
        'ORDER-2003',
        { amountMinor: 150000n, currency: 'JPY', exponent: 0 },
      ],
      [
        'refund.succeeded',
        'refund.succeeded',
        'normal',
        'ORDER-2001',
        { amountMinor: 1500n, currency: 'USD', exponent: 2 },
      ],
    ])(
      'classifies the %s sample as %s (%s) with its reference and money',
      (sample, kind, priority, reference, money) => {
        const [event] = standard.normalise(signed(readSample('standard', sample)), settings).events;
        expect(event).toMatchObject({ eventType: sample, kind, priority, reference, mode: 'unknown' });
        expect(event?.money).toEqual(money);
      },
    );

    it("ranks the spec's contact.created example low as other, with no money", () => {
      const body = readSample('standard', 'contact.created');
      const [event] = standard.normalise(signed(body), settings).events;
      expect(event).toMatchObject({
        kind: 'other',
        priority: 'low',
        gatewayPaymentId: '1f81eb52-5198-4599-803e-771906343485',
        occurredAt: '2022-11-03T20:26:10.344Z',
      });
      expect(event).not.toHaveProperty('money');
      expect(event).not.toHaveProperty('reference');
    });

    it('takes the event id from svix-id when the Svix headers are used', () => {
      const body = readSample('standard', 'payment.failed');
      const { headers } = signStandard(body, { secret: SECRET, timestamp: NOW, eventId: 'msg_svix_1' });
      const [event] = standard.normalise(webhookRequest(body, svixHeaders(headers), NOW), settings).events;
      expect(event?.eventId).toBe('msg_svix_1');
    });

    it('gives a re-signed sample the same message id, and different samples different ids', () => {
      const id = (name: string, timestamp: Date) =>
        signStandard(readSample('standard', name), { secret: SECRET, timestamp }).headers['webhook-id'];
      expect(id('payment.succeeded', NOW)).toMatch(/^msg_[0-9a-f]{24}$/);
      expect(id('payment.succeeded', new Date(NOW.getTime() + 60_000))).toBe(id('payment.succeeded', NOW));
      expect(id('payment.failed', NOW)).not.toBe(id('payment.succeeded', NOW));
    });

    it('does not treat Object.prototype names as configured kinds', () => {
      const [event] = standard.normalise(signed('{"type":"constructor"}'), settings).events;
      expect(event?.kind).toBe('other');
    });

    it('leaves money out when the amount has no currency', () => {
      const [event] = standard.normalise(
        signed('{"type":"payment.succeeded","data":{"amount":100}}'),
        settings,
      ).events;
      expect(event).toMatchObject({ kind: 'payment.succeeded' });
      expect(event).not.toHaveProperty('money');
    });

    it('refuses a minor-unit amount that is not an integer', () => {
      const body = '{"type":"payment.succeeded","data":{"amount":49.99,"currency":"USD"}}';
      expect(() => standard.normalise(signed(body), settings)).toThrow(/not an integer of minor units/);
    });

    it.each([
      ['a body without a type', '{"data":{"id":"x"}}'],
      ['a type that is not text', '{"type":{"name":"payment.succeeded"}}'],
      ['a body that is not JSON', 'type=payment.succeeded'],
    ])('refuses to normalise %s', (_name, body) => {
      expect(() => standard.normalise(signed(body), settings)).toThrow(UnparseablePayloadError);
    });

    it('honours a configured priority override', () => {
      const overridden = { ...settings, priorityOverrides: { 'payment.pending': 'high' as const } };
      const [event] = standard.normalise(
        signed(readSample('standard', 'payment.pending')),
        overridden,
      ).events;
      expect(event?.priority).toBe('high');
    });

    describe('with a custom mapping', () => {
      const custom: GatewaySettings = {
        ...settings,
        standardMapping: {
          type: 'event',
          reference: 'order.number',
          gatewayPaymentId: 'payment.id',
          amount: 'payment.total',
          amountUnit: 'major',
          currency: 'payment.currency',
          occurredAt: 'created',
          refundId: 'refund.id',
          disputeId: 'dispute.id',
          live: 'livemode',
          kinds: {
            'order.paid': 'payment.succeeded',
            'order.refunded': 'refund.succeeded',
            'order.disputed': 'dispute.opened',
          },
        },
      };
      const body =
        '{"event":"order.paid","created":1795255500,"livemode":false,"order":{"number":"ORDER-2004"},"payment":{"id":"pm_77","total":"1234.50","currency":"usd"}}';

      it('reads every field from the configured paths, with major-unit amounts converted exactly', () => {
        const [event] = standard.normalise(signed(body), custom).events;
        expect(event).toMatchObject({
          eventType: 'order.paid',
          kind: 'payment.succeeded',
          priority: 'high',
          reference: 'ORDER-2004',
          gatewayPaymentId: 'pm_77',
          mode: 'test',
          occurredAt: '2026-11-21T10:05:00.000Z',
        });
        expect(event?.money).toEqual({ amountMinor: 123450n, currency: 'USD', exponent: 2 });
        // Money in is named by the payment itself.
        expect(event?.factId).toBe('pm_77');
      });

      it('names a refund and a dispute by the configured paths, not by the payment', () => {
        const [refund] = standard.normalise(
          signed(
            '{"event":"order.refunded","order":{"number":"ORDER-2004"},"payment":{"id":"pm_77"},"refund":{"id":"rf_9"},"data":{"refund_id":"not-this"}}',
          ),
          custom,
        ).events;
        expect(refund).toMatchObject({ kind: 'refund.succeeded', gatewayPaymentId: 'pm_77', factId: 'rf_9' });
        const [dispute] = standard.normalise(
          signed(
            '{"event":"order.disputed","order":{"number":"ORDER-2004"},"payment":{"id":"pm_77"},"dispute":{"id":"dp_3"}}',
          ),
          custom,
        ).events;
        expect(dispute).toMatchObject({ kind: 'dispute.opened', gatewayPaymentId: 'pm_77', factId: 'dp_3' });
      });

      it('no longer knows the default kinds, and says live when the flag is true', () => {
        const [event] = standard.normalise(
          signed('{"event":"payment.succeeded","livemode":true}'),
          custom,
        ).events;
        expect(event).toMatchObject({ kind: 'other', priority: 'low', mode: 'live' });
      });

      it('refuses a major-unit amount with more decimals than the currency has', () => {
        const precise = body.replace('"1234.50"', '"1234.505"');
        expect(() => standard.normalise(signed(precise), custom)).toThrow(/refusing to round/);
      });

      it('refuses a body without a type at the configured path', () => {
        expect(() => standard.normalise(signed(readSample('standard', 'payment.succeeded')), custom)).toThrow(
          /no event type at "event"/,
        );
      });
    });

    it('lists the default mapping in its event table', () => {
      expect(standard.eventTable).toEqual({
        'payment.succeeded': { kind: 'payment.succeeded', priority: 'high' },
        'payment.failed': { kind: 'payment.failed', priority: 'normal' },
        'payment.pending': { kind: 'payment.pending', priority: 'normal' },
        'refund.succeeded': { kind: 'refund.succeeded', priority: 'normal' },
      });
    });
  });
});

describe('Gateway: standard (weak secrets and mapping merges)', () => {
  it.each(['whsec_A', 'whsec_AA==', 'A', `whsec_${Buffer.from('short key').toString('base64')}`])(
    'never verifies under %j, which decodes to an empty or too-short key',
    (weak) => {
      const emptyKeySignature = createHmac('sha256', Buffer.alloc(0))
        .update(`msg_1.${Math.floor(NOW.getTime() / 1000)}.{}`)
        .digest('base64');
      const request = webhookRequest(
        '{}',
        {
          'webhook-id': 'msg_1',
          'webhook-timestamp': String(Math.floor(NOW.getTime() / 1000)),
          'webhook-signature': `v1,${emptyKeySignature}`,
        },
        NOW,
      );
      expect(standard.verify(request, secretOf(weak), settings)).toMatchObject({
        ok: false,
        reason: 'invalid_signature',
      });
    },
  );
});
