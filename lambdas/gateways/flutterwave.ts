import { createHash } from 'node:crypto';
import { moneyFromMajor } from '../domain/money.js';
import { bodyDigestId, buildEvent, classify, row } from './normalise.js';
import { at, bodyText, firstTextAt, isObject, isoTime, parseJsonObject, textAt } from './payload.js';
import type { FlutterwaveScheme } from './settings.js';
import { decodeBase64, hmac, matchesAny, refused, verified } from './signatures.js';
import { type GatewayAdapter, JSON_ACCEPTED, UnparseablePayloadError, type Verification } from './types.js';

/**
 * Flutterwave: two schemes, both keyed by the "secret hash" typed into the dashboard; `settings.flutterwaveSchemes`
 * says which are accepted (default both).
 * - `verif-hash` (v3): the header IS the secret hash, verbatim. Nothing binds it to the body and there is no
 *   timestamp, so anyone who ever saw one delivery can forge any other: always re-check the transaction through
 *   Flutterwave's verify API before giving value.
 * - `flutterwave-signature`: base64(HMAC-SHA256(key = secret hash, raw body)). UNCONFIRMED algorithm: several
 *   independent implementations agree on it, but Flutterwave's own page could not be read and one docs mirror shows
 *   the header compared to the secret hash verbatim. Check against one real sandbox delivery before going live.
 * The body-binding scheme decides when it can: a well-formed `flutterwave-signature` (enabled) must match, whatever
 * `verif-hash` says, because `verif-hash` is the same static value on every request and proves nothing about this
 * body; a body that fails its HMAC is never queued. `verif-hash` decides only when there is no usable HMAC header
 * (absent, disabled, or not shaped like a base64 HMAC-SHA256, in case Flutterwave sends the plain secret there).
 * Every comparison tries each secret (rotation).
 *
 * Event id (Flutterwave sends none): `<event>:<data.id>:<data.status>`. The status is part of it because the same
 * transaction id is reported `pending` and then `successful`; without a status `<event>:<data.id>`; without a
 * `data.id`, a digest of the body. v3 names the event in `event`; v4 (UNCONFIRMED shape) in `type`, with status
 * `succeeded` and the merchant reference in `data.reference` instead of `data.tx_ref`.
 */
const VERIF_HASH_HEADER = 'verif-hash';
const SIGNATURE_HEADER = 'flutterwave-signature';

const HEADER_OF: Readonly<Record<FlutterwaveScheme, string>> = {
  'verif-hash': VERIF_HASH_HEADER,
  'flutterwave-signature': SIGNATURE_HEADER,
};

/** Keys are `<event>/<data.status>`; a `charge.completed` with any other status is `other` until someone looks. */
const EVENT_TABLE = {
  'charge.completed/successful': row('payment.succeeded'),
  // UNCONFIRMED: v4 spelling of a successful charge.
  'charge.completed/succeeded': row('payment.succeeded'),
  'charge.completed/failed': row('payment.failed'),
  'charge.completed/pending': row('payment.pending'),
  // Money leaving the merchant's balance, not a customer payment.
  'transfer.completed': row('other'),
};

type SchemeOutcome = 'verified' | 'invalid' | 'malformed';

/** Hashing both sides first makes the comparison constant-time without revealing the secret's length. */
function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

function checkVerifHash(header: string, secrets: readonly string[]): SchemeOutcome {
  return matchesAny(secrets, [digest(header)], digest) ? 'verified' : 'invalid';
}

function checkSignature(header: string, secrets: readonly string[], body: Buffer): SchemeOutcome {
  const received = decodeBase64(header, 32);
  if (!received) return 'malformed';
  return matchesAny(secrets, [received], (key) => hmac('sha256', key, body)) ? 'verified' : 'invalid';
}

function present(value: string | undefined): value is string {
  return value !== undefined && value.trim() !== '';
}

export const flutterwave: GatewayAdapter = {
  name: 'flutterwave',
  displayName: 'Flutterwave',
  eventTable: EVENT_TABLE,
  acceptedResponse: JSON_ACCEPTED,

  verify(request, secret, settings): Verification {
    const enabled = settings.flutterwaveSchemes;
    const signature = request.headers[SIGNATURE_HEADER];
    const signatureOutcome =
      enabled.includes('flutterwave-signature') && present(signature)
        ? checkSignature(signature, secret.secrets, request.body)
        : undefined;
    if (signatureOutcome === 'verified') return verified;
    const verifHash = request.headers[VERIF_HASH_HEADER];
    const verifHashOutcome =
      enabled.includes('verif-hash') && present(verifHash)
        ? checkVerifHash(verifHash, secret.secrets)
        : undefined;
    if (signatureOutcome === 'invalid') {
      // The HMAC algorithm is UNCONFIRMED: a correct verif-hash beside a failing HMAC is still a delivery from
      // Flutterwave if our guess is wrong, so it is taken as an unverified claim (confirmed with the gateway before
      // anything counts), never refused, unless the deployment accepts the HMAC scheme alone.
      if (verifHashOutcome === 'verified') return { ok: true, bodyUnverified: true };
      return refused(
        'invalid_signature',
        `${SIGNATURE_HEADER}: no match for this body under any of the ${secret.secrets.length} configured secret(s)`,
      );
    }

    if (verifHashOutcome !== undefined && verifHash !== undefined) {
      return verifHashOutcome === 'verified'
        ? { ok: true, bodyUnverified: true }
        : refused(
            'invalid_signature',
            `${VERIF_HASH_HEADER} matches none of the ${secret.secrets.length} configured secret hash(es)`,
          );
    }
    if (signatureOutcome === 'malformed') {
      return refused('malformed_signature', `${SIGNATURE_HEADER} is not a base64 HMAC-SHA256 digest`);
    }

    const disabled = (['verif-hash', 'flutterwave-signature'] as const).filter(
      (scheme) => !enabled.includes(scheme) && present(request.headers[HEADER_OF[scheme]]),
    );
    if (disabled.length > 0) {
      return refused(
        'missing_signature',
        `only ${disabled.map((scheme) => HEADER_OF[scheme]).join(' and ')} present, and that scheme is disabled ` +
          `in settings (accepted: ${enabled.join(', ')})`,
      );
    }
    return refused(
      'missing_signature',
      `no ${enabled.map((scheme) => HEADER_OF[scheme]).join(' or ')} header`,
    );
  },

  normalise(request, settings) {
    const body = parseJsonObject(request.body);
    const eventType = textAt(body, ['event']) ?? textAt(body, ['type']);
    const data = at(body, ['data']);
    if (eventType === undefined || !isObject(data)) {
      throw new UnparseablePayloadError(
        'Flutterwave payload has no "event" (or "type") name or no "data" object',
      );
    }
    const status = textAt(data, ['status']);
    const classification = classify(EVENT_TABLE, `${eventType}/${status?.toLowerCase() ?? ''}`, eventType);
    const id = textAt(data, ['id']);
    const amount = textAt(data, ['amount']);
    const currency = textAt(data, ['currency']);
    const money =
      amount !== undefined && currency !== undefined
        ? moneyFromMajor(amount, currency, settings.currencyExponents)
        : undefined;
    // The body's digest only when there is no data.id: hashing the body for nothing showed in the profile.
    let eventId: string;
    if (id === undefined) eventId = bodyDigestId(request.body);
    else eventId = status === undefined ? `${eventType}:${id}` : `${eventType}:${id}:${status}`;
    return {
      events: [
        buildEvent('flutterwave', request, settings, {
          eventId,
          eventType,
          classification,
          reference: firstTextAt(data, [['tx_ref'], ['reference']]),
          // A transfer's id is not a payment's: only charges name the payment.
          gatewayPaymentId: eventType.startsWith('charge.') ? id : undefined,
          money,
          // The transaction: the same id the verify API answers with, so a webhook and the reconciler agree.
          factId: eventType.startsWith('charge.') ? id : undefined,
          // Flutterwave's payload does not say whether the secret key that made the charge was a test key.
          mode: 'unknown',
          occurredAt: isoTime(at(data, ['created_at'])),
          payload: bodyText(request.body),
        }),
      ],
      unparseable: [],
    };
  },
};
