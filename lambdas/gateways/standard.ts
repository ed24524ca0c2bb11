import { type Money, moneyFromMajor, moneyFromMinor } from '../domain/money.js';
import type { EventKind } from '../domain/webhook-event.js';
import { bodyDigestId, buildEvent, modeFromLive, row } from './normalise.js';
import { at, bodyText, booleanAt, dottedPath, isoTime, parseJsonObject, textAt } from './payload.js';
import { DEFAULT_STANDARD_MAPPING, type StandardWebhooksMapping } from './settings.js';
import {
  checkTimestamp,
  decodeBase64,
  hmacOfParts,
  matchesAny,
  noSecretMatched,
  refused,
  verified,
} from './signatures.js';
import {
  type Classification,
  type GatewayAdapter,
  JSON_ACCEPTED,
  UnparseablePayloadError,
  type WebhookRequest,
} from './types.js';

/**
 * Standard Webhooks (standardwebhooks.com, and Svix, which sends the same values as `svix-*` headers):
 * `webhook-signature` is a space-separated list of `v1,<base64 HMAC-SHA256>` entries over
 * `${webhook-id}.${webhook-timestamp}.${raw body}`, keyed with the base64-decoded secret (`whsec_` prefix stripped).
 * Several entries let the sender rotate keys; entries of other versions (`v1a`, ed25519) are skipped. The timestamp
 * (Unix seconds) must be within `toleranceSeconds` of the receive time in either direction, as the reference library
 * requires.
 *
 * Event id: `webhook-id`, which the spec keeps identical across retries of one message.
 *
 * The spec defines no payload schema, so every field is read through `settings.standardMapping` (dotted paths).
 */
const HEADER_SETS = [
  { id: 'webhook-id', timestamp: 'webhook-timestamp', signature: 'webhook-signature' },
  { id: 'svix-id', timestamp: 'svix-timestamp', signature: 'svix-signature' },
] as const;

type HeaderSet = (typeof HEADER_SETS)[number];

/**
 * The `webhook-*` set when the request has any of them, else Svix's `svix-*` set when it has any of those, else
 * `webhook-*` (so a refusal names the standard headers); never a mix of the two.
 */
function headerSet(request: WebhookRequest): HeaderSet {
  const [standardSet, svixSet] = HEADER_SETS;
  return hasAnyOf(request, standardSet) || !hasAnyOf(request, svixSet) ? standardSet : svixSet;
}

function hasAnyOf(request: WebhookRequest, set: HeaderSet): boolean {
  const { headers } = request;
  return (
    headers[set.id] !== undefined ||
    headers[set.timestamp] !== undefined ||
    headers[set.signature] !== undefined
  );
}

function header(request: WebhookRequest, name: string): string | undefined {
  const value = request.headers[name];
  return value === undefined || value.trim() === '' ? undefined : value;
}

const SECRET_PREFIX = 'whsec_';

function encodedKey(secret: string): string {
  return secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
}

/**
 * Whether a configured secret is `whsec_<base64>` or plain base64. Node's decoder skips characters it does not know,
 * so a mistyped secret would otherwise turn silently into some other key.
 */
function isSigningSecret(secret: string): boolean {
  return /^[A-Za-z0-9+/]+={0,2}$/.test(encodedKey(secret)) && signingKey(secret).length >= MIN_KEY_BYTES;
}

/**
 * The spec asks for 24-64 random bytes; anything under 16 is refused as a key, because a secret such as `whsec_A`
 * decodes to zero bytes, an HMAC key anyone can sign with.
 */
const MIN_KEY_BYTES = 16;

/** The HMAC key a secret stands for: its base64 decoded, as the reference library does (not the text itself). */
function signingKey(secret: string): Buffer {
  return Buffer.from(encodedKey(secret), 'base64');
}

/**
 * Decoded keys by configured secret, so a secret is checked and decoded once rather than on every request (the
 * same few secrets serve every request; a rotation adds one). `undefined`: not a usable signing secret.
 */
const decodedKeys = new Map<string, Buffer | undefined>();
const MAX_DECODED_KEYS = 64;

function usableKey(secret: string): Buffer | undefined {
  if (decodedKeys.has(secret)) return decodedKeys.get(secret);
  const key = isSigningSecret(secret) ? signingKey(secret) : undefined;
  // Bounded: secrets come from configuration, but a store that changes often must not grow this without end.
  if (decodedKeys.size >= MAX_DECODED_KEYS) decodedKeys.clear();
  decodedKeys.set(secret, key);
  return key;
}

function classificationsOf(kinds: Readonly<Record<string, EventKind>>): Record<string, Classification> {
  return Object.fromEntries(Object.entries(kinds).map(([type, kind]) => [type, row(kind)]));
}

/**
 * The table for the default mapping, for documentation and listings. At run time types are classified through the
 * configured `standardMapping.kinds`, which a deployment may replace entirely.
 */
const EVENT_TABLE = classificationsOf(DEFAULT_STANDARD_MAPPING.kinds);

function kindOf(mapping: StandardWebhooksMapping, type: string): EventKind {
  // Own keys only: a type named `constructor` must not find Object.prototype's.
  return Object.hasOwn(mapping.kinds, type) ? (mapping.kinds[type] ?? 'other') : 'other';
}

function moneyOf(
  body: unknown,
  mapping: StandardWebhooksMapping,
  overrides: Readonly<Record<string, number>>,
): Money | undefined {
  const amount = textAt(body, dottedPath(mapping.amount));
  const currency = textAt(body, dottedPath(mapping.currency));
  // An amount without a currency (or the reverse) is a payload that carries no money, e.g. a contact event.
  if (amount === undefined || currency === undefined) return undefined;
  return mapping.amountUnit === 'major'
    ? moneyFromMajor(amount, currency, overrides)
    : moneyFromMinor(amount, currency, overrides);
}

export const standard: GatewayAdapter = {
  name: 'standard',
  displayName: 'Standard Webhooks',
  eventTable: EVENT_TABLE,
  acceptedResponse: JSON_ACCEPTED,

  verify(request, secret, settings) {
    const names = headerSet(request);
    const id = header(request, names.id);
    const timestamp = header(request, names.timestamp);
    const signature = header(request, names.signature);
    const missing = [
      id === undefined && names.id,
      timestamp === undefined && names.timestamp,
      signature === undefined && names.signature,
    ].filter((name) => name !== false);
    if (id === undefined || timestamp === undefined || signature === undefined) {
      return refused('missing_signature', `missing ${missing.join(', ')} header(s)`);
    }
    // Checked first, so a replayed request is named for what it is even when its signature is genuine.
    const fresh = checkTimestamp(timestamp, request.receivedAt, settings.toleranceSeconds);
    if (!fresh.ok) return fresh;
    const entries = signature.split(/\s+/).filter((entry) => entry.startsWith('v1,'));
    if (entries.length === 0) return refused('malformed_signature', `${names.signature} has no v1 entry`);
    const candidates = entries
      .map((entry) => decodeBase64(entry.slice('v1,'.length), 32))
      .filter((decoded) => decoded !== undefined);
    if (candidates.length === 0) {
      return refused('malformed_signature', `no v1 entry of ${names.signature} is a base64 SHA-256 digest`);
    }
    const keys = secret.secrets.flatMap((configured) => usableKey(configured) ?? []);
    if (keys.length === 0) {
      return refused(
        'invalid_signature',
        'no configured secret is a whsec_<base64> key of at least 16 bytes; check the standard secret',
      );
    }
    const prefix = `${id}.${timestamp}.`;
    const ok = matchesAny(keys, candidates, (key) => hmacOfParts('sha256', key, prefix, request.body));
    return ok ? verified : noSecretMatched(secret.secrets.length);
  },

  normalise(request, settings) {
    const mapping = settings.standardMapping;
    const body = parseJsonObject(request.body);
    const eventType = textAt(body, dottedPath(mapping.type));
    if (eventType === undefined) {
      throw new UnparseablePayloadError(`Standard Webhooks payload has no event type at "${mapping.type}"`);
    }
    const id = header(request, headerSet(request).id);
    const kind = kindOf(mapping, eventType);
    const gatewayPaymentId = textAt(body, dottedPath(mapping.gatewayPaymentId));
    // The refund or dispute the event is about; for payment events, the payment itself.
    const factId = kind.startsWith('refund.')
      ? textAt(body, dottedPath(mapping.refundId))
      : kind.startsWith('dispute.')
        ? textAt(body, dottedPath(mapping.disputeId))
        : gatewayPaymentId;
    return {
      events: [
        buildEvent('standard', request, settings, {
          eventId: id ?? bodyDigestId(request.body),
          eventType,
          classification: row(kind),
          reference: textAt(body, dottedPath(mapping.reference)),
          gatewayPaymentId,
          factId,
          money: moneyOf(body, mapping, settings.currencyExponents),
          mode:
            mapping.live === undefined ? 'unknown' : modeFromLive(booleanAt(body, dottedPath(mapping.live))),
          occurredAt: isoTime(at(body, dottedPath(mapping.occurredAt))),
          payload: bodyText(request.body),
        }),
      ],
      unparseable: [],
    };
  },
};
