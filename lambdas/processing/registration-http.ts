import { formatMajor } from '../domain/money.js';
import { expectationMismatch } from '../domain/payment.js';
import {
  InvalidRegistrationError,
  parseRegistration,
  RegistrationConflictError,
} from '../domain/registration.js';
import type { PaymentEventPublisher } from '../ports/payment-event-publisher.js';
import type { PaymentStore } from '../ports/payment-store.js';
import { registerPayment } from './register.js';

export interface HttpAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/**
 * `POST /payments`: the merchant's checkout registers a payment it expects. 201 for a new payment, 200 when it was
 * already known (the expectation is recorded on it, or was the same already), 409 naming the field that differs from
 * what the payment holds (nothing is changed), 400 naming the field at fault.
 */
export async function handleRegistration(
  bodyText: string,
  store: PaymentStore,
  publisher: PaymentEventPublisher,
  now: Date,
): Promise<HttpAnswer> {
  let body: unknown;
  try {
    body = JSON.parse(bodyText);
  } catch {
    return {
      status: 400,
      body: { error: 'invalid_registration', field: 'body', message: 'the body must be JSON' },
    };
  }
  try {
    const registration = parseRegistration(body);
    const { payment, created } = await registerPayment(store, publisher, registration, now);
    return {
      status: created ? 201 : 200,
      body: {
        gateway: payment.gateway,
        reference: payment.reference ?? null,
        gatewayPaymentId: payment.gatewayPaymentId ?? null,
        status: payment.status,
        expected: payment.expected
          ? { amount: formatMajor(payment.expected), currency: payment.expected.currency }
          : null,
        expectationMismatch: expectationMismatch(payment),
        created,
      },
    };
  } catch (error) {
    if (error instanceof InvalidRegistrationError) {
      return {
        status: 400,
        body: { error: 'invalid_registration', field: error.field, message: error.message },
      };
    }
    if (error instanceof RegistrationConflictError) {
      return {
        status: 409,
        body: { error: 'registration_conflict', field: error.field, message: error.message },
      };
    }
    throw error;
  }
}
