import { createHmac, timingSafeEqual } from 'node:crypto';
import type { SignatureFailureReason, Verification, WebhookRequest } from './types.js';

export type HmacAlgorithm = 'sha256' | 'sha512';

export function hmac(algorithm: HmacAlgorithm, key: string | Buffer, message: Buffer | string): Buffer {
  return createHmac(algorithm, key).update(message).digest();
}

/**
 * The HMAC of `prefix` then `body`, as if concatenated: fed to the HMAC in turn rather than copied into one buffer
 * first (Stripe's `t.` and Standard Webhooks' `id.timestamp.` precede the body).
 */
export function hmacOfParts(
  algorithm: HmacAlgorithm,
  key: string | Buffer,
  prefix: string,
  body: Buffer,
): Buffer {
  return createHmac(algorithm, key).update(prefix, 'utf8').update(body).digest();
}

/**
 * Constant-time equality of two byte strings. Lengths are compared first (their lengths are not secret: every
 * scheme's digest length is public), then the bytes in constant time.
 */
export function bytesEqual(expected: Buffer, received: Buffer): boolean {
  return expected.length === received.length && timingSafeEqual(expected, received);
}

/** Decodes a lowercase or uppercase hex digest; `undefined` when the text is not exactly `bytes` bytes of hex. */
export function decodeHex(text: string, bytes: number): Buffer | undefined {
  const trimmed = text.trim();
  if (trimmed.length !== bytes * 2 || !/^[0-9a-fA-F]+$/.test(trimmed)) return undefined;
  return Buffer.from(trimmed, 'hex');
}

/** Decodes standard base64 (padding optional); `undefined` when the text is not exactly `bytes` bytes of base64. */
export function decodeBase64(text: string, bytes: number): Buffer | undefined {
  const trimmed = text.trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed)) return undefined;
  const decoded = Buffer.from(trimmed, 'base64');
  return decoded.length === bytes ? decoded : undefined;
}

export const verified: Verification = { ok: true };

export function refused(reason: SignatureFailureReason, detail: string): Verification {
  return { ok: false, reason, detail };
}

/**
 * Tries every candidate signature against every secret (current first) and accepts on any match. Every pair is
 * compared, even after a match, so the time taken does not reveal which secret or which candidate matched.
 */
export function matchesAny<Secret = string>(
  secrets: readonly Secret[],
  candidates: readonly Buffer[],
  expectedFor: (secret: Secret) => Buffer,
): boolean {
  let matched = false;
  for (const secret of secrets) {
    const expected = expectedFor(secret);
    for (const candidate of candidates) {
      if (bytesEqual(expected, candidate)) matched = true;
    }
  }
  return matched;
}

/** The usual refusal when no secret matched, phrased the same way for every gateway. */
export function noSecretMatched(secretCount: number): Verification {
  return refused(
    'invalid_signature',
    `signature does not match the body under any of the ${secretCount} configured secret(s)`,
  );
}

/**
 * Checks a signed timestamp (Unix seconds) against the receive time. Both directions are bounded: Stripe's own
 * library bounds only the age, but a timestamp far in the future is as suspicious as an old one.
 */
export function checkTimestamp(
  timestampText: string | undefined,
  receivedAt: Date,
  toleranceSeconds: number,
): Verification {
  if (timestampText === undefined || !/^\d{1,12}$/.test(timestampText.trim())) {
    return refused('malformed_signature', 'signature timestamp is missing or not a number of seconds');
  }
  const skew = Math.floor(receivedAt.getTime() / 1000) - Number.parseInt(timestampText, 10);
  // Written so that NaN (an invalid receive time) or a non-positive tolerance refuses rather than lets through.
  if (!(toleranceSeconds > 0 && Math.abs(skew) <= toleranceSeconds)) {
    const direction = skew > 0 ? `${skew} s old` : `${-skew} s in the future`;
    return refused(
      'timestamp_out_of_tolerance',
      `signature timestamp is ${direction}; tolerance ${toleranceSeconds} s`,
    );
  }
  return verified;
}

const DIGEST_BYTES: Readonly<Record<HmacAlgorithm, number>> = { sha256: 32, sha512: 64 };

/**
 * The commonest scheme (Paystack, Razorpay, OXA Pay): one header holding the hex HMAC of the exact body, checked
 * against every key in turn.
 */
export function verifyBodyHmacHex(
  request: WebhookRequest,
  keys: readonly string[],
  scheme: { readonly header: string; readonly algorithm: HmacAlgorithm },
): Verification {
  const header = request.headers[scheme.header];
  if (header === undefined || header.trim() === '')
    return refused('missing_signature', `no ${scheme.header} header`);
  const bytes = DIGEST_BYTES[scheme.algorithm];
  const received = decodeHex(header, bytes);
  if (!received) {
    return refused('malformed_signature', `${scheme.header} is not a ${bytes * 2}-character hex digest`);
  }
  const ok = matchesAny(keys, [received], (key) => hmac(scheme.algorithm, key, request.body));
  return ok ? verified : noSecretMatched(keys.length);
}
