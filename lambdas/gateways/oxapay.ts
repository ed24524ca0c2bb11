import { moneyFromMajor } from '../domain/money.js';
import { bodyDigestId, buildEvent, classify, row } from './normalise.js';
import { at, bodyText, isoTime, parseJsonObject, textAt } from './payload.js';
import { decodeHex, hmac, matchesAny, noSecretMatched, refused, verified } from './signatures.js';
import { type AcceptedResponse, type GatewayAdapter, UnparseablePayloadError } from './types.js';

/**
 * OXA Pay: the `HMAC` header is the lowercase hex HMAC-SHA512 of the raw body. The key depends on the body's `type`:
 * the merchant API key (`secrets`) for payment callbacks (`invoice`, `white_label`, `static_address`,
 * `payment_link`, `donation`), the payout API key (`payoutSecrets`) for `payout`. No timestamp, no replay window.
 *
 * OXA Pay sends no event id and no event name: the event type is `<type>.<status lower-cased>` (`invoice.paid`), and
 * the event id `<track_id>:<status lower-cased>`, with `:<txs[0].tx_hash>` appended for `static_address` (one
 * address receives many payments under one track id) and `payout:` prefixed for payouts (their track ids are another
 * sequence); without a `track_id`, a digest of the body. Statuses are compared lower-cased because webhooks send
 * `Paid` where the docs write `paid`.
 */
const SIGNATURE_HEADER = 'hmac';
const PAYOUT_TYPE = 'payout';

/**
 * Keys are the lower-cased `status` of a payment callback, whatever its `type`; `payout` stands for every payout
 * callback, which is money leaving the merchant and so `other` whatever its status.
 */
const EVENT_TABLE = {
  paid: row('payment.succeeded'),
  // Accepted by hand in OXA Pay's dashboard (typically a small underpayment the merchant chose to accept).
  manual_accept: row('payment.succeeded'),
  new: row('payment.pending'),
  waiting: row('payment.pending'),
  paying: row('payment.pending'),
  confirming: row('payment.pending'),
  // Some money arrived but less than the invoice: not final, the payer can still top up or the invoice expire.
  underpaid: row('payment.pending'),
  expired: row('payment.expired'),
  failed: row('payment.failed'),
  refunding: row('refund.pending'),
  refunded: row('refund.succeeded'),
  [PAYOUT_TYPE]: row('other'),
};

/** OXA Pay counts a delivery as done only on HTTP 200 with exactly this body; anything else is retried. */
const OK_RESPONSE: AcceptedResponse = { contentType: 'text/plain', body: 'ok' };

/**
 * The callback's `type`, read before the signature is checked, only to pick the key. A body that cannot be read
 * gets the merchant keys, and then fails verification on its own.
 */
function unverifiedType(body: Buffer): string | undefined {
  try {
    return textAt(parseJsonObject(body), ['type']);
  } catch {
    return undefined;
  }
}

/** `txs[0].tx_hash`: the path accessors walk objects only, and `txs` is an array. */
function firstTxHash(body: unknown): string | undefined {
  const txs = at(body, ['txs']);
  return Array.isArray(txs) ? textAt(txs[0], ['tx_hash']) : undefined;
}

export const oxapay: GatewayAdapter = {
  name: 'oxapay',
  displayName: 'OXA Pay',
  eventTable: EVENT_TABLE,
  acceptedResponse: OK_RESPONSE,

  verify(request, secret) {
    const header = request.headers[SIGNATURE_HEADER];
    if (header === undefined || header.trim() === '') return refused('missing_signature', 'no HMAC header');
    const received = decodeHex(header, 64);
    if (!received) return refused('malformed_signature', 'HMAC header is not a 128-character hex digest');
    const isPayout = unverifiedType(request.body)?.toLowerCase() === PAYOUT_TYPE;
    const keys = isPayout ? (secret.payoutSecrets ?? []) : secret.secrets;
    if (isPayout && keys.length === 0) {
      return refused(
        'invalid_signature',
        'payout callback, but no payout API key is configured (payoutSecrets)',
      );
    }
    const ok = matchesAny(keys, [received], (key) => hmac('sha512', key, request.body));
    if (ok) return verified;
    if (!isPayout) return noSecretMatched(keys.length);
    return refused(
      'invalid_signature',
      `payout callback signature does not match the body under any of the ${keys.length} configured payout key(s)`,
    );
  },

  normalise(request, settings) {
    const body = parseJsonObject(request.body);
    const type = textAt(body, ['type']);
    const rawStatus = textAt(body, ['status']);
    if (type === undefined || rawStatus === undefined) {
      throw new UnparseablePayloadError('OXA Pay payload has no "type" or no "status"');
    }
    const status = rawStatus.toLowerCase();
    const isPayout = type.toLowerCase() === PAYOUT_TYPE;
    const trackId = textAt(body, ['track_id']);
    let eventId = bodyDigestId(request.body);
    if (trackId !== undefined) {
      const txHash = type.toLowerCase() === 'static_address' ? firstTxHash(body) : undefined;
      eventId = `${isPayout ? 'payout:' : ''}${trackId}:${status}${txHash === undefined ? '' : `:${txHash}`}`;
    }
    const amount = textAt(body, ['amount']);
    const currency = textAt(body, ['currency']);
    const money =
      amount !== undefined && currency !== undefined
        ? moneyFromMajor(amount, currency, settings.currencyExponents)
        : undefined;
    return {
      events: [
        buildEvent('oxapay', request, settings, {
          eventId,
          eventType: `${type}.${status}`,
          classification: classify(EVENT_TABLE, isPayout ? PAYOUT_TYPE : status),
          reference: textAt(body, ['order_id']),
          // A payout's track id names the payout, not a payment.
          gatewayPaymentId: isPayout ? undefined : trackId,
          money,
          // OXA Pay's callbacks do not say whether the invoice was a sandbox one.
          mode: 'unknown',
          occurredAt: isoTime(at(body, ['date'])),
          payload: bodyText(request.body),
        }),
      ],
      unparseable: [],
    };
  },
};
