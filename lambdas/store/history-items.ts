import { type MoneyJson, moneyFromJson, moneyToJson } from '../domain/money.js';
import type { GatewayName } from '../domain/webhook-event.js';
import type { HistoryEntry } from '../ports/payment-store.js';

/** Sort keys of a payment partition's history items (the payment item itself is `PAYMENT`). */
export const HISTORY_PREFIX = 'EVENT#';

/** The partition of a payment: its item, its history items and (since issue #20) its events' idempotency records. */
export function paymentPartitionKey(gateway: GatewayName, paymentKey: string): string {
  return `PAYMENT#${gateway}#${paymentKey}`;
}

export function historySortKey(eventId: string): string {
  return `${HISTORY_PREFIX}${eventId}`;
}

/**
 * A history item's attributes, without its keys. The item may also carry an event record's attributes (see
 * `dynamodb-event-records.ts`); an item without `eventType` is such a record whose event has no history yet.
 */
export type HistoryAttributes = Omit<HistoryEntry, 'money'> & {
  /** The event's money as exact decimal strings. */
  readonly money?: MoneyJson;
  /** When the item expires: the history retention from `receivedAt` (epoch seconds; the table's TTL attribute). */
  readonly expiresAt: number;
};

/** The history item of one event: kept `retentionDays` from when the event was received. */
export function historyAttributes(entry: HistoryEntry, retentionDays: number): HistoryAttributes {
  const { money, ...rest } = entry;
  const receivedSeconds = Math.floor(Date.parse(entry.receivedAt) / 1000);
  return {
    ...rest,
    ...(money && { money: moneyToJson(money) }),
    expiresAt: receivedSeconds + retentionDays * 86_400,
  };
}

/** Whether a stored item of a payment's `EVENT#` range holds a history entry (not only an event record). */
export function holdsHistory(item: Record<string, unknown>): boolean {
  return typeof item.eventType === 'string';
}

/** The history entry a stored history item holds. */
export function historyEntryOf(item: HistoryAttributes): HistoryEntry {
  return {
    gateway: item.gateway,
    paymentKey: item.paymentKey,
    eventId: item.eventId,
    eventType: item.eventType,
    kind: item.kind,
    receivedAt: item.receivedAt,
    ...(item.occurredAt !== undefined && { occurredAt: item.occurredAt }),
    requestId: item.requestId,
    ...(item.money && { money: moneyFromJson(item.money) }),
    ...(item.transition && { transition: item.transition }),
    ...(item.announced && { announced: item.announced }),
    ...(item.note !== undefined && { note: item.note }),
    ...(item.payload !== undefined && { payload: item.payload }),
  };
}
