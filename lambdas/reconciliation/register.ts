import type { Payment } from '../domain/payment.js';
import { applyRegistration, type Registration } from '../domain/registration.js';
import { type PaymentStore, StaleWriteError } from '../processing/ports.js';

export interface RegisterResult {
  readonly payment: Payment;
  /** `true` for a new payment; `false` when the payment existed (the expectation is then recorded on it). */
  readonly created: boolean;
}

/** Registers an expected payment; a lost race re-reads and applies again, so two checkouts cannot both win. */
export async function registerPayment(
  store: PaymentStore,
  registration: Registration,
  now: Date,
): Promise<RegisterResult> {
  for (let attempt = 1; ; attempt += 1) {
    const current =
      (await store.find(registration.gateway, registration.gatewayPaymentId ?? registration.reference)) ??
      (await store.find(registration.gateway, registration.reference));
    const { next, created } = applyRegistration(current, registration, now);
    if (!next) return { payment: current as Payment, created };
    try {
      await store.save(next);
      return { payment: next, created };
    } catch (error) {
      if (!(error instanceof StaleWriteError) || attempt >= 5) throw error;
    }
  }
}
