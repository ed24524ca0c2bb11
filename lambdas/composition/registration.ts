import type { PaymentEventPublisher } from '../ports/payment-event-publisher.js';
import type { PaymentStore } from '../ports/payment-store.js';
import { DynamoPaymentStore } from '../store/dynamodb-payment-store.js';
import type { Container } from './container.js';

export interface RegistrationDependencies {
  readonly store: PaymentStore;
  /** A registration that meets money which differs from it announces the mismatch, as the consumers would. */
  readonly publisher: PaymentEventPublisher;
}

/** What the registration function needs, from its container: the payments table with the consumers' retention. */
export function registrationDependencies(container: Container): RegistrationDependencies {
  return {
    store: new DynamoPaymentStore(container.clients('registration').documents(), container.paymentsTable()),
    publisher: container.publisher('registration'),
  };
}
