import { type AppliedEvent, affectsStatus, decide, type Payment, paymentKeyOf } from '../domain/payment.js';
import {
  moneyFields,
  type PaymentEvent,
  type PaymentEventPublisher,
  paymentEventId,
} from '../domain/payment-event.js';
import type { WebhookEvent } from '../domain/webhook-event.js';
import { type PaymentStore, StaleWriteError } from './ports.js';

export interface ApplyDependencies {
  readonly store: PaymentStore;
  readonly publisher: PaymentEventPublisher;
  readonly now: () => Date;
  /** Keep raw payloads (customer data) in the history. */
  readonly keepPayload: boolean;
}

/** What applying one event did; stored by the idempotency layer and returned for a duplicate. */
export interface ApplyResult {
  readonly outcome: 'applied' | 'unchanged' | 'no_payment';
  readonly paymentKey?: string;
  readonly transition?: AppliedEvent;
  readonly note?: string;
  /** Unchanged because the event arrived after a later status (kept in the history only). */
  readonly outOfOrder?: boolean;
}

/** Racing writers on one payment retry this often before the record is failed (and retried later by SQS). */
const MAX_WRITE_ATTEMPTS = 5;

function announcement(
  event: WebhookEvent,
  transition: AppliedEvent,
  payment: Payment | undefined,
): PaymentEvent {
  const reference = payment?.reference ?? event.reference;
  const gatewayPaymentId = payment?.gatewayPaymentId ?? event.gatewayPaymentId;
  return {
    version: 1,
    id: paymentEventId(event.gateway, event.eventId, transition.to),
    gateway: event.gateway,
    ...(reference !== undefined && { reference }),
    ...(gatewayPaymentId !== undefined && { gatewayPaymentId }),
    from: transition.from,
    to: transition.to,
    ...moneyFields(event.money),
    occurredAt: event.occurredAt ?? event.receivedAt,
    sourceEventId: event.eventId,
  };
}

/**
 * Applies one gateway event to its payment, without multi-item transactions (the local emulator has none). The
 * writes are ordered so that each is idempotent on its own and a retry after a crash anywhere converges:
 *
 * 1. the payment, with a conditional write on its version (a lost race re-reads and decides again); the payment
 *    remembers its recent transitions, so a retry recognises its own and skips to step 2;
 * 2. the history item, keyed by event id (rewriting it is harmless);
 * 3. the payment event, with an id derived from the gateway, the event id and the target status (a re-publish
 *    carries the same id, so downstream dedupes it).
 */
export async function applyEvent(event: WebhookEvent, deps: ApplyDependencies): Promise<ApplyResult> {
  const paymentKey = paymentKeyOf(event);
  if (paymentKey === undefined && !affectsStatus(event.kind)) {
    return { outcome: 'no_payment', note: `${event.eventType} concerns no payment` };
  }

  let transition: AppliedEvent | undefined;
  let payment: Payment | undefined;
  let note: string | undefined;
  let outOfOrder = false;
  for (let attempt = 1; ; attempt += 1) {
    const current = paymentKey === undefined ? undefined : await deps.store.get(event.gateway, paymentKey);
    const applied = current?.recentEvents.find((recent) => recent.eventId === event.eventId);
    if (applied) {
      // Applied before a crash or a lost acknowledgement: finish the remaining steps with the same transition.
      transition = applied;
      payment = current;
      break;
    }
    const decision = decide(current, event, deps.now());
    if (!decision.next) {
      note = decision.note;
      outOfOrder = decision.outOfOrder === true;
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

  // decide() has thrown for a status-changing event without a payment key, so the key exists from here on.
  const key = paymentKey ?? '';
  await deps.store.recordHistory({
    gateway: event.gateway,
    paymentKey: key,
    eventId: event.eventId,
    eventType: event.eventType,
    kind: event.kind,
    receivedAt: event.receivedAt,
    ...(event.occurredAt !== undefined && { occurredAt: event.occurredAt }),
    requestId: event.requestId,
    ...(event.money && { money: event.money }),
    ...(transition && { transition }),
    ...(note !== undefined && { note }),
    ...(deps.keepPayload && { payload: event.payload }),
  });
  if (transition) await deps.publisher.publish(announcement(event, transition, payment));
  return {
    outcome: transition ? 'applied' : 'unchanged',
    paymentKey: key,
    ...(transition && { transition }),
    ...(note !== undefined && { note }),
    ...(outOfOrder && { outOfOrder }),
  };
}
