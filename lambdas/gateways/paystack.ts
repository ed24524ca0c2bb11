import { moneyFromMinor } from '../domain/money.js';
import { bodyDigestId, buildEvent, classify, modeFromLive, row } from './normalise.js';
import { at, bodyText, firstTextAt, isObject, isoTime, parseJsonObject, textAt } from './payload.js';
import { decodeHex, hmac, matchesAny, noSecretMatched, refused, verified } from './signatures.js';
import { type GatewayAdapter, JSON_ACCEPTED, UnparseablePayloadError } from './types.js';

/**
 * Paystack: `x-paystack-signature` is the lowercase hex HMAC-SHA512 of the raw body, keyed with the account's secret
 * API key (`sk_live_...`/`sk_test_...`; Paystack has no separate webhook secret). No timestamp, no replay window.
 *
 * Event id (Paystack sends none): `<event>:<data.id>`, or where `data` has no id the first of `refund_reference`,
 * `subscription_code`, `invoice_code`, `transfer_code`, `reference`; failing all, a digest of the body.
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
  // "declined" means the dispute was rejected in the merchant's favour. Anything else stays an update.
  'charge.dispute.resolve/merchant-accepted': row('dispute.lost'),
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

export const paystack: GatewayAdapter = {
  name: 'paystack',
  displayName: 'Paystack',
  eventTable: EVENT_TABLE,
  acceptedResponse: JSON_ACCEPTED,

  verify(request, secret) {
    const header = request.headers[SIGNATURE_HEADER];
    if (header === undefined || header.trim() === '')
      return refused('missing_signature', `no ${SIGNATURE_HEADER} header`);
    const received = decodeHex(header, 64);
    if (!received)
      return refused('malformed_signature', `${SIGNATURE_HEADER} is not a 128-character hex digest`);
    const ok = matchesAny(secret.secrets, [received], (key) => hmac('sha512', key, request.body));
    return ok ? verified : noSecretMatched(secret.secrets.length);
  },

  normalise(request, settings) {
    const body = parseJsonObject(request.body);
    const eventType = textAt(body, ['event']);
    const data = at(body, ['data']);
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
    return {
      events: [
        buildEvent('paystack', request, settings, {
          eventId: idPart !== undefined ? `${eventType}:${idPart}` : bodyDigestId(request.body),
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
