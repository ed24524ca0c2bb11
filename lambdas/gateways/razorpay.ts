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
 * Event id (the dedupe key): derived from the signed body only (see {@link eventIdOf}). Razorpay's
 * `x-razorpay-event-id` header is not covered by the signature, so anyone holding one captured body could replay it
 * under fresh header values as "new" events. The header is only diagnostic: it names the delivery in logs and is
 * kept with a parked webhook (`DIAGNOSTIC_HEADERS`), and never decides anything.
 */
const SIGNATURE_HEADER = 'x-razorpay-signature';

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

type EntityName = 'payment' | 'order' | 'refund' | 'dispute' | 'payment_link' | 'invoice';

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

type Entities = Readonly<Record<EntityName, JsonObject | undefined>>;

/** Joins the parts of a key, or says there is none when one of them is missing. */
function keyOf(...parts: readonly (string | undefined)[]): string | undefined {
  return parts.every((part): part is string => part !== undefined && part !== '')
    ? parts.join(':')
    : undefined;
}

function idOf(entities: Entities, name: EntityName): string | undefined {
  return textAt(entities[name], ['id']);
}

/**
 * The dedupe key, from the signed body alone:
 * - `payment.dispute.*`: `<event>:<dispute id>:<dispute status>` (one dispute moves through several statuses);
 * - `payment.*`: `<event>:<payment id>`;
 * - `order.paid`: `order.paid:<order id>:<payment id>`;
 * - `refund.*`: `<event>:<refund id>`;
 * - `payment_link.*`, `invoice.*`: `<event>:<payment link or invoice id>:<payment id>` (one link or invoice can be
 *   paid in parts);
 * - anything else, or one of the above missing a part: `<event>:sha256:<hex SHA-256 of the body>`, which a retry (the
 *   same bytes) repeats.
 */
function eventIdOf(eventType: string, entities: Entities, body: Buffer): string {
  let key: string | undefined;
  if (eventType.startsWith('payment.dispute.')) {
    key = keyOf(eventType, idOf(entities, 'dispute'), textAt(entities.dispute, ['status']));
  } else if (eventType.startsWith('payment.')) {
    key = keyOf(eventType, idOf(entities, 'payment'));
  } else if (eventType === 'order.paid') {
    key = keyOf(eventType, idOf(entities, 'order'), idOf(entities, 'payment'));
  } else if (eventType.startsWith('refund.')) {
    key = keyOf(eventType, idOf(entities, 'refund'));
  } else if (eventType.startsWith('payment_link.')) {
    key = keyOf(eventType, idOf(entities, 'payment_link'), idOf(entities, 'payment'));
  } else if (eventType.startsWith('invoice.')) {
    key = keyOf(eventType, idOf(entities, 'invoice'), idOf(entities, 'payment'));
  }
  return key ?? `${eventType}:${bodyDigestId(body)}`;
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
    const entities: Entities = {
      payment: entity(payload, 'payment'),
      order: entity(payload, 'order'),
      refund: entity(payload, 'refund'),
      dispute: entity(payload, 'dispute'),
      payment_link: entity(payload, 'payment_link'),
      invoice: entity(payload, 'invoice'),
    };
    const main = entityOrder(eventType)
      .map((name) => entities[name])
      .find((found) => found !== undefined);
    const mainId = textAt(main, ['id']);
    const amount = textAt(main, ['amount']);
    const currency = textAt(main, ['currency']);
    const money =
      amount !== undefined && currency !== undefined
        ? moneyFromMinor(amount, currency, settings.currencyExponents)
        : undefined;
    return {
      events: [
        buildEvent('razorpay', request, settings, {
          eventId: eventIdOf(eventType, entities, request.body),
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
