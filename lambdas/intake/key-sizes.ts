import { IDENTIFIER_MAX_BYTES } from '../definitions.js';
import type { WebhookEvent } from '../domain/webhook-event.js';
import type { NormalisedBatch, UnparseableItem } from '../gateways/types.js';

/** The first identifier of the event longer than DynamoDB keys take, with its size; `undefined` when all fit. */
export function oversizeIdentifier(
  event: WebhookEvent,
): { readonly field: keyof typeof IDENTIFIER_MAX_BYTES; readonly bytes: number } | undefined {
  for (const field of Object.keys(IDENTIFIER_MAX_BYTES) as (keyof typeof IDENTIFIER_MAX_BYTES)[]) {
    const value = event[field];
    if (value === undefined) continue;
    const bytes = Buffer.byteLength(value, 'utf8');
    if (bytes > IDENTIFIER_MAX_BYTES[field]) return { field, bytes };
  }
  return undefined;
}

/**
 * Moves the events whose identifiers no DynamoDB key can hold to the parked items, as `key_too_large`: they are
 * validly signed, so kept for a human, but queued they would fail on every try (DynamoDB refuses the key for good).
 */
export function parkOversizeKeys(batch: NormalisedBatch): NormalisedBatch {
  const events: WebhookEvent[] = [];
  const parked: UnparseableItem[] = [];
  for (const event of batch.events) {
    const oversize = oversizeIdentifier(event);
    if (oversize === undefined) {
      events.push(event);
      continue;
    }
    parked.push({
      reason: `${oversize.field} is ${oversize.bytes} bytes; DynamoDB keys take at most ${IDENTIFIER_MAX_BYTES[oversize.field]}`,
      errorClass: 'key_too_large',
      payload: event.payload,
    });
  }
  return parked.length === 0 ? batch : { events, unparseable: [...batch.unparseable, ...parked] };
}
