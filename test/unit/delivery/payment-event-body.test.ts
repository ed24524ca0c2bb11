import { describe, expect, it } from 'vitest';
import {
  type DeliveryEnvelope,
  InvalidDeliveryMessageError,
  paymentEventBody,
  readDeliveryEnvelope,
} from '../../../lambdas/delivery/payment-event-body.js';
import { moneyFromMinor } from '../../../lambdas/domain/money.js';
import type { FactRef } from '../../../lambdas/domain/payment.js';
import {
  moneyFields,
  type PaymentEvent,
  paymentEventDetailType,
  paymentEventId,
} from '../../../lambdas/domain/payment-event.js';

const FACT: FactRef = { type: 'money_in', id: 'trx_98765', state: 'received' };
const REFERENCE = 'order-7731-secret-ref';

const EVENT: PaymentEvent = {
  version: 1,
  id: paymentEventId('paystack', REFERENCE, FACT),
  gateway: 'paystack',
  reference: REFERENCE,
  gatewayPaymentId: 'trx_98765',
  from: null,
  to: 'succeeded',
  ...moneyFields(moneyFromMinor('250000', 'NGN')),
  status: 'succeeded',
  paid: '250000',
  refunded: '0',
  fact: FACT,
  occurredAt: '2026-11-30T09:59:58.000Z',
  sourceEventId: 'evt_4211',
};

/** The SQS message body a destination queue receives: the EventBridge event as EventBridge writes it. */
function envelopeJson(overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    version: '0',
    id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
    'detail-type': paymentEventDetailType(EVENT),
    source: 'payhook',
    account: '111122223333',
    time: '2026-11-30T10:00:00Z',
    region: 'eu-west-1',
    resources: [],
    detail: EVENT,
    ...overrides,
  });
}

function reasonFor(body: string): string {
  try {
    readDeliveryEnvelope(body);
  } catch (error) {
    if (error instanceof InvalidDeliveryMessageError) return error.reason;
    throw error;
  }
  throw new Error('expected an InvalidDeliveryMessageError');
}

describe('readDeliveryEnvelope', () => {
  it('reads a real EventBridge envelope back to the PaymentEvent payhook published', () => {
    expect(readDeliveryEnvelope(envelopeJson())).toEqual({
      eventBridgeId: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
      detailType: 'payment.succeeded',
      time: '2026-11-30T10:00:00Z',
      detail: EVENT,
    });
  });

  it('keeps the envelope time verbatim (not re-formatted), so the delivered body is the same on every retry', () => {
    const envelope = readDeliveryEnvelope(envelopeJson({ time: '2026-11-30T11:00:00+01:00' }));
    expect(envelope.time).toBe('2026-11-30T11:00:00+01:00');
  });

  it('forwards detail fields it does not know, so a field added to PaymentEvent still reaches merchants', () => {
    const envelope = readDeliveryEnvelope(envelopeJson({ detail: { ...EVENT, newField: 'x' } }));
    expect(envelope.detail).toMatchObject({ newField: 'x' });
  });

  it.each([
    ['a body that is not JSON', '{"detail":{"reference":"order-7731-secret-ref"', 'the body is not JSON'],
    ['an empty body', '', 'the body is not JSON'],
    ['a JSON array', '[]', 'the body is not a JSON object'],
    ['JSON null', 'null', 'the body is not a JSON object'],
    ['a JSON string', '"payment.succeeded"', 'the body is not a JSON object'],
    ['another source', envelopeJson({ source: 'aws.s3' }), "the event's source is not payhook"],
    ['no source', envelopeJson({ source: undefined }), "the event's source is not payhook"],
    ['no EventBridge id', envelopeJson({ id: undefined }), 'the event has no id'],
    ['no detail-type', envelopeJson({ 'detail-type': undefined }), 'the event has no detail-type'],
    ['an empty detail-type', envelopeJson({ 'detail-type': '' }), 'the event has no detail-type'],
    ['a numeric detail-type', envelopeJson({ 'detail-type': 7 }), 'the event has no detail-type'],
    ['no time', envelopeJson({ time: undefined }), 'the event has no time'],
    ['a time in words', envelopeJson({ time: 'yesterday' }), 'the event time is not an RFC 3339 timestamp'],
    ['a time without a zone', envelopeJson({ time: '2026-11-30T10:00:00' }), 'not an RFC 3339 timestamp'],
    ['an impossible time', envelopeJson({ time: '2026-13-45T10:00:00Z' }), 'not an RFC 3339 timestamp'],
    ['no detail', envelopeJson({ detail: undefined }), 'the event has no detail object'],
    ['a detail that is an array', envelopeJson({ detail: [EVENT] }), 'the event has no detail object'],
    ['a detail that is a string', envelopeJson({ detail: JSON.stringify(EVENT) }), 'no detail object'],
    ['a detail without an id', envelopeJson({ detail: { ...EVENT, id: undefined } }), 'no string id'],
    ['a detail with a numeric id', envelopeJson({ detail: { ...EVENT, id: 42 } }), 'no string id'],
    ['a detail with an empty id', envelopeJson({ detail: { ...EVENT, id: '' } }), 'no string id'],
  ])('refuses %s with a reason that quotes nothing of the body', (_name, body, reason) => {
    const refused = reasonFor(body);
    expect(refused).toContain(reason);
    expect(refused).not.toContain(REFERENCE);
    expect(() => readDeliveryEnvelope(body)).toThrow(`invalid delivery message: ${refused}`);
  });
});

describe('paymentEventBody', () => {
  const envelope: DeliveryEnvelope = readDeliveryEnvelope(envelopeJson());

  it('is {"type","timestamp","data"} in exactly that order, the bytes the signature covers', () => {
    const body = paymentEventBody(envelope);
    expect(body.startsWith('{"type":"payment.succeeded","timestamp":"2026-11-30T10:00:00Z","data":{')).toBe(
      true,
    );
    expect(body).toBe(
      `{"type":"payment.succeeded","timestamp":"2026-11-30T10:00:00Z","data":${JSON.stringify(EVENT)}}`,
    );
    expect(Object.keys(JSON.parse(body))).toEqual(['type', 'timestamp', 'data']);
  });

  it('carries the PaymentEvent unchanged as data, with its deterministic id for the merchant to dedupe on', () => {
    const delivered = JSON.parse(paymentEventBody(envelope));
    expect(delivered.data).toEqual(EVENT);
    expect(delivered.data.id).toBe(paymentEventId('paystack', REFERENCE, FACT));
  });

  it('leaves out the EventBridge id and the build time, so every retry of one message sends the same bytes', () => {
    const again = readDeliveryEnvelope(envelopeJson({ id: 'a-different-eventbridge-id' }));
    expect(paymentEventBody(again)).toBe(paymentEventBody(envelope));
  });
});
