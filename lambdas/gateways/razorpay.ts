import { moneyFromMinor } from '../domain/money.js';
import { bodyDigestId, buildEvent, classify, row } from './normalise.js';
import {
  at,
  bodyText,
  firstTextAt,
  isObject,
  isoTime,
  type JsonObject,
  parseJsonObject,
  textAt,
} from './payload.js';
import { verifyBodyHmacHex } from './signatures.js';
import { type GatewayAdapter, JSON_ACCEPTED, UnparseablePayloadError } from './types.js';

/**
 * Razorpay: `x-razorpay-signature` is the lowercase hex HMAC-SHA256 of the raw body, keyed with the webhook secret
 * set on the webhook in the dashboard (not the API key secret). No timestamp, no replay window. Razorpay lets a
 * webhook be created without a secret; payhook refuses unsigned requests all the same.
 *
 * Event id: the `x-razorpay-event-id` header, which Razorpay documents as unique per event and keeps across retries.
 * Should it ever be missing, `<event>:<id of the event's own entity>` (the refund for `refund.*`, the dispute for
 * `payment.dispute.*`, else the payment, refund, dispute or order), and failing that a digest of the body.
 */
const SIGNATURE_HEADER = 'x-razorpay-signature';
const EVENT_ID_HEADER = 'x-razorpay-event-id';

const EVENT_TABLE = {
  'payment.authorized': row('payment.authorized'),
  'payment.captured': row('payment.succeeded'),
  'order.paid': row('payment.succeeded'),
  'payment_link.paid': row('payment.succeeded'),
  'invoice.paid': row('payment.succeeded'),
  'payment.failed': row('payment.failed'),
  'refund.created': row('refund.pending'),
  'refund.processed': row('refund.succeeded'),
  'refund.failed': row('refund.failed'),
  'payment.dispute.created': row('dispute.opened'),
  'payment.dispute.won': row('dispute.won'),
  'payment.dispute.lost': row('dispute.lost'),
  'payment.dispute.closed': row('dispute.updated'),
  'payment.dispute.under_review': row('dispute.updated'),
  'payment.dispute.action_required': row('dispute.updated'),
};

type EntityName = 'payment' | 'order' | 'refund' | 'dispute';

const DEFAULT_ENTITY_ORDER: readonly EntityName[] = ['payment', 'refund', 'dispute', 'order'];

/**
 * Which entity an event is about. Refund and dispute events also carry the payment they belong to, so taking the
 * payment first there would report the payment's amount as the refund's or the dispute's.
 */
function entityOrder(eventType: string): readonly EntityName[] {
  if (eventType.startsWith('refund.')) return ['refund', 'payment', 'dispute', 'order'];
  if (eventType.startsWith('payment.dispute.')) return ['dispute', 'payment', 'refund', 'order'];
  return DEFAULT_ENTITY_ORDER;
}

function entity(payload: JsonObject, name: EntityName): JsonObject | undefined {
  const found = at(payload, [name, 'entity']);
  return isObject(found) ? found : undefined;
}

/** `notes` is `[]` when the merchant set none and an object when they did. */
function referenceFromNotes(payment: JsonObject | undefined): string | undefined {
  return firstTextAt(payment, [
    ['notes', 'reference'],
    ['notes', 'order_id'],
  ]);
}

export const razorpay: GatewayAdapter = {
  name: 'razorpay',
  displayName: 'Razorpay',
  eventTable: EVENT_TABLE,
  acceptedResponse: JSON_ACCEPTED,

  verify(request, secret) {
    return verifyBodyHmacHex(request, secret.secrets, { header: SIGNATURE_HEADER, algorithm: 'sha256' });
  },

  normalise(request, settings) {
    const body = parseJsonObject(request.body);
    const eventType = textAt(body, ['event']);
    const payload = at(body, ['payload']);
    if (eventType === undefined || !isObject(payload)) {
      throw new UnparseablePayloadError('Razorpay payload has no "event" name or no "payload" object');
    }
    const entities = {
      payment: entity(payload, 'payment'),
      order: entity(payload, 'order'),
      refund: entity(payload, 'refund'),
      dispute: entity(payload, 'dispute'),
    };
    const main = entityOrder(eventType)
      .map((name) => entities[name])
      .find((found) => found !== undefined);
    const headerId = request.headers[EVENT_ID_HEADER]?.trim();
    const mainId = textAt(main, ['id']);
    const eventId =
      headerId !== undefined && headerId !== ''
        ? headerId
        : mainId !== undefined
          ? `${eventType}:${mainId}`
          : bodyDigestId(request.body);
    const amount = textAt(main, ['amount']);
    const currency = textAt(main, ['currency']);
    const money =
      amount !== undefined && currency !== undefined
        ? moneyFromMinor(amount, currency, settings.currencyExponents)
        : undefined;
    return {
      events: [
        buildEvent('razorpay', request, settings, {
          eventId,
          eventType,
          classification: classify(EVENT_TABLE, eventType),
          reference: textAt(entities.order, ['receipt']) ?? referenceFromNotes(entities.payment),
          // The order is what the merchant created and tracks; a payment is one attempt at paying it.
          gatewayPaymentId:
            textAt(entities.payment, ['order_id']) ??
            textAt(entities.order, ['id']) ??
            textAt(entities.payment, ['id']) ??
            textAt(entities.refund, ['payment_id']) ??
            textAt(entities.dispute, ['payment_id']),
          money,
          // The event's own entity: the payment (payment.captured and order.paid name the same one, so they are one
          // money-in fact), the refund, the dispute. Refund events carry the payment's amount_refunded too, but it
          // counts refunds still under way, and every refund has its own id: no running total is taken from it.
          factId: mainId,
          // Razorpay payloads do not say whether they come from test or live mode.
          mode: 'unknown',
          occurredAt: isoTime(at(body, ['created_at'])),
          payload: bodyText(request.body),
        }),
      ],
      unparseable: [],
    };
  },
};
