import type { WebhookEvent } from '../domain/webhook-event.js';

/**
 * Whether the previous release completed an event within its dedupe window (its idempotency records, kept in a table
 * of their own until issue #20 moved them onto the history items). On AWS: `previous-idempotency-records.ts`.
 */
export interface PreviousCompletions {
  /** Throws Powertools' `IdempotencyValidationError` for a completed event whose money differs (a permanent error). */
  completed(event: Pick<WebhookEvent, 'gateway' | 'eventId' | 'money'>): Promise<boolean>;
}
