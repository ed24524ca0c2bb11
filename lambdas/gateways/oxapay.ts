import { moneyFromMajor } from '../domain/money.js';
import { bodyDigestId, buildEvent, classify, row } from './normalise.js';
import { at, bodyText, isoTime, parseJsonObjectForVerify, takeJsonObject, textAt } from './payload.js';
import { refused, verifyBodyHmacHex } from './signatures.js';
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
    return textAt(parseJsonObjectForVerify(body), ['type']);
  } catch {
    return undefined;
  }
}

/**
 * What tells one static-address deposit from the next: its transaction hash, or for several transactions all their
 * hashes (sorted, so a retry listing them in another order is still the same event). Should OXA Pay send a running
 * list, each new deposit then gets a new id instead of colliding with the first one's. UNCONFIRMED payload shape.
 */
function transactionKey(body: unknown): string | undefined {
  const txs = at(body, ['txs']);
  if (!Array.isArray(txs)) return undefined;
  const hashes = txs.flatMap((tx) => textAt(tx, ['tx_hash']) ?? []).sort();
  if (hashes.length <= 1) return hashes[0];
  return bodyDigestId(hashes.join(',')).slice(0, 'sha256:'.length + 32);
}

export const oxapay: GatewayAdapter = {
  name: 'oxapay',
  displayName: 'OXA Pay',
  eventTable: EVENT_TABLE,
  acceptedResponse: OK_RESPONSE,

  verify(request, secret) {
    const isPayout = unverifiedType(request.body)?.toLowerCase() === PAYOUT_TYPE;
    const keys = isPayout ? (secret.payoutSecrets ?? []) : secret.secrets;
    const result = verifyBodyHmacHex(request, keys, { header: SIGNATURE_HEADER, algorithm: 'sha512' });
    if (result.ok || !isPayout || result.reason !== 'invalid_signature') return result;
    return refused(
      'invalid_signature',
      keys.length === 0
        ? 'payout callback, but no payout API key is configured (payoutSecrets)'
        : `payout callback signature does not match the body under any of the ${keys.length} configured payout key(s)`,
    );
  },

  normalise(request, settings) {
    const body = takeJsonObject(request.body);
    const type = textAt(body, ['type']);
    const rawStatus = textAt(body, ['status']);
    if (type === undefined || rawStatus === undefined) {
      throw new UnparseablePayloadError('OXA Pay payload has no "type" or no "status"');
    }
    const status = rawStatus.toLowerCase();
    const isPayout = type.toLowerCase() === PAYOUT_TYPE;
    const trackId = textAt(body, ['track_id']);
    const txHash = type.toLowerCase() === 'static_address' ? transactionKey(body) : undefined;
    // The body's digest only when there is no track id: hashing the body for nothing showed in the profile.
    const eventId =
      trackId === undefined
        ? bodyDigestId(request.body)
        : `${isPayout ? 'payout:' : ''}${trackId}:${status}${txHash === undefined ? '' : `:${txHash}`}`;
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
          // Each deposit to a static address is money in of its own (its transaction hash); an invoice's is its track id.
          factId: isPayout ? undefined : (txHash ?? trackId),
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
