import { createHash } from 'node:crypto';

/**
 * Event ids payhook makes up itself (the reconciler's answers, confirmations of unverified claims) live under this
 * prefix, a namespace no webhook can produce: `buildEvent` (lambdas/gateways/normalise.ts) never lets an adapter's
 * event id start with it. A webhook therefore cannot take a synthetic event's dedupe key ahead of it, so it cannot
 * make the consumer skip the reconciler's answer as a duplicate or dead-letter it as a `payload_mismatch`.
 */
export const SYNTHETIC_EVENT_ID_PREFIX = 'payhook:';

/** Whether an event id is in the synthetic namespace. */
export function isSyntheticEventId(eventId: string): boolean {
  return eventId.startsWith(SYNTHETIC_EVENT_ID_PREFIX);
}

/** Parts longer than this (a long payment key) are replaced by a digest, so an id always fits a DynamoDB key. */
const LONGEST_PART_BYTES = 100;

function shortPart(part: string): string {
  if (Buffer.byteLength(part, 'utf8') <= LONGEST_PART_BYTES) return part;
  return `sha256:${createHash('sha256').update(part, 'utf8').digest('hex')}`;
}

/**
 * A synthetic event id: `payhook:<source>:<part>:<part>...`, e.g. `payhook:reconciler:order_1:payment.succeeded`; a
 * part over 100 bytes is `sha256:<hex digest>` instead (the same part always gives the same id).
 */
export function syntheticEventId(source: string, ...parts: readonly string[]): string {
  return [`${SYNTHETIC_EVENT_ID_PREFIX}${source}`, ...parts.map(shortPart)].join(':');
}

/** The source of an unverified claim's id (`payhook:claim:sha256:<digest of its body>`, see `intake/claims.ts`). */
export const CLAIM_SOURCE = 'claim';

/** Whether an event id is an unverified claim's. */
export function isClaimEventId(eventId: string): boolean {
  return eventId.startsWith(`${SYNTHETIC_EVENT_ID_PREFIX}${CLAIM_SOURCE}:`);
}
