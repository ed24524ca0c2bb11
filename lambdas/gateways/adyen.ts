import { isLosslessNumber, stringify } from 'lossless-json';
import { InvalidAmountError, moneyFromMinor } from '../domain/money.js';
import type { WebhookEvent } from '../domain/webhook-event.js';
import { hasNoBackslash, writeJson, writeJsonWithFirst } from './exact-json.js';
import { buildEvent, classify, modeFromLive, row } from './normalise.js';
import {
  at,
  booleanAt,
  isObject,
  isoTime,
  type JsonObject,
  parseJsonObjectForVerify,
  takeJsonObject,
  textAt,
} from './payload.js';
import type { GatewaySettings } from './settings.js';
import { decodeBase64, hmac, matchesAny, refused, verified } from './signatures.js';
import {
  type AcceptedResponse,
  type Classification,
  type GatewayAdapter,
  type UnparseableItem,
  UnparseablePayloadError,
  type Verification,
  type WebhookRequest,
} from './types.js';

/**
 * Adyen (Standard webhooks): no signature header. Every item of `notificationItems` carries its own
 * `NotificationRequestItem.additionalData.hmacSignature`, the base64 HMAC-SHA256 of
 * `pspReference:originalReference:merchantAccountCode:merchantReference:amount.value:amount.currency:eventCode:success`
 * (absent fields as empty strings, each value exactly as written in the JSON), keyed with the hex-decoded HMAC key.
 * No timestamp, no replay window. A request is accepted only when every item verifies: Adyen resends the whole
 * batch, so nothing of a refused batch is queued.
 *
 * Event id (Adyen sends none, and one pspReference collects several event codes): `<eventCode>:<pspReference>:<success>`.
 *
 * Capture mode: with automatic capture (the default) a successful AUTHORISATION is the money-arrived event and
 * CAPTURE is informational; with `adyenCaptureMode: 'manual'` AUTHORISATION only authorises and CAPTURE is the
 * money-arrived event. `eventTable` shows the automatic rows; the manual ones are {@link MANUAL_CAPTURE_ROWS}.
 *
 * Each event's payload is `{"live":...,"NotificationRequestItem":{...}}`: the item as it appears in
 * `notificationItems`, with the batch's `live` flag added so the item still says which mode it came from. It is
 * re-serialised with lossless-json, so every value (number texts included) is kept exactly, but whitespace and string
 * escapes may differ from the bytes Adyen sent.
 */
const EVENT_TABLE = {
  'AUTHORISATION/true': row('payment.succeeded'),
  'AUTHORISATION/false': row('payment.failed'),
  // Informational under automatic capture: the money was counted at authorisation.
  'CAPTURE/true': row('other'),
  // UNCONFIRMED: a refused capture leaves the authorisation standing, but the money did not arrive; flag it.
  'CAPTURE/false': row('payment.failed'),
  CAPTURE_FAILED: row('payment.failed'),
  // A refused cancellation leaves the payment alive, so only a successful one ends it.
  'CANCELLATION/true': row('payment.expired'),
  AUTHORISATION_ADJUSTMENT: row('other'),
  'REFUND/true': row('refund.succeeded'),
  'REFUND/false': row('refund.failed'),
  REFUND_FAILED: row('refund.failed'),
  REFUNDED_REVERSED: row('refund.failed'),
  // Ambiguous: Adyen cancels the payment if it is not yet captured and refunds it otherwise; the item does not say
  // which happened, so it is treated as a refund (the outcome for the customer is the same: they are not charged).
  'CANCEL_OR_REFUND/true': row('refund.succeeded'),
  'CANCEL_OR_REFUND/false': row('refund.failed'),
  NOTIFICATION_OF_CHARGEBACK: row('dispute.opened'),
  REQUEST_FOR_INFORMATION: row('dispute.opened'),
  CHARGEBACK: row('dispute.lost'),
  SECOND_CHARGEBACK: row('dispute.lost'),
  PREARBITRATION_LOST: row('dispute.lost'),
  CHARGEBACK_REVERSED: row('dispute.won'),
  PREARBITRATION_WON: row('dispute.won'),
};

const MANUAL_CAPTURE_ROWS = {
  'AUTHORISATION/true': row('payment.authorized'),
  'CAPTURE/true': row('payment.succeeded'),
};

const MANUAL_CAPTURE_TABLE = { ...EVENT_TABLE, ...MANUAL_CAPTURE_ROWS };

/** Adyen's notification endpoint contract: this exact text acknowledges the batch. */
const ADYEN_ACCEPTED: AcceptedResponse = { contentType: 'text/plain', body: '[accepted]' };

const SIGNED_FIELDS: readonly (readonly string[])[] = [
  ['pspReference'],
  ['originalReference'],
  ['merchantAccountCode'],
  ['merchantReference'],
  ['amount', 'value'],
  ['amount', 'currency'],
  ['eventCode'],
  ['success'],
];

/** A signed field exactly as written: a string as-is, a number's source text, a boolean's JSON text; else empty. */
function signedText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (isLosslessNumber(value)) return value.value;
  if (typeof value === 'boolean') return String(value);
  return '';
}

function signedData(item: JsonObject): string {
  return SIGNED_FIELDS.map((path) => signedText(at(item, path))).join(':');
}

/** The items of a notification, or `undefined` when the body has none to verify or normalise. */
function notificationItems(body: JsonObject): readonly unknown[] | undefined {
  const items = body.notificationItems;
  return Array.isArray(items) && items.length > 0 ? items : undefined;
}

function tryParse(request: WebhookRequest): JsonObject | undefined {
  try {
    return parseJsonObjectForVerify(request.body);
  } catch {
    return undefined;
  }
}

/**
 * Hex-decoded HMAC keys by configured secret. A secret that is not hex is left out: it can never match (rather than
 * silently becoming a truncated or empty key that anyone could sign with), and the refusal says how many there were.
 */
function decodeKeys(secrets: readonly string[]): ReadonlyMap<string, Buffer> {
  const keys = new Map<string, Buffer>();
  for (const secret of secrets) {
    const key = hexKey(secret);
    if (key !== undefined) keys.set(secret, key);
  }
  return keys;
}

/**
 * Decoded keys by configured secret, so each is checked and decoded once rather than on every request (the same few
 * secrets serve every request). Bounded, in case the store ever hands out many.
 */
const decodedKeys = new Map<string, Buffer | undefined>();
const MAX_DECODED_KEYS = 64;

function hexKey(secret: string): Buffer | undefined {
  if (decodedKeys.has(secret)) return decodedKeys.get(secret);
  const trimmed = secret.trim();
  const key =
    trimmed.length > 0 && trimmed.length % 2 === 0 && /^[0-9a-fA-F]+$/.test(trimmed)
      ? Buffer.from(trimmed, 'hex')
      : undefined;
  if (decodedKeys.size >= MAX_DECODED_KEYS) decodedKeys.clear();
  decodedKeys.set(secret, key);
  return key;
}

const NEVER_MATCHES = Buffer.alloc(0);

function verifyItem(
  item: unknown,
  where: string,
  secrets: readonly string[],
  keys: ReadonlyMap<string, Buffer>,
): Verification {
  const requestItem = at(item, ['NotificationRequestItem']);
  const signature = at(requestItem, ['additionalData', 'hmacSignature']);
  if (!isObject(requestItem) || typeof signature !== 'string' || signature.trim() === '') {
    return refused(
      'missing_signature',
      `${where} has no NotificationRequestItem.additionalData.hmacSignature`,
    );
  }
  const received = decodeBase64(signature, 32);
  if (!received) {
    return refused('malformed_signature', `${where}: hmacSignature is not a base64 SHA-256 digest`);
  }
  const data = signedData(requestItem);
  const ok = matchesAny(secrets, [received], (secret) => {
    const key = keys.get(secret);
    return key === undefined ? NEVER_MATCHES : hmac('sha256', key, data);
  });
  if (ok) return verified;
  const unusable = secrets.length - keys.size;
  const note = unusable > 0 ? ` (${unusable} of them not a hex HMAC key)` : '';
  return refused(
    'invalid_signature',
    `${where}: hmacSignature does not match under any of the ${secrets.length} configured HMAC key(s)${note}`,
  );
}

/** The item's payload text: the item with the batch's `live` flag, numbers kept exactly as sent. */
/**
 * Most distinct notification items one batch queues. Adyen's own deliveries carry a handful at most (its documented
 * maximum is UNCONFIRMED); a request carrying more is likely a replay or an attack, and its items past this many are
 * parked as one `batch_too_large` message rather than put on the queue.
 */
export const ADYEN_MAX_BATCH_ITEMS = 100;

function itemText(body: JsonObject, item: unknown, plainStrings: boolean): string {
  const live = body.live;
  // The fast writers give lossless-json's text for the item with `live` spread in, without building that object;
  // lossless-json writes whatever they decline.
  const fast =
    isObject(item) && live !== undefined
      ? writeJsonWithFirst('live', live, item, plainStrings)
      : writeJson(item, plainStrings);
  if (fast !== undefined) return fast;
  const value = isObject(item) ? { ...(live !== undefined && { live }), ...item } : item;
  return stringify(value) ?? 'null';
}

/**
 * The item texts of a batch seen so far. Most batches carry one item, told apart by plain comparison without hashing
 * its text; past a few, a Set, so a batch of thousands stays linear.
 */
class DistinctTexts {
  private readonly few: string[] = [];
  private many: Set<string> | undefined;

  get size(): number {
    return this.many?.size ?? this.few.length;
  }

  /** Adds the text; `false` when it was seen already. */
  add(text: string): boolean {
    if (this.many !== undefined) {
      if (this.many.has(text)) return false;
      this.many.add(text);
      return true;
    }
    if (this.few.includes(text)) return false;
    this.few.push(text);
    if (this.few.length > FEW_ITEMS) this.many = new Set(this.few);
    return true;
  }
}

const FEW_ITEMS = 8;

function classificationTable(settings: GatewaySettings): Readonly<Record<string, Classification>> {
  return settings.adyenCaptureMode === 'manual' ? MANUAL_CAPTURE_TABLE : EVENT_TABLE;
}

/** The second round of a dispute: a chargeback of its own after the first was reversed. */
const SECOND_STAGE_DISPUTE_CODES: ReadonlySet<string> = new Set([
  'SECOND_CHARGEBACK',
  'PREARBITRATION_WON',
  'PREARBITRATION_LOST',
]);

/**
 * The id of what the item is about: the item's own pspReference for money in (the payment under automatic capture, a
 * capture under manual), a refund and its failure (UNCONFIRMED that REFUND_FAILED repeats the refund's); the payment's for an authorisation, a failure or a cancellation; for a dispute the payment's
 * (one chargeback chain per payment), with `:second` for the second round.
 */
function factIdOf(
  kind: string,
  eventCode: string,
  pspReference: string,
  originalReference: string | undefined,
): string {
  if (kind.startsWith('dispute.')) {
    const payment = originalReference ?? pspReference;
    return SECOND_STAGE_DISPUTE_CODES.has(eventCode) ? `${payment}:second` : payment;
  }
  if (kind === 'payment.failed' || kind === 'payment.expired') return originalReference ?? pspReference;
  return pspReference;
}

function itemEvent(
  request: WebhookRequest,
  settings: GatewaySettings,
  body: JsonObject,
  item: unknown,
  payload: string,
): WebhookEvent {
  const fields = at(item, ['NotificationRequestItem']);
  if (!isObject(fields)) throw new UnparseablePayloadError('no NotificationRequestItem object');
  const eventCode = textAt(fields, ['eventCode']);
  const pspReference = textAt(fields, ['pspReference']);
  if (eventCode === undefined || pspReference === undefined) {
    throw new UnparseablePayloadError('NotificationRequestItem has no eventCode or no pspReference');
  }
  const success = signedText(at(fields, ['success']));
  const value = textAt(fields, ['amount', 'value']);
  const classification = classify(classificationTable(settings), `${eventCode}/${success}`, eventCode);
  const originalReference = textAt(fields, ['originalReference']);
  // A modification (CAPTURE, REFUND, ...) has its own pspReference and names the payment's in originalReference.
  return buildEvent('adyen', request, settings, {
    eventId: `${eventCode}:${pspReference}:${success}`,
    eventType: eventCode,
    classification,
    reference: textAt(fields, ['merchantReference']),
    gatewayPaymentId: originalReference ?? pspReference,
    factId: factIdOf(classification.kind, eventCode, pspReference, originalReference),
    money:
      value !== undefined
        ? moneyFromMinor(value, at(fields, ['amount', 'currency']), settings.currencyExponents)
        : undefined,
    mode: modeFromLive(booleanAt(body, ['live'])),
    occurredAt: isoTime(at(fields, ['eventDate'])),
    payload,
  });
}

export const adyen: GatewayAdapter = {
  name: 'adyen',
  displayName: 'Adyen',
  eventTable: EVENT_TABLE,
  acceptedResponse: ADYEN_ACCEPTED,

  verify(request, secret) {
    const body = tryParse(request);
    const items = body === undefined ? undefined : notificationItems(body);
    if (items === undefined) {
      return refused(
        'missing_signature',
        'Adyen signs each notification item; the body is not a JSON notification with a non-empty notificationItems list',
      );
    }
    const keys = decodeKeys(secret.secrets);
    for (const [index, item] of items.entries()) {
      const result = verifyItem(item, `notificationItems[${index}]`, secret.secrets, keys);
      if (!result.ok) return result;
    }
    return verified;
  },

  normalise(request, settings) {
    const body = takeJsonObject(request.body);
    const items = notificationItems(body);
    if (items === undefined) throw new UnparseablePayloadError('Adyen payload has no notificationItems');
    const events: WebhookEvent[] = [];
    const unparseable: UnparseableItem[] = [];
    const distinct = new DistinctTexts();
    // Every string of a body without a backslash is written as it is (see writeJson).
    const plainStrings = hasNoBackslash(request.body);
    const overflow: unknown[] = [];
    for (const [index, item] of items.entries()) {
      let payload: string | undefined;
      try {
        payload = itemText(body, item, plainStrings);
        // The same item twice in one batch is one event: queued once (a replayed item cannot fill the queue).
        if (!distinct.add(payload)) continue;
        if (distinct.size > ADYEN_MAX_BATCH_ITEMS) {
          overflow.push(item);
          continue;
        }
        events.push(itemEvent(request, settings, body, item, payload));
      } catch (error) {
        // One bad item must not cost the batch's good ones, whatever went wrong with it (a verified item can still
        // nest deeper than the serialiser can write): it is parked with its own text, or the whole body if even
        // that cannot be written.
        const known = error instanceof UnparseablePayloadError || error instanceof InvalidAmountError;
        const reason = known
          ? (error as Error).message
          : `unexpected ${(error as Error).name}: ${(error as Error).message}`;
        unparseable.push({
          reason: `notificationItems[${index}]: ${reason}`,
          payload: payload ?? request.body,
        });
      }
    }
    if (overflow.length > 0) {
      // Verified like the rest, so kept, but not queued: one parked message a human can look at and re-run.
      const rest = stringify({
        ...(body.live !== undefined && { live: body.live }),
        notificationItems: overflow,
      });
      unparseable.push({
        reason: `${overflow.length} distinct notification items past the first ${ADYEN_MAX_BATCH_ITEMS}`,
        errorClass: 'batch_too_large',
        payload: rest ?? request.body,
      });
    }
    return { events, unparseable };
  },
};
