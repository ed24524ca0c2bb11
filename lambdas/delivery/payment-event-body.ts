import { PAYMENT_EVENT_SOURCE, type PaymentEvent } from '../domain/payment-event.js';

/**
 * What a destination queue's message says: the EventBridge event the delivery rule matched, as EventBridge wrote it
 * (`{"version":"0","id":...,"detail-type":"payment.succeeded","source":"payhook","time":...,"detail":{...}}`).
 */
export interface DeliveryEnvelope {
  /** EventBridge's own id, new on every publish: for logs only; receivers dedupe on `detail.id`. */
  readonly eventBridgeId: string;
  readonly detailType: string;
  /** The envelope's `time`, verbatim, so the delivered body is byte-identical on every retry. */
  readonly time: string;
  readonly detail: PaymentEvent;
}

/**
 * A queue message that cannot be delivered as it is: a permanent error. The message is a short reason only; it never
 * quotes the body (which holds payment data) nor carries a parser's error (which would quote it).
 */
export class InvalidDeliveryMessageError extends Error {
  override readonly name = 'InvalidDeliveryMessageError';
  constructor(readonly reason: string) {
    super(`invalid delivery message: ${reason}`);
  }
}

type Raw = Record<string, unknown>;

function isObject(value: unknown): value is Raw {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function nonEmptyString(raw: Raw, field: string): string | undefined {
  const value = raw[field];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/** RFC 3339 with a zone, as EventBridge writes `time`; what a receiver can parse without guessing a time zone. */
const RFC_3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    // Not rethrown with its cause: V8's message quotes the text around the fault.
    throw new InvalidDeliveryMessageError('the body is not JSON');
  }
}

/** The envelope of a destination queue's message body, or an {@link InvalidDeliveryMessageError} naming the fault. */
export function readDeliveryEnvelope(body: string): DeliveryEnvelope {
  const raw = parseJson(body);
  if (!isObject(raw)) throw new InvalidDeliveryMessageError('the body is not a JSON object');
  // Only payhook's own events may be signed with the merchant's secret: a misrouted event from another source would
  // otherwise reach the merchant looking genuine.
  if (raw.source !== PAYMENT_EVENT_SOURCE) {
    throw new InvalidDeliveryMessageError(`the event's source is not ${PAYMENT_EVENT_SOURCE}`);
  }
  const eventBridgeId = nonEmptyString(raw, 'id');
  if (eventBridgeId === undefined) throw new InvalidDeliveryMessageError('the event has no id');
  const detailType = nonEmptyString(raw, 'detail-type');
  if (detailType === undefined) throw new InvalidDeliveryMessageError('the event has no detail-type');
  const time = nonEmptyString(raw, 'time');
  if (time === undefined) throw new InvalidDeliveryMessageError('the event has no time');
  if (!RFC_3339.test(time) || Number.isNaN(Date.parse(time))) {
    throw new InvalidDeliveryMessageError('the event time is not an RFC 3339 timestamp');
  }
  const detail = raw.detail;
  if (!isObject(detail)) throw new InvalidDeliveryMessageError('the event has no detail object');
  // The id is what receivers dedupe on, so it must be there. The rest of the detail is forwarded as payhook published
  // it, not re-validated: delivery is a courier, and a field added to PaymentEvent must not stop deliveries.
  if (nonEmptyString(detail, 'id') === undefined) {
    throw new InvalidDeliveryMessageError('the detail has no string id');
  }
  return { eventBridgeId, detailType, time, detail: detail as unknown as PaymentEvent };
}

/**
 * The body delivered to the merchant: `{"type":...,"timestamp":...,"data":...}`, in that key order, the shape the
 * Standard Webhooks spec recommends. Built only from the envelope, so every retry sends the same bytes and only the
 * `webhook-timestamp` header (and so the signature) changes per attempt.
 */
export function paymentEventBody(envelope: DeliveryEnvelope): string {
  return JSON.stringify({ type: envelope.detailType, timestamp: envelope.time, data: envelope.detail });
}
