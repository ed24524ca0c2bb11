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

/** A synthetic event id: `payhook:<source>:<part>:<part>...`, e.g. `payhook:reconciler:order_1:payment.succeeded`. */
export function syntheticEventId(source: string, ...parts: readonly string[]): string {
  return [`${SYNTHETIC_EVENT_ID_PREFIX}${source}`, ...parts].join(':');
}
