import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signFlutterwave } from '../../../events/flutterwave/sign.js';
import { devSecret, listSamples, readSample } from '../../../events/index.js';
import { InvalidAmountError } from '../../../lambdas/domain/money.js';
import { flutterwave } from '../../../lambdas/gateways/flutterwave.js';
import { DEFAULT_GATEWAY_SETTINGS, type GatewaySettings } from '../../../lambdas/gateways/settings.js';
import { UnparseablePayloadError } from '../../../lambdas/gateways/types.js';
import { secretOf, webhookRequest } from '../../support/requests.js';

const SECRET = 'flw-test-secret-hash';
const settings = DEFAULT_GATEWAY_SETTINGS;
const BODY = '{"event":"charge.completed","data":{"id":1,"status":"successful"}}';

function onlySchemes(...schemes: GatewaySettings['flutterwaveSchemes']): GatewaySettings {
  return { ...settings, flutterwaveSchemes: schemes };
}

function hmacOf(body: string, secret = SECRET): string {
  return createHmac('sha256', secret).update(body).digest('base64');
}

function signed(body: string, secret = SECRET) {
  const { headers } = signFlutterwave(body, { secret });
  return webhookRequest(body, headers);
}

describe('Gateway: flutterwave', () => {
  describe('verify', () => {
    it('matches the documented flutterwave-signature test vector', () => {
      // Vector from providers.md (community-consensus algorithm, UNCONFIRMED by Flutterwave itself).
      const { headers } = signFlutterwave(BODY, { secret: 'my_secret_hash' });
      expect(headers['flutterwave-signature']).toBe('aAbGAjYZIiYX8G613NaOgQ6g1RrjmytUlGB4SIjP5tA=');
      expect(headers['verif-hash']).toBe('my_secret_hash');
      const request = webhookRequest(BODY, {
        'flutterwave-signature': headers['flutterwave-signature'] ?? '',
      });
      expect(flutterwave.verify(request, secretOf('my_secret_hash'), settings)).toEqual({ ok: true });
    });

    it.each([
      ['both headers (what the signer sends)', () => signed(BODY), { ok: true }],
      [
        'flutterwave-signature alone',
        () => webhookRequest(BODY, { 'flutterwave-signature': hmacOf(BODY) }),
        { ok: true },
      ],
      [
        'a correct flutterwave-signature beside a wrong verif-hash',
        () => webhookRequest(BODY, { 'verif-hash': 'other', 'flutterwave-signature': hmacOf(BODY) }),
        { ok: true },
      ],
      // verif-hash proves the sender knows the secret, not that this body is theirs: claims of money get confirmed.
      [
        'verif-hash alone, marked as not binding the body',
        () => webhookRequest(BODY, { 'verif-hash': SECRET }),
        { ok: true, bodyUnverified: true },
      ],
      [
        'a correct verif-hash beside a flutterwave-signature that is not HMAC-shaped, marked as not binding the body',
        () => webhookRequest(BODY, { 'verif-hash': SECRET, 'flutterwave-signature': SECRET }),
        { ok: true, bodyUnverified: true },
      ],
    ])('accepts %s', (_name, makeRequest, expected) => {
      expect(flutterwave.verify(makeRequest(), secretOf(SECRET), settings)).toEqual(expected);
    });

    it.each([
      ['verif-hash', () => webhookRequest(BODY, { 'verif-hash': 'flw-old-secret-hash' })],
      [
        'flutterwave-signature',
        () => webhookRequest(BODY, { 'flutterwave-signature': hmacOf(BODY, 'flw-old-secret-hash') }),
      ],
    ])('accepts %s made with an older secret during rotation', (_name, makeRequest) => {
      const secrets = secretOf('flw-new-secret-hash', 'flw-old-secret-hash');
      expect(flutterwave.verify(makeRequest(), secrets, settings).ok).toBe(true);
    });

    it.each([
      [
        'a tampered body under flutterwave-signature only',
        () => webhookRequest('{"a":2}', { 'flutterwave-signature': hmacOf('{"a":1}') }),
        settings,
        'invalid_signature',
      ],
      [
        'a tampered body when verif-hash is disabled, even with the correct verif-hash beside it',
        () => ({ ...signed('{"a":1}'), body: Buffer.from('{"a":2}') }),
        onlySchemes('flutterwave-signature'),
        'invalid_signature',
      ],
      ['the wrong secret (both headers)', () => signed(BODY, 'flw-other'), settings, 'invalid_signature'],
      [
        'a verif-hash that is a prefix of the secret',
        () => webhookRequest(BODY, { 'verif-hash': SECRET.slice(0, -1) }),
        settings,
        'invalid_signature',
      ],
      ['no signature header', () => webhookRequest(BODY), settings, 'missing_signature'],
      [
        'an empty verif-hash',
        () => webhookRequest(BODY, { 'verif-hash': '  ' }),
        settings,
        'missing_signature',
      ],
      [
        'a flutterwave-signature that is not base64',
        () => webhookRequest(BODY, { 'flutterwave-signature': 'not base64!' }),
        settings,
        'malformed_signature',
      ],
      [
        'the secret hash sent verbatim in flutterwave-signature',
        () => webhookRequest(BODY, { 'flutterwave-signature': SECRET }),
        settings,
        'malformed_signature',
      ],
      [
        'a hex digest where base64 is expected',
        () =>
          webhookRequest(BODY, {
            'flutterwave-signature': createHmac('sha256', SECRET).update(BODY).digest('hex'),
          }),
        settings,
        'malformed_signature',
      ],
      [
        'a failing flutterwave-signature beside a correct verif-hash, where only the HMAC scheme is accepted',
        () => webhookRequest(BODY, { 'verif-hash': SECRET, 'flutterwave-signature': hmacOf(BODY, 'other') }),
        onlySchemes('flutterwave-signature'),
        'invalid_signature',
      ],
      [
        'a failing flutterwave-signature beside a wrong verif-hash',
        () => webhookRequest(BODY, { 'verif-hash': 'other', 'flutterwave-signature': hmacOf(BODY, 'other') }),
        settings,
        'invalid_signature',
      ],
      [
        'a malformed flutterwave-signature beside a wrong verif-hash',
        () => webhookRequest(BODY, { 'verif-hash': 'other', 'flutterwave-signature': 'abc' }),
        settings,
        'invalid_signature',
      ],
    ])('refuses %s', (_name, makeRequest, schemeSettings, reason) => {
      const result = flutterwave.verify(makeRequest(), secretOf(SECRET), schemeSettings);
      expect(result).toMatchObject({ ok: false, reason });
      expect(JSON.stringify(result)).not.toContain(SECRET);
      expect(JSON.stringify(result)).not.toContain(hmacOf(BODY));
    });

    it('takes a correct verif-hash beside a failing flutterwave-signature as an unverified claim, not a refusal', () => {
      // The HMAC algorithm is unconfirmed: a wrong guess must never refuse Flutterwave's real deliveries.
      const request = webhookRequest(BODY, {
        'verif-hash': SECRET,
        'flutterwave-signature': hmacOf(BODY, 'other'),
      });
      expect(flutterwave.verify(request, secretOf(SECRET), settings)).toEqual({
        ok: true,
        bodyUnverified: true,
      });
    });

    it.each([
      ['verif-hash', 'flutterwave-signature', () => webhookRequest(BODY, { 'verif-hash': SECRET })],
      [
        'flutterwave-signature',
        'verif-hash',
        () => webhookRequest(BODY, { 'flutterwave-signature': hmacOf(BODY) }),
      ],
    ] as const)(
      'refuses a valid %s alone when only %s is enabled, saying the scheme is disabled',
      (header, enabled, makeRequest) => {
        const result = flutterwave.verify(makeRequest(), secretOf(SECRET), onlySchemes(enabled));
        expect(result).toMatchObject({ ok: false, reason: 'missing_signature' });
        expect(result.ok ? '' : result.detail).toContain(`${header} present, and that scheme is disabled`);
      },
    );

    it('has no replay window: a delivery received a day later still verifies', () => {
      const request = { ...signed(BODY), receivedAt: new Date(Date.now() + 86_400_000) };
      expect(flutterwave.verify(request, secretOf(SECRET), settings).ok).toBe(true);
    });

    it('verifies every sample signed with the development secret', () => {
      const secret = devSecret('flutterwave');
      for (const name of listSamples('flutterwave')) {
        expect(
          flutterwave.verify(signed(readSample('flutterwave', name), secret), secretOf(secret), settings).ok,
        ).toBe(true);
      }
    });
  });

  describe('normalise', () => {
    it('turns a successful charge.completed into a high-priority payment.succeeded with exact money', () => {
      const body = readSample('flutterwave', 'charge.completed');
      const [event] = flutterwave.normalise(signed(body), settings).events;
      expect(event).toMatchObject({
        gateway: 'flutterwave',
        eventId: 'charge.completed:4975361:successful',
        eventType: 'charge.completed',
        kind: 'payment.succeeded',
        priority: 'high',
        reference: 'ORDER-2001',
        gatewayPaymentId: '4975361',
        mode: 'unknown',
        occurredAt: '2026-11-21T09:42:07.000Z',
        payload: body,
      });
      expect(event?.money).toEqual({ amountMinor: 750050n, currency: 'NGN', exponent: 2 });
    });

    it.each([
      [
        'charge.completed.failed',
        'charge.completed:4975388:failed',
        'payment.failed',
        'normal',
        'ORDER-2002',
        1200000n,
      ],
      [
        'charge.completed.pending',
        'charge.completed:4975402:pending',
        'payment.pending',
        'normal',
        'ORDER-2003',
        4500000n,
      ],
    ])('classifies the %s sample', (sample, eventId, kind, priority, reference, amountMinor) => {
      const [event] = flutterwave.normalise(signed(readSample('flutterwave', sample)), settings).events;
      expect(event).toMatchObject({
        eventId,
        eventType: 'charge.completed',
        kind,
        priority,
        reference,
        mode: 'unknown',
      });
      expect(event?.money).toEqual({ amountMinor, currency: 'NGN', exponent: 2 });
    });

    it('gives the pending and the successful report of one transaction different event ids', () => {
      const ids = ['pending', 'successful'].map(
        (status) =>
          flutterwave.normalise(
            signed(`{"event":"charge.completed","data":{"id":77,"status":"${status}"}}`),
            settings,
          ).events[0]?.eventId,
      );
      expect(ids).toEqual(['charge.completed:77:pending', 'charge.completed:77:successful']);
    });

    it('files transfer.completed as low-priority "other" without calling the transfer a payment', () => {
      const [event] = flutterwave.normalise(
        signed(readSample('flutterwave', 'transfer.completed')),
        settings,
      ).events;
      expect(event).toMatchObject({
        eventId: 'transfer.completed:608122:SUCCESSFUL',
        kind: 'other',
        priority: 'low',
        reference: 'PAYOUT-2001',
      });
      expect(event?.gatewayPaymentId).toBeUndefined();
      expect(event?.money).toEqual({ amountMinor: 5000000n, currency: 'NGN', exponent: 2 });
    });

    it('reads the v4 shape: "type", status "succeeded" and data.reference', () => {
      const [event] = flutterwave.normalise(
        signed(readSample('flutterwave', 'charge.completed.v4')),
        settings,
      ).events;
      expect(event).toMatchObject({
        eventId: 'charge.completed:chg_PayhookV4Example01:succeeded',
        eventType: 'charge.completed',
        kind: 'payment.succeeded',
        priority: 'high',
        reference: 'ORDER-2004',
        gatewayPaymentId: 'chg_PayhookV4Example01',
      });
      expect(event?.money).toEqual({ amountMinor: 210075n, currency: 'NGN', exponent: 2 });
    });

    it.each([
      ['100.50', 'NGN', 10050n],
      ['0.1', 'NGN', 10n],
      ['0.3', 'USD', 30n],
      ['1234567890123.45', 'NGN', 123456789012345n],
      ['90071992547409.93', 'NGN', 9007199254740993n],
      ['1500', 'UGX', 1500n],
      ['12.345', 'KWD', 12345n],
    ])('converts the major-unit amount %s %s to exactly %s minor units', (amount, currency, amountMinor) => {
      const body = `{"event":"charge.completed","data":{"id":5,"status":"successful","amount":${amount},"currency":"${currency}"}}`;
      expect(flutterwave.normalise(signed(body), settings).events[0]?.money?.amountMinor).toBe(amountMinor);
    });

    it('refuses to round an amount with more decimals than the currency has', () => {
      const body =
        '{"event":"charge.completed","data":{"id":5,"status":"successful","amount":100.505,"currency":"NGN"}}';
      expect(() => flutterwave.normalise(signed(body), settings)).toThrow(InvalidAmountError);
    });

    it('ranks an unknown status low as "other" and honours a configured priority override', () => {
      const body = '{"event":"charge.completed","data":{"id":6,"status":"cancelled"}}';
      expect(flutterwave.normalise(signed(body), settings).events[0]).toMatchObject({
        kind: 'other',
        priority: 'low',
      });
      const overridden = { ...settings, priorityOverrides: { 'payment.pending': 'high' as const } };
      const pending = '{"event":"charge.completed","data":{"id":6,"status":"pending"}}';
      expect(flutterwave.normalise(signed(pending), overridden).events[0]?.priority).toBe('high');
    });

    it('falls back to a digest of the body when data has no id', () => {
      const body = '{"event":"charge.completed","data":{"status":"successful"}}';
      expect(flutterwave.normalise(signed(body), settings).events[0]?.eventId).toMatch(
        /^sha256:[0-9a-f]{64}$/,
      );
    });

    it.each([
      ['no event name', '{"data":{"id":1}}'],
      ['no data object', '{"event":"charge.completed","data":[1]}'],
      ['a body that is not JSON', 'event=charge.completed'],
    ])('refuses to normalise a body with %s', (_name, body) => {
      expect(() => flutterwave.normalise(signed(body), settings)).toThrow(UnparseablePayloadError);
    });

    it('answers with the plain JSON acknowledgement', () => {
      expect(flutterwave.acceptedResponse).toEqual({
        contentType: 'application/json',
        body: '{"received":true}',
      });
    });
  });
});
