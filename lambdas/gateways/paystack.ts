import { moneyFromMinor } from '../domain/money.js';
import { bodyDigestId, buildEvent, classify, modeFromLive, row } from './normalise.js';
import { at, bodyText, firstTextAt, isObject, isoTime, parseJsonObject, textAt } from './payload.js';
import { verifyBodyHmacHex } from './signatures.js';
import { type GatewayAdapter, JSON_ACCEPTED, UnparseablePayloadError } from './types.js';

/**
 * Paystack: `x-paystack-signature` is the lowercase hex HMAC-SHA512 of the raw body, keyed with the account's secret
 * API key (`sk_live_...`/`sk_test_...`; Paystack has no separate webhook secret). No timestamp, no replay window.
 *
 * Event id (Paystack sends none): `<event>:<data.id>`, or where `data` has no id the first of `refund_reference`,
 * `subscription_code`, `invoice_code`, `transfer_code`, `reference`; failing all, a digest of the body. Event types
 * that recur for one object add a short body digest (see RECURRING_EVENTS).
 *
 * Fact id (what the payment record counts once): `data.id` (the transaction, the dispute), and for refunds `data.id`
 * else `refund_reference`.
 *
 * A `data` array (`subscription.expiring_cards` lists the cards about to expire across subscriptions) names no
 * payment: an `other` event without reference or payment id (kept as unmatched), its id the digest of the body.
 */
const SIGNATURE_HEADER = 'x-paystack-signature';

const EVENT_TABLE = {
  'charge.success': row('payment.succeeded'),
  'paymentrequest.success': row('payment.succeeded'),
  'preauthorization.capture.success': row('payment.succeeded'),
  'paymentrequest.pending': row('payment.pending'),
  'preauthorization.reserve.success': row('payment.authorized'),
  'invoice.payment_failed': row('payment.failed'),
  'preauthorization.capture.failed': row('payment.failed'),
  'preauthorization.release.success': row('payment.expired'),
  'refund.pending': row('refund.pending'),
  'refund.processing': row('refund.pending'),
  'refund.processed': row('refund.succeeded'),
  'refund.failed': row('refund.failed'),
  'charge.dispute.create': row('dispute.opened'),
  'charge.dispute.remind': row('dispute.updated'),
  // UNCONFIRMED resolution values: "merchant-accepted" means the merchant conceded (money returned to the customer),
  // "auto-accepted" that nobody answered in time (the same outcome), "declined" that the dispute was rejected in the
  // merchant's favour. Anything else stays an update.
  'charge.dispute.resolve/merchant-accepted': row('dispute.lost'),
  'charge.dispute.resolve/auto-accepted': row('dispute.lost'),
  'charge.dispute.resolve/declined': row('dispute.won'),
  'charge.dispute.resolve': row('dispute.updated'),
};

const ID_FALLBACK_PATHS = [
  'refund_reference',
  'subscription_code',
  'invoice_code',
  'transfer_code',
  'reference',
].map((key) => [key]);

/**
 * Event types Paystack can send more than once for the same object (a reminder per dispute deadline, an update or a
 * failed attempt per invoice). Their id also carries a digest of the body, so a second reminder is not mistaken for a
 * retry of the first; a retry resends the same bytes and still collapses.
 */
const RECURRING_EVENTS: ReadonlySet<string> = new Set([
  'charge.dispute.remind',
  'invoice.update',
  'invoice.payment_failed',
  'subscription.expiring_cards',
]);

function eventIdOf(eventType: string, idPart: string | undefined, body: Buffer): string {
  if (idPart === undefined) return bodyDigestId(body);
  const base = `${eventType}:${idPart}`;
  return RECURRING_EVENTS.has(eventType)
    ? `${base}:${bodyDigestId(body).slice('sha256:'.length, 'sha256:'.length + 16)}`
    : base;
}

export const paystack: GatewayAdapter = {
  name: 'paystack',
  displayName: 'Paystack',
  eventTable: EVENT_TABLE,
  acceptedResponse: JSON_ACCEPTED,

  verify(request, secret) {
    return verifyBodyHmacHex(request, secret.secrets, { header: SIGNATURE_HEADER, algorithm: 'sha512' });
  },

  normalise(request, settings) {
    const body = parseJsonObject(request.body);
    const eventType = textAt(body, ['event']);
    const data = at(body, ['data']);
    if (eventType !== undefined && Array.isArray(data)) {
      return {
        events: [
          buildEvent('paystack', request, settings, {
            eventId: eventIdOf(eventType, undefined, request.body),
            eventType,
            classification: row('other'),
            mode: modeFromLive(undefined),
            payload: bodyText(request.body),
          }),
        ],
        unparseable: [],
      };
    }
    if (eventType === undefined || !isObject(data)) {
      throw new UnparseablePayloadError('Paystack payload has no "event" name or no "data" object');
    }
    const classification = classify(
      EVENT_TABLE,
      `${eventType}/${textAt(data, ['resolution']) ?? ''}`,
      eventType,
    );
    const idPart = textAt(data, ['id']) ?? firstTextAt(data, ID_FALLBACK_PATHS);
    const domain = textAt(data, ['domain']);
    const amount = firstTextAt(data, [['amount'], ['transaction', 'amount']]);
    const currency = firstTextAt(data, [['currency'], ['transaction', 'currency']]);
    const money =
      amount !== undefined && currency !== undefined
        ? moneyFromMinor(amount, currency, settings.currencyExponents)
        : undefined;
    const isPaymentEvent = classification.kind.startsWith('payment.');
    // The fact's own id: the transaction for payments, the refund (its id, else its reference), the dispute.
    const factId = classification.kind.startsWith('refund.')
      ? firstTextAt(data, [['id'], ['refund_reference']])
      : textAt(data, ['id']);
    return {
      events: [
        buildEvent('paystack', request, settings, {
          eventId: eventIdOf(eventType, idPart, request.body),
          eventType,
          classification,
          reference: firstTextAt(data, [
            ['reference'],
            ['transaction_reference'],
            ['transaction', 'reference'],
          ]),
          gatewayPaymentId:
            textAt(data, ['transaction', 'id']) ?? (isPaymentEvent ? textAt(data, ['id']) : undefined),
          money,
          factId,
          mode: modeFromLive(domain === undefined ? undefined : domain === 'live'),
          occurredAt:
            isoTime(at(data, ['paid_at'])) ??
            isoTime(at(data, ['createdAt'])) ??
            isoTime(at(data, ['created_at'])),
          payload: bodyText(request.body),
        }),
      ],
      unparseable: [],
    };
  },
};
