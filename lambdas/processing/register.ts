import type { Payment } from '../domain/payment.js';
import { applyRegistration, REGISTRATION_EVENT_PREFIX, type Registration } from '../domain/registration.js';
import type { PaymentEventPublisher } from '../ports/payment-event-publisher.js';
import { type PaymentStore, StaleWriteError } from '../ports/payment-store.js';
import { publishAnnouncements } from './apply-event.js';
import { storedPayment } from './stored-payment.js';

export interface RegisterResult {
  readonly payment: Payment;
  /** `true` for a new payment; `false` when the payment existed (the expectation is then recorded on it). */
  readonly created: boolean;
}

/**
 * Registers an expected payment; a lost race re-reads and applies again, so two checkouts cannot both win. When the
 * money already arrived and differs, the mismatch is announced. If that publish fails the answer is a 500, and the
 * checkout's retry of the same registration publishes it again with the same id (the payment remembers it).
 */
export async function registerPayment(
  store: PaymentStore,
  publisher: PaymentEventPublisher,
  registration: Registration,
  now: Date,
): Promise<RegisterResult> {
  for (let attempt = 1; ; attempt += 1) {
    // Only the payment this registration names by its key: a lookup by "whichever identifier" would let B's
    // gatewayPaymentId equal to A's reference find A (and a conflict, or worse, a change, land on A).
    const current = await storedPayment(store, registration);
    const { next, created } = applyRegistration(current, registration, now);
    const settled = next ?? (current as Payment);
    if (next) {
      try {
        await store.save(next);
      } catch (error) {
        if (!(error instanceof StaleWriteError) || attempt >= 5) throw error;
        continue;
      }
    }
    // The registration just written, or (registered again, nothing new) the latest one: a retry after a failed
    // publish publishes the same again, with the same ids.
    const latest = settled.recentEvents.findLast((event) =>
      event.eventId.startsWith(REGISTRATION_EVENT_PREFIX),
    );
    if (latest) await publishAnnouncements(publisher, settled, latest.eventId, now.toISOString());
    return { payment: settled, created };
  }
}
