import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { devSecret, readSample, SIGNERS } from '../../../events/index.js';
import { moneyFromMinor } from '../../../lambdas/domain/money.js';
import type { WebhookEvent } from '../../../lambdas/domain/webhook-event.js';
import { ADAPTERS } from '../../../lambdas/gateways/registry.js';
import { DEFAULT_GATEWAY_SETTINGS } from '../../../lambdas/gateways/settings.js';
import {
  InvalidMessageError,
  readQueuedWebhook,
  readWebhookEventMessage,
  WEBHOOK_EVENT_MESSAGE_VERSION,
  writeWebhookEventMessage,
} from '../../../lambdas/messages/webhook-event-message.js';
import { webhookRequest } from '../../support/requests.js';

const EVENT: WebhookEvent = {
  gateway: 'stripe',
  eventId: 'evt_1',
  eventType: 'payment_intent.succeeded',
  kind: 'payment.succeeded',
  gatewayPaymentId: 'pi_1',
  money: moneyFromMinor('2000', 'USD'),
  mode: 'test',
  occurredAt: '2026-11-24T10:00:00.000Z',
  receivedAt: '2026-11-24T10:00:01.000Z',
  priority: 'high',
  requestId: 'req-1',
  payload: '{"id":"evt_1"}',
};

/** A message as an earlier release wrote it: the payload as text, money as JSON, the given version. */
function earlierMessage(event: WebhookEvent, version: 1 | 2): Record<string, unknown> {
  const {
    payloadBase64: _bytes,
    version: _version,
    ...current
  } = JSON.parse(writeWebhookEventMessage(event).body) as Record<string, unknown>;
  return { ...current, version, payload: event.payload };
}

const body = (overrides: Record<string, unknown> = {}) =>
  JSON.stringify({ ...JSON.parse(writeWebhookEventMessage(EVENT).body), ...overrides });

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

describe('The webhook-event queue message', () => {
  it('reads back exactly the event ingest queued', () => {
    expect(readWebhookEventMessage(writeWebhookEventMessage(EVENT).body)).toEqual(EVENT);
  });

  it('writes version 3 when no original travels with the event (what a consumer of the previous release reads)', () => {
    const raw = JSON.parse(writeWebhookEventMessage(EVENT).body) as Record<string, unknown>;
    expect(raw.version).toBe(3);
    expect(raw).not.toHaveProperty('original');
  });

  it('writes version 4 with the original; the body once when it is the payload, and reads both back', async () => {
    const original = { body: Buffer.from(EVENT.payload), headers: { 'stripe-signature': 't=1,v1=ab' } };
    const same = writeWebhookEventMessage(EVENT, original).body;
    const raw = JSON.parse(same) as { version: number; original: Record<string, unknown> };
    expect(raw.version).toBe(WEBHOOK_EVENT_MESSAGE_VERSION);
    expect(raw.version).toBe(4);
    expect(raw.original).toEqual({ headers: { 'stripe-signature': 't=1,v1=ab' } });
    expect(await readQueuedWebhook(same)).toEqual({ event: EVENT, original });

    // An Adyen batch: the first item's message carries the whole batch's bytes, which are not its payload.
    const batch = { body: Buffer.from('{"live":"false","notificationItems":[\n]}\r\n'), headers: {} };
    const other = writeWebhookEventMessage(EVENT, batch).body;
    expect(await readQueuedWebhook(other)).toEqual({ event: EVENT, original: batch });
    // Bytes that are not UTF-8 survive too.
    const binary = { body: Buffer.from([0xff, 0x00, 0xfe]), headers: { 'content-type': 'x/y' } };
    expect((await readQueuedWebhook(writeWebhookEventMessage(EVENT, binary).body)).original).toEqual(binary);
  });

  it('applies the event of a message whose original is damaged, saying why the original cannot be read', async () => {
    const damaged = body({ version: 4, original: { headers: { 'Bad Name': 'x' } } });
    const read = await readQueuedWebhook(damaged);
    expect(read.event).toEqual(EVENT);
    expect(read.original).toBeUndefined();
    expect(read.unreadableOriginal).toMatch(/headers/);
    expect(
      (await readQueuedWebhook(body({ version: 4, original: { headers: {}, bodyBase64: '!!' } })))
        .unreadableOriginal,
    ).toMatch(/base64/);
    // A version 3 message never has an original read from it.
    expect((await readQueuedWebhook(body({ original: { headers: {} } }))).original).toBeUndefined();
  });

  it('writes the payload as base64 of its exact UTF-8 bytes, the whole body printable ASCII', () => {
    const nasty: WebhookEvent = {
      ...EVENT,
      reference: 'ORDER-\uffff-\ufffe-\ud800-😀-é',
      eventType: 'charge.\u0000\u001b[31m',
      payload: '\ufeff{"name":"Zoë \uffff 😀","note":"\u0007"}',
    };
    const { body: written, attributes } = writeWebhookEventMessage(nasty);
    expect(written).toMatch(PRINTABLE_ASCII);
    const raw = JSON.parse(written) as Record<string, unknown>;
    expect(raw.version).toBe(3);
    expect(Buffer.from(String(raw.payloadBase64), 'base64')).toEqual(Buffer.from(nasty.payload, 'utf8'));
    expect(readWebhookEventMessage(written)).toEqual(nasty);
    // The attributes are made SQS-safe where they are sent (sqs-text.ts); here they are the event's own values.
    expect(attributes.eventType).toBe(nasty.eventType);
  });

  it('round-trips any text a gateway can sign, in every field, through printable ASCII', () => {
    const anyText = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.constantFrom('\ud800', '\udfff', '\uffff', '\ufffe', '\u0000', '\u2028'),
    );
    fc.assert(
      fc.property(anyText, anyText, fc.string({ unit: 'binary' }), (reference, eventType, payload) => {
        const event: WebhookEvent = {
          ...EVENT,
          reference: `r${reference}`,
          eventType: `t${eventType}`,
          payload,
        };
        const written = writeWebhookEventMessage(event).body;
        expect(written).toMatch(PRINTABLE_ASCII);
        expect(readWebhookEventMessage(written)).toEqual(event);
      }),
    );
  });

  it('reads back the fact id and the running refunded total exactly', () => {
    const refund: WebhookEvent = {
      ...EVENT,
      kind: 'refund.succeeded',
      eventType: 'charge.refunded',
      factId: 're_1',
      refundedTotal: moneyFromMinor('123456789012345678901', 'ETH'),
    };
    expect(readWebhookEventMessage(writeWebhookEventMessage(refund).body)).toEqual(refund);
  });

  it('still reads a version 2 message (the payload as text), queued or dead-lettered before an upgrade', () => {
    const refund: WebhookEvent = { ...EVENT, factId: 're_1', refundedTotal: moneyFromMinor('1500', 'USD') };
    expect(readWebhookEventMessage(JSON.stringify(earlierMessage(refund, 2)))).toEqual(refund);
  });

  it.each([
    ['razorpay', 'payment.captured', 'pay_Q8mN2xK7rT4vLa', undefined],
    ['razorpay', 'order.paid', 'pay_Q8mN2xK7rT4vLa', undefined],
    ['stripe', 'charge.refunded', undefined, 1500n],
    ['paystack', 'refund.processed', 'RFD-1001-1', undefined],
    ['adyen', 'REFUND', 'T4DKQH2VJ8RSMS82', undefined],
  ] as const)(
    'reads the fact fields of a version 1 %s %s message again from its payload, as ingest reads them now',
    async (gateway, sample, factId, refundedTotal) => {
      const signed = SIGNERS[gateway](readSample(gateway, sample), { secret: devSecret(gateway) });
      const [now] = ADAPTERS[gateway].normalise(
        webhookRequest(signed.body, signed.headers),
        DEFAULT_GATEWAY_SETTINGS,
      ).events;
      if (!now) throw new Error('no event');
      const { factId: _factId, refundedTotal: _total, ...previous } = earlierMessage(now, 1);
      const { event: read } = await readQueuedWebhook(JSON.stringify(previous));
      expect(read.factId).toBe(factId);
      expect(read.refundedTotal?.amountMinor).toBe(refundedTotal);
      expect(read).toEqual(now);
    },
  );

  it('reads the claims an answer settles only from a synthetic (reconciler) event, never from a webhook', () => {
    const synthetic = body({ eventId: 'payhook:reconciler:pi_1:payment.failed:abc', settlesClaims: ['c1'] });
    expect(readWebhookEventMessage(synthetic).settlesClaims).toEqual(['c1']);
    expect(readWebhookEventMessage(body({ settlesClaims: ['c1'] })).settlesClaims).toBeUndefined();
    expect(() =>
      readWebhookEventMessage(body({ eventId: 'payhook:reconciler:x', settlesClaims: 'c1' })),
    ).toThrow(InvalidMessageError);
  });

  it('still reads a version 1 message (queued by the previous release), which has no fact fields', async () => {
    const previous = JSON.stringify(earlierMessage(EVENT, 1));
    expect((await readQueuedWebhook(previous)).event).toEqual(EVENT);
    // A version 1 message carries no fact id; one that claims to is not read as if version 2 had written it.
    const odd = JSON.stringify({ ...earlierMessage(EVENT, 1), factId: 'x' });
    expect((await readQueuedWebhook(odd)).event.factId).toBeUndefined();
  });

  it('refuses a version 1 message in the synchronous reader, whose event would lack the fact fields read again', () => {
    expect(() => readWebhookEventMessage(JSON.stringify(earlierMessage(EVENT, 1)))).toThrow(
      /readQueuedWebhook/,
    );
    expect(readWebhookEventMessage(JSON.stringify(earlierMessage(EVENT, 2)))).toEqual(EVENT);
  });

  it.each([
    ['not JSON', 'nope', 'invalid_message'],
    ['an array', '[]', 'invalid_message'],
    ['another message type', body({ messageType: 'something' }), 'invalid_message'],
    ['a future version', body({ version: 5 }), 'invalid_message'],
    ['a payload that is not base64', body({ payloadBase64: 'not base64!' }), 'invalid_message'],
    [
      'a payload that is not UTF-8',
      body({ payloadBase64: Buffer.from([0xff, 0xfe]).toString('base64') }),
      'invalid_message',
    ],
    ['a version 2 message without its payload text', body({ version: 2 }), 'invalid_message'],
    ['a bad running total', body({ refundedTotal: { amountMinor: 5 } }), 'invalid_message'],
    ['an unknown gateway', body({ gateway: 'paypal' }), 'unknown_gateway'],
    ['an unknown kind', body({ kind: 'payment.done' }), 'invalid_message'],
    ['an empty event id', body({ eventId: '' }), 'invalid_message'],
    ['a bad time', body({ receivedAt: 'yesterday' }), 'invalid_message'],
    [
      'a float amount',
      body({ money: { amountMinor: '20.5', currency: 'USD', exponent: 2 } }),
      'invalid_message',
    ],
    [
      'a numeric amount',
      body({ money: { amountMinor: 2000, currency: 'USD', exponent: 2 } }),
      'invalid_message',
    ],
    [
      'a parked unparseable webhook',
      JSON.stringify({ messageType: 'unparseable-webhook', version: 1 }),
      'unparseable_payload',
    ],
  ])('refuses %s as %s', (_name, text, errorClass) => {
    try {
      readWebhookEventMessage(text);
      expect.unreachable('parsed a bad message');
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidMessageError);
      expect((error as InvalidMessageError).errorClass).toBe(errorClass);
    }
  });
});
