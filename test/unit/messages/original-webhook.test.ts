import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { QUEUE_MAX_MESSAGE_BYTES } from '../../../lambdas/definitions.js';
import { moneyFromMinor } from '../../../lambdas/domain/money.js';
import { GATEWAYS, type WebhookEvent } from '../../../lambdas/domain/webhook-event.js';
import {
  GATEWAY_SECRET_MARKER,
  InvalidOriginalError,
  MAX_BODY_BYTES_WITH_ORIGINALS,
  ORIGINAL_HEADERS,
  originalOf,
  readOriginalDelivery,
  writeOriginalDelivery,
} from '../../../lambdas/messages/original-webhook.js';
import { writeWebhookEventMessage } from '../../../lambdas/messages/webhook-event-message.js';

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

describe('original webhooks', () => {
  it("keeps only the gateway's content type and signature headers, never a credential", () => {
    const headers = {
      'content-type': 'application/json',
      'stripe-signature': 't=1,v1=aa',
      authorization: 'Basic c2VjcmV0',
      cookie: 'a=b',
      'x-paystack-signature': 'not stripe',
    };
    expect(originalOf('stripe', { headers, body: Buffer.from('{}') }).headers).toEqual({
      'content-type': 'application/json',
      'stripe-signature': 't=1,v1=aa',
    });
    for (const gateway of GATEWAYS) {
      expect(ORIGINAL_HEADERS[gateway]).toContain('content-type');
      expect(ORIGINAL_HEADERS[gateway]).not.toContain('authorization');
    }
  });

  it("never keeps Flutterwave's verif-hash, the dashboard secret itself: a marker stands in, the HMAC is kept", () => {
    const headers = {
      'verif-hash': 'my-secret-hash',
      'flutterwave-signature': 'hmac',
      'content-type': 'application/json',
    };
    const original = originalOf('flutterwave', { headers, body: Buffer.from('{}') });
    expect(original.headers).toEqual({
      'content-type': 'application/json',
      'verif-hash': GATEWAY_SECRET_MARKER,
      'flutterwave-signature': 'hmac',
    });
    expect(JSON.stringify(original)).not.toContain('my-secret-hash');
  });

  it('round-trips any bytes and headers through the printable-ASCII original-webhook message', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.dictionary(fc.stringMatching(/^[a-z0-9-]{1,20}$/), fc.string({ unit: 'binary', maxLength: 40 })),
        (bytes, headers) => {
          const delivery = {
            gateway: 'razorpay' as const,
            eventId: 'evt_1',
            receivedAt: '2026-11-30T10:00:00.000Z',
            original: { body: Buffer.from(bytes), headers },
          };
          const written = writeOriginalDelivery(delivery);
          expect(written).toMatch(PRINTABLE_ASCII);
          expect(readOriginalDelivery(written)).toEqual(delivery);
        },
      ),
    );
  });

  it.each([
    ['not JSON', 'nope', /not JSON/],
    ['another message', JSON.stringify({ messageType: 'webhook-event', version: 1 }), /not a version 1/],
    [
      'a bad body',
      JSON.stringify({
        messageType: 'original-webhook',
        version: 1,
        gateway: 'stripe',
        eventId: 'e',
        receivedAt: '2026-11-30T10:00:00Z',
        headers: {},
        bodyBase64: '!!',
      }),
      /bodyBase64" must be base64/,
    ],
    [
      'an unknown gateway',
      JSON.stringify({ messageType: 'original-webhook', version: 1, gateway: 'paypal' }),
      /unknown gateway/,
    ],
  ])('refuses %s with a reason that quotes nothing', (_name, text, reason) => {
    expect(() => readOriginalDelivery(text)).toThrow(InvalidOriginalError);
    expect(() => readOriginalDelivery(text)).toThrow(reason);
  });

  it('fits the largest body allowed with originals in one queue message, even carried twice (an Adyen batch of one item)', () => {
    const item = 'x'.repeat(MAX_BODY_BYTES_WITH_ORIGINALS - 100);
    const event: WebhookEvent = {
      gateway: 'adyen',
      eventId: 'e'.repeat(500),
      eventType: 'AUTHORISATION',
      kind: 'payment.succeeded',
      mode: 'live',
      receivedAt: '2026-11-30T10:00:00.000Z',
      priority: 'high',
      requestId: 'r'.repeat(256),
      reference: 'R'.repeat(1000),
      gatewayPaymentId: 'P'.repeat(1000),
      money: moneyFromMinor('100', 'EUR'),
      payload: item,
    };
    const body = Buffer.from(`{"live":"true","notificationItems":[${item}]}`);
    const { body: message } = writeWebhookEventMessage(event, {
      body,
      headers: { 'content-type': 'application/json' },
    });
    expect(message.length).toBeLessThanOrEqual(QUEUE_MAX_MESSAGE_BYTES);
  });
});
