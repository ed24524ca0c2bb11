import type { GatewayName } from '../domain/webhook-event.js';
import type { EventRecord } from './payment-store.js';

/**
 * A validly signed event that names no payment (no merchant reference, no gateway payment id): a Paystack
 * `invoice.payment_failed` without a transaction, an array-shaped `subscription.expiring_cards`, a payout. It moves no
 * payment, so it is neither applied nor dead-lettered; it is kept (for as long as payment histories are) so that
 * `payhook unmatched list` can show what came in that payhook could not tie to anything.
 */
export type UnmatchedEvent = EventRecord;

/** An unmatched event as listed: everything but the payload, which a listing never reads. */
export type UnmatchedEventSummary = Omit<UnmatchedEvent, 'payload'>;

/** What the consumer needs: keep one unmatched event (rewriting the same one is harmless). */
export interface UnmatchedEventRecorder {
  record(event: UnmatchedEvent): Promise<void>;
}

export interface UnmatchedEventQuery {
  /** One gateway; every gateway when absent. */
  readonly gateway?: GatewayName;
  /** Events received at or after this moment. */
  readonly since: Date;
  /** Most events returned per gateway, newest first. @default 1000 */
  readonly limitPerGateway?: number;
}

export interface UnmatchedEventPage {
  /** Newest first (by time received), across gateways. */
  readonly items: UnmatchedEventSummary[];
  /** Gateways with more matching events than the limit (their oldest were left out). */
  readonly truncated: GatewayName[];
}

/** Unmatched events, kept and listed. On AWS: their own partitions of the payments table. */
export interface UnmatchedEventStore extends UnmatchedEventRecorder {
  list(query: UnmatchedEventQuery): Promise<UnmatchedEventPage>;
}
