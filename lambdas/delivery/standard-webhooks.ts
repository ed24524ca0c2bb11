import { createHmac, randomBytes } from 'node:crypto';

/**
 * Signing of outbound deliveries with Standard Webhooks (standardwebhooks.com): `webhook-signature` is a
 * space-separated list of `v1,<base64 HMAC-SHA256>` entries over `${webhook-id}.${webhook-timestamp}.${body}`, each
 * keyed with the base64-decoded secret (`whsec_` prefix stripped). One entry per secret lets a merchant rotate: while
 * both the new and the old secret are configured, a receiver holding either one verifies the delivery.
 *
 * The key handling mirrors the private `signingKey`/`encodedKey` of `lambdas/gateways/standard.ts` (our verifier),
 * which `delivery/` may not import: the same prefix, the same strict base64 check, the same 16-byte floor.
 */
export interface StandardWebhookHeaders {
  readonly 'webhook-id': string;
  readonly 'webhook-timestamp': string;
  readonly 'webhook-signature': string;
}

/** A secret or message id no delivery can be signed with. The message never holds any part of a secret. */
export class SigningSecretError extends Error {
  override readonly name = 'SigningSecretError';
}

const SECRET_PREFIX = 'whsec_';

/**
 * The spec asks for 24-64 random bytes; we accept 16 like our verifier, and refuse less, because a secret such as
 * `whsec_A` decodes to zero bytes, an HMAC key anyone can sign with.
 */
const MIN_KEY_BYTES = 16;

/** Bytes of a secret made by {@link newSigningSecret}: inside the spec's 24-64, and a full SHA-256 block's worth. */
const NEW_SECRET_BYTES = 32;

/**
 * The HMAC key a secret stands for. Node's base64 decoder skips characters it does not know, so a mistyped secret
 * would silently sign with some other key and every delivery would fail verification at the merchant; it is refused
 * here instead. `position` (1-based) names the secret at fault without quoting it.
 */
function signingKey(secret: string, position: number): Buffer {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) {
    throw new SigningSecretError(`signing secret #${position} is not whsec_<base64>`);
  }
  const key = Buffer.from(encoded, 'base64');
  if (key.length < MIN_KEY_BYTES) {
    throw new SigningSecretError(
      `signing secret #${position} decodes to ${key.length} bytes; at least ${MIN_KEY_BYTES} are required`,
    );
  }
  return key;
}

/**
 * The three Standard Webhooks headers of one delivery attempt. `secrets` are signed in the order given (the current
 * secret first), one `v1,` entry each. `id` must stay the same across retries of one message (receivers dedupe on
 * it); `timestamp` is the attempt's own time, so a receiver's replay window applies per attempt.
 */
export function signStandardWebhook(input: {
  id: string;
  timestamp: Date;
  body: string;
  secrets: readonly string[];
}): StandardWebhookHeaders {
  const { id, timestamp, body, secrets } = input;
  if (secrets.length === 0) throw new SigningSecretError('no signing secret is configured');
  // The id travels as a header and is part of the signed text: no spaces, control or non-ASCII characters, which a
  // receiver's HTTP stack could trim or re-encode before it verifies.
  if (!/^[\x21-\x7e]+$/.test(id)) {
    throw new SigningSecretError('the webhook id must be non-empty visible ASCII');
  }
  const milliseconds = timestamp.getTime();
  if (!Number.isFinite(milliseconds))
    throw new SigningSecretError('the signing timestamp is not a valid date');
  const seconds = String(Math.floor(milliseconds / 1000));
  // Every key is checked before any signing, so one bad secret fails the delivery rather than dropping an entry.
  const keys = secrets.map((secret, index) => signingKey(secret, index + 1));
  const signed = `${id}.${seconds}.${body}`;
  const signature = keys
    .map((key) => `v1,${createHmac('sha256', key).update(signed, 'utf8').digest('base64')}`)
    .join(' ');
  return { 'webhook-id': id, 'webhook-timestamp': seconds, 'webhook-signature': signature };
}

/** A fresh secret for a destination: `whsec_` + base64 of 32 random bytes, the form the reference libraries take. */
export function newSigningSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(NEW_SECRET_BYTES).toString('base64')}`;
}
