import { moneyFromMinor } from '../domain/money.js';
import { bodyDigestId, buildEvent, classify, modeFromLive, row } from './normalise.js';
import {
  at,
  bodyText,
  booleanAt,
  firstTextAt,
  isObject,
  isoTime,
  type JsonObject,
  parseJsonObject,
  textAt,
} from './payload.js';
import type { GatewaySettings } from './settings.js';
import {
  checkTimestamp,
  decodeHex,
  hmacOfParts,
  matchesAny,
  noSecretMatched,
  refused,
  verified,
} from './signatures.js';
import { type GatewayAdapter, JSON_ACCEPTED, UnparseablePayloadError } from './types.js';

/**
 * Stripe: `stripe-signature` is `t=<unix seconds>,v1=<hex>[,v1=<hex>...]`; each v1 is the hex HMAC-SHA256 of
 * `<t>.<raw body>`, keyed with the endpoint secret used as-is, `whsec_` prefix included (unlike Standard Webhooks,
 * the secret is not base64-decoded). Stripe sends several v1 values while an endpoint secret is being rolled; any
 * one matching any configured secret is enough. Other schemes (v0) are ignored. The timestamp must lie within
 * `toleranceSeconds` of the receive time in both directions (Stripe's library bounds only the age).
 *
 * Event id: Stripe's own `id` (`evt_...`), which its retries repeat.
 *
 * Payment identity: always a Stripe id from the signed object (see {@link gatewayPaymentIdOf}): the PaymentIntent,
 * else the charge (`ch_...`) or Checkout Session (`cs_...`) itself. The merchant reference (configured metadata keys,
 * then `client_reference_id`) is only carried as `reference`: a payer can set `client_reference_id` on a Payment
 * Link, so it must never become the key a payment record is found by.
 */
const SIGNATURE_HEADER = 'stripe-signature';

const EVENT_TABLE = {
  'payment_intent.succeeded': row('payment.succeeded'),
  'charge.succeeded': row('payment.succeeded'),
  // Under manual capture Stripe sends charge.succeeded at authorisation, with `captured: false`: no money yet.
  'charge.succeeded/uncaptured': row('payment.authorized'),
  'charge.captured': row('payment.succeeded'),
  'checkout.session.async_payment_succeeded': row('payment.succeeded'),
  // A completed session is paid, or unpaid until an asynchronous method (bank debit, voucher) settles.
  'checkout.session.completed/paid': row('payment.succeeded'),
  'checkout.session.completed/unpaid': row('payment.pending'),
  'checkout.session.completed/no_payment_required': row('other'),
  'payment_intent.created': row('payment.pending'),
  'payment_intent.processing': row('payment.pending'),
  'payment_intent.requires_action': row('payment.pending'),
  'charge.pending': row('payment.pending'),
  'payment_intent.amount_capturable_updated': row('payment.authorized'),
  'payment_intent.payment_failed': row('payment.failed'),
  'charge.failed': row('payment.failed'),
  'checkout.session.async_payment_failed': row('payment.failed'),
  'payment_intent.canceled': row('payment.expired'),
  'checkout.session.expired': row('payment.expired'),
  'charge.expired': row('payment.expired'),
  // charge.refunded fires once money has gone back; a Refund object's own events carry its status, and a card
  // refund is often created already `succeeded`, so refund.created is pending only until its status says otherwise.
  'charge.refunded': row('refund.succeeded'),
  'refund.created/succeeded': row('refund.succeeded'),
  'refund.created/failed': row('refund.failed'),
  'refund.created': row('refund.pending'),
  'refund.updated/pending': row('refund.pending'),
  'refund.updated/requires_action': row('refund.pending'),
  'refund.updated/succeeded': row('refund.succeeded'),
  'refund.updated/failed': row('refund.failed'),
  'refund.updated/canceled': row('refund.failed'),
  'refund.failed': row('refund.failed'),
  // The older name of refund.updated, still sent to endpoints on older API versions.
  'charge.refund.updated/pending': row('refund.pending'),
  'charge.refund.updated/requires_action': row('refund.pending'),
  'charge.refund.updated/succeeded': row('refund.succeeded'),
  'charge.refund.updated/failed': row('refund.failed'),
  'charge.refund.updated/canceled': row('refund.failed'),
  'charge.dispute.created': row('dispute.opened'),
  'charge.dispute.updated': row('dispute.updated'),
  'charge.dispute.funds_withdrawn': row('dispute.updated'),
  'charge.dispute.funds_reinstated': row('dispute.updated'),
  'charge.dispute.closed/won': row('dispute.won'),
  'charge.dispute.closed/lost': row('dispute.lost'),
  // warning_closed (an inquiry that never became a chargeback) and any newer status.
  'charge.dispute.closed': row('dispute.updated'),
};

/**
 * Where Stripe's minor unit differs from ISO 4217's. ISK and UGX: Stripe's API counts them in hundredths although ISO
 * gives them no minor unit (HUF and TWD are also special-cased by Stripe but are already 2 in ISO). MGA: Stripe lists
 * it as zero-decimal although ISO gives it 2. Re-check against Stripe's currency documentation before relying on it;
 * a deployment's `currencyExponents` setting wins over this.
 */
export const STRIPE_CURRENCY_EXPONENTS: Readonly<Record<string, number>> = { ISK: 2, UGX: 2, MGA: 0 };

/** Thin events carry only a pointer to the changed object; they are passed on as `other` for a consumer to fetch. */
const THIN_EVENT_OBJECT = 'v2.core.event';

/** Stripe's own exponents under the configured ones, merged once per settings object rather than per request. */
const mergedExponents = new WeakMap<Readonly<Record<string, number>>, Readonly<Record<string, number>>>();

function exponentsFor(configured: Readonly<Record<string, number>>): Readonly<Record<string, number>> {
  let merged = mergedExponents.get(configured);
  if (merged === undefined) {
    merged = { ...STRIPE_CURRENCY_EXPONENTS, ...configured };
    mergedExponents.set(configured, merged);
  }
  return merged;
}

interface ParsedHeader {
  readonly timestamp?: string;
  readonly v1: readonly string[];
  readonly duplicateTimestamp: boolean;
}

function parseSignatureHeader(header: string): ParsedHeader {
  let timestamp: string | undefined;
  let duplicateTimestamp = false;
  const v1: string[] = [];
  for (const part of header.split(',')) {
    const separator = part.indexOf('=');
    if (separator < 0) continue;
    const key = part.slice(0, separator).trim();
    const value = part.slice(separator + 1).trim();
    if (key === 't') {
      duplicateTimestamp ||= timestamp !== undefined;
      timestamp = value;
    } else if (key === 'v1') {
      v1.push(value);
    }
  }
  return timestamp === undefined ? { v1, duplicateTimestamp } : { timestamp, v1, duplicateTimestamp };
}

/** The minor-unit amount that matters for this object and event. */
function amountText(
  eventType: string,
  objectType: string | undefined,
  object: JsonObject,
): string | undefined {
  switch (objectType) {
    case 'payment_intent':
      return eventType === 'payment_intent.succeeded'
        ? firstTextAt(object, [['amount_received'], ['amount']])
        : textAt(object, ['amount']);
    case 'checkout.session':
      return textAt(object, ['amount_total']);
    case 'charge':
      // A charge.refunded event is about the refunded part, a capture about the captured part (which can be less
      // than was authorised), not the original charge.
      if (eventType === 'charge.refunded') return firstTextAt(object, [['amount_refunded'], ['amount']]);
      if (eventType === 'charge.captured') return firstTextAt(object, [['amount_captured'], ['amount']]);
      return textAt(object, ['amount']);
    default:
      return textAt(object, ['amount']);
  }
}

/**
 * The kind of Stripe object: its `object` field, else what the event type says it carries (a hand-made or trimmed
 * payload may leave `object` out).
 */
function objectTypeOf(eventType: string, object: JsonObject): string | undefined {
  const declared = textAt(object, ['object']);
  if (declared !== undefined) return declared;
  if (eventType.startsWith('payment_intent.')) return 'payment_intent';
  if (eventType.startsWith('checkout.session.')) return 'checkout.session';
  if (eventType.startsWith('charge.dispute.')) return 'dispute';
  if (eventType.startsWith('refund.') || eventType.startsWith('charge.refund.')) return 'refund';
  if (eventType.startsWith('charge.')) return 'charge';
  return undefined;
}

/** A Stripe id at `field`, whether the object points at it by id or (expanded) holds it as an object. */
function idAt(object: JsonObject, field: string): string | undefined {
  return firstTextAt(object, [[field], [field, 'id']]);
}

function paymentIntentIdOf(objectType: string | undefined, object: JsonObject): string | undefined {
  if (objectType === 'payment_intent') return textAt(object, ['id']);
  // Charges, sessions, refunds and disputes point at their PaymentIntent, by id or (when expanded) as an object.
  return idAt(object, 'payment_intent');
}

/**
 * The payment's identity, from Stripe's own ids in the signed object: the PaymentIntent, else (a charge made without
 * one, a session that made none) the charge or the session itself; refunds and disputes point at their charge. Every
 * event about one payment names the same one, and a value the payer chooses never stands in for it.
 */
function gatewayPaymentIdOf(objectType: string | undefined, object: JsonObject): string | undefined {
  const paymentIntent = paymentIntentIdOf(objectType, object);
  if (paymentIntent !== undefined) return paymentIntent;
  switch (objectType) {
    case 'charge':
    case 'checkout.session':
      return textAt(object, ['id']);
    case 'refund':
    case 'dispute':
      return idAt(object, 'charge');
    default:
      return undefined;
  }
}

/**
 * The id of what the event is about, as the payment record counts it: the PaymentIntent for everything about paying
 * (a charge or session without one: its own id), the refund, the dispute. `charge.refunded` names no refund of its
 * own (its `amount_refunded` is a running total), so it has none.
 */
function factIdOf(eventType: string, objectType: string | undefined, object: JsonObject): string | undefined {
  if (objectType === 'refund' || objectType === 'dispute') return textAt(object, ['id']);
  if (eventType === 'charge.refunded') return undefined;
  return paymentIntentIdOf(objectType, object) ?? textAt(object, ['id']);
}

/**
 * The merchant's reference: a configured metadata key (set by the merchant's server), then `client_reference_id`.
 * The latter can be chosen by the payer (Payment Links take it from the URL), so it is only ever a label beside one
 * of Stripe's own ids: without one, it is left out rather than becoming the key the payment is found by.
 */
function referenceOf(
  object: JsonObject,
  settings: GatewaySettings,
  gatewayPaymentId: string | undefined,
): string | undefined {
  const metadataPaths = settings.stripeReferenceMetadataKeys.map((key) => ['metadata', key]);
  const paths = gatewayPaymentId === undefined ? metadataPaths : [...metadataPaths, ['client_reference_id']];
  return firstTextAt(object, paths);
}

export const stripe: GatewayAdapter = {
  name: 'stripe',
  displayName: 'Stripe',
  eventTable: EVENT_TABLE,
  acceptedResponse: JSON_ACCEPTED,

  verify(request, secret, settings) {
    const header = request.headers[SIGNATURE_HEADER];
    if (header === undefined || header.trim() === '')
      return refused('missing_signature', `no ${SIGNATURE_HEADER} header`);
    const parsed = parseSignatureHeader(header);
    if (parsed.timestamp === undefined || parsed.duplicateTimestamp) {
      return refused('malformed_signature', `${SIGNATURE_HEADER} must carry exactly one t= timestamp`);
    }
    if (parsed.v1.length === 0)
      return refused('malformed_signature', `${SIGNATURE_HEADER} has no v1= signature`);
    // A v1 that is not a SHA-256 hex digest cannot match; it is skipped as Stripe's library would fail to match it.
    const candidates = parsed.v1.flatMap((value) => decodeHex(value, 32) ?? []);
    if (candidates.length === 0) {
      return refused(
        'malformed_signature',
        `no v1= value in ${SIGNATURE_HEADER} is a 64-character hex digest`,
      );
    }
    const timing = checkTimestamp(parsed.timestamp, request.receivedAt, settings.toleranceSeconds);
    if (!timing.ok) return timing;
    const prefix = `${parsed.timestamp}.`;
    const ok = matchesAny(secret.secrets, candidates, (key) =>
      hmacOfParts('sha256', key, prefix, request.body),
    );
    return ok ? verified : noSecretMatched(secret.secrets.length);
  },

  normalise(request, settings) {
    const body = parseJsonObject(request.body);
    const payload = bodyText(request.body);
    const eventId = textAt(body, ['id']);
    const eventType = textAt(body, ['type']);
    const mode = modeFromLive(booleanAt(body, ['livemode']));
    const occurredAt = isoTime(at(body, ['created']));

    if (textAt(body, ['object']) === THIN_EVENT_OBJECT) {
      return {
        events: [
          buildEvent('stripe', request, settings, {
            eventId: eventId ?? bodyDigestId(request.body),
            eventType: eventType ?? THIN_EVENT_OBJECT,
            classification: row('other'),
            mode,
            occurredAt,
            payload,
          }),
        ],
        unparseable: [],
      };
    }

    const object = at(body, ['data', 'object']);
    if (eventId === undefined || eventType === undefined || !isObject(object)) {
      throw new UnparseablePayloadError('Stripe payload has no "id", no "type" or no "data.object"');
    }
    // Sessions carry their payment state in payment_status (their `status` is only open/complete/expired).
    const status = firstTextAt(object, [['payment_status'], ['status']]);
    const captureState =
      at(object, ['captured']) === false ? `${eventType}/uncaptured` : `${eventType}/${status ?? ''}`;
    const classification = classify(EVENT_TABLE, captureState, `${eventType}/${status ?? ''}`, eventType);
    const objectType = objectTypeOf(eventType, object);
    const gatewayPaymentId = gatewayPaymentIdOf(objectType, object);
    const amount = amountText(eventType, objectType, object);
    const currency = textAt(object, ['currency']);
    const exponents = exponentsFor(settings.currencyExponents);
    const amountRefunded = eventType === 'charge.refunded' ? textAt(object, ['amount_refunded']) : undefined;
    return {
      events: [
        buildEvent('stripe', request, settings, {
          eventId,
          eventType,
          classification,
          reference: referenceOf(object, settings, gatewayPaymentId),
          gatewayPaymentId,
          money:
            amount !== undefined && currency !== undefined
              ? moneyFromMinor(amount, currency, exponents)
              : undefined,
          factId: factIdOf(eventType, objectType, object),
          refundedTotal:
            amountRefunded !== undefined && currency !== undefined
              ? moneyFromMinor(amountRefunded, currency, exponents)
              : undefined,
          mode,
          occurredAt,
          payload,
        }),
      ],
      unparseable: [],
    };
  },
};
