import {
  type Announcement,
  decide,
  type Payment,
  paymentKeyOf,
  type RecentEvent,
} from '../domain/payment.js';
import { moneyFields, type PaymentEvent, paymentEventId } from '../domain/payment-event.js';
import type { WebhookEvent } from '../domain/webhook-event.js';
import type { PaymentEventPublisher } from '../ports/payment-event-publisher.js';
import {
  type HistoryEntry,
  type PaymentStore,
  StaleWriteError,
  type StatusChange,
} from '../ports/payment-store.js';
import type { PreviousCompletions } from '../ports/previous-completions.js';
import type { UnmatchedEvent, UnmatchedEventRecorder } from '../ports/unmatched-events.js';
import { storedPayment } from './stored-payment.js';

export interface ApplyDependencies {
  readonly store: PaymentStore;
  /** Where events that name no payment are kept (history retention), for `payhook unmatched list`. */
  readonly unmatched: UnmatchedEventRecorder;
  readonly publisher: PaymentEventPublisher;
  readonly now: () => Date;
  /** Keep raw payloads (customer data) in the history. */
  readonly keepPayload: boolean;
  /**
   * The events the previous release completed (its idempotency records, in a table of their own): a duplicate of one
   * is recognised among the recent events like a retry after a crash, but has nothing left to publish.
   * @default none: every recognised event is taken for a retry, and re-publishes with the same ids
   */
  readonly previousCompletions?: PreviousCompletions;
}

/**
 * What applying one event did; stored by the idempotency layer and returned for a duplicate. `unmatched`: the event
 * names no payment and was kept as an unmatched event (results stored by the previous release may say `no_payment`
 * for a history-only one; a duplicate is counted as `duplicate` whatever its stored outcome).
 */
export interface ApplyResult {
  readonly outcome: 'applied' | 'unchanged' | 'unmatched';
  readonly paymentKey?: string;
  /** The status before and after, when the event changed the record. */
  readonly transition?: StatusChange;
  /** The payment events published for it: their ids and detail-types. */
  readonly announced?: readonly { readonly id: string; readonly detailType: string }[];
  readonly note?: string;
  /**
   * The event's history entry, for the payment's audit trail: written with the event's idempotency record when it
   * completes (`dynamodb-event-records.ts`), one write for both (issue #20). Not stored in the record's result.
   */
  readonly history?: HistoryEntry;
}

/** Racing writers on one payment retry this often before the record is failed (and retried later by SQS). */
const MAX_WRITE_ATTEMPTS = 5;

/**
 * The payment event announcing one fact, with the record's status and totals as they were once the event that told
 * us was applied (kept with the event, so a re-publish after a crash is identical).
 */
export function announcementEvent(
  payment: Pick<Payment, 'gateway' | 'paymentKey' | 'reference' | 'gatewayPaymentId'>,
  applied: RecentEvent,
  announcement: Announcement,
  source: { readonly eventId: string; readonly occurredAt: string },
): PaymentEvent {
  const currency = announcement.money ?? applied.paid;
  // As kept with the event when it was applied (older entries kept none: the record's own).
  const reference = applied.reference ?? payment.reference;
  const gatewayPaymentId = applied.gatewayPaymentId ?? payment.gatewayPaymentId;
  return {
    version: 1,
    id: paymentEventId(payment.gateway, payment.paymentKey, announcement.fact),
    gateway: payment.gateway,
    ...(reference !== undefined && { reference }),
    ...(gatewayPaymentId !== undefined && { gatewayPaymentId }),
    from: applied.from,
    to: announcement.to,
    ...moneyFields(announcement.money),
    ...(announcement.money === undefined &&
      currency && { currency: currency.currency, exponent: currency.exponent }),
    status: applied.to,
    ...(applied.paid && { paid: applied.paid.amountMinor.toString() }),
    ...(applied.refundedMinor !== undefined && { refunded: applied.refundedMinor.toString() }),
    fact: announcement.fact,
    occurredAt: applied.occurredAt ?? source.occurredAt,
    sourceEventId: source.eventId,
  };
}

/** Publishes what one event announced, in order; a failure throws, and the retry publishes the same ids again. */
export async function publishAnnouncements(
  publisher: PaymentEventPublisher,
  payment: Payment,
  eventId: string,
  occurredAt: string,
): Promise<{ id: string; detailType: string }[]> {
  const applied = payment.recentEvents.find((item) => item.eventId === eventId);
  const published: { id: string; detailType: string }[] = [];
  if (!applied) return published;
  for (const announcement of applied.announced) {
    const detail = announcementEvent(payment, applied, announcement, { eventId, occurredAt });
    await publisher.publish(detail);
    published.push({ id: detail.id, detailType: `payment.${detail.to}` });
  }
  return published;
}

/** What a stored record of one event holds (a history item, an unmatched item): the payload only where kept. */
function eventRecord(event: WebhookEvent, keepPayload: boolean): UnmatchedEvent {
  return {
    gateway: event.gateway,
    eventId: event.eventId,
    eventType: event.eventType,
    kind: event.kind,
    receivedAt: event.receivedAt,
    ...(event.occurredAt !== undefined && { occurredAt: event.occurredAt }),
    requestId: event.requestId,
    ...(event.money && { money: event.money }),
    ...(keepPayload && { payload: event.payload }),
  };
}

/**
 * Keeps an event that names no payment (no reference, no gateway payment id) as an unmatched event, whatever its kind:
 * it can move no payment, and it is not a failure either, so it is neither applied nor dead-lettered. Rewriting the
 * same item on a retry is harmless.
 */
async function keepUnmatched(event: WebhookEvent, deps: ApplyDependencies): Promise<ApplyResult> {
  await deps.unmatched.record(eventRecord(event, deps.keepPayload));
  return { outcome: 'unmatched', note: `${event.eventType} names no payment (no reference, no payment id)` };
}

/**
 * Applies one gateway event to its payment, without multi-item transactions (the local emulator has none). The
 * writes are ordered so that each is idempotent on its own and a retry after a crash anywhere converges:
 *
 * 1. the payment, with a conditional write on its version (a lost race re-reads and decides again); the payment
 *    remembers its recent events and what each announced, so a retry recognises its own and skips to step 2;
 * 2. the payment events, with ids derived from the payment and the fact (a re-publish carries the same ids, so
 *    downstream dedupes them);
 * 3. the history entry, returned with the result: the consumer's idempotency layer writes it with the event's record
 *    when the event completes (keyed by event id, so rewriting it after a retry is harmless). Until then, and for an
 *    event that keeps failing, the payment's recent events still show it.
 *
 * Folding an event whose facts are already recorded changes nothing, so a duplicate past the dedupe window is inert.
 * An event that names no payment writes only its unmatched item (see {@link keepUnmatched}).
 */
export async function applyEvent(event: WebhookEvent, deps: ApplyDependencies): Promise<ApplyResult> {
  const paymentKey = paymentKeyOf(event);
  // Checked before decide(), which refuses a status-affecting event without a key as impossible.
  if (paymentKey === undefined) return keepUnmatched(event, deps);

  let transition: StatusChange | undefined;
  let payment: Payment | undefined;
  let note: string | undefined;
  let announce = true;
  for (let attempt = 1; ; attempt += 1) {
    const current = await storedPayment(deps.store, event);
    const applied = current?.recentEvents.find((recent) => recent.eventId === event.eventId);
    if (applied) {
      // Applied before a crash or a lost acknowledgement: finish the remaining steps with what it announced then.
      transition = { from: applied.from, to: applied.to };
      payment = current;
      // Unless the previous release completed it: a duplicate, whose announcements went out then.
      announce = !(await deps.previousCompletions?.completed(event));
      break;
    }
    const decision = decide(current, event, deps.now());
    if (!decision.next) {
      note = decision.note;
      payment = current;
      break;
    }
    try {
      await deps.store.save(decision.next);
      transition = decision.transition;
      payment = decision.next;
      break;
    } catch (error) {
      if (!(error instanceof StaleWriteError) || attempt >= MAX_WRITE_ATTEMPTS) throw error;
    }
  }

  const announced = transition
    ? (payment?.recentEvents.find((recent) => recent.eventId === event.eventId)?.announced ?? [])
    : [];
  // A record the previous release wrote keeps the key it was written under.
  const storedKey = payment?.paymentKey ?? paymentKey;
  // A duplicate of an event the previous release completed leaves that release's history item as it is: this
  // delivery's request id and arrival are not the event's.
  const history: HistoryEntry | undefined = announce
    ? {
        ...eventRecord(event, deps.keepPayload),
        paymentKey: storedKey,
        ...(transition && { transition }),
        ...(announced.length > 0 && { announced: announced.map((item) => item.fact) }),
        ...(note !== undefined && { note }),
      }
    : undefined;
  const published =
    transition && payment && announce
      ? await publishAnnouncements(
          deps.publisher,
          payment,
          event.eventId,
          event.occurredAt ?? event.receivedAt,
        )
      : [];
  return {
    outcome: transition ? 'applied' : 'unchanged',
    paymentKey: storedKey,
    ...(transition && { transition }),
    ...(published.length > 0 && { announced: published }),
    ...(note !== undefined && { note }),
    ...(history && { history }),
  };
}
