import type { PaymentEventPublisher } from '../ports/payment-event-publisher.js';
import type { PaymentStore } from '../ports/payment-store.js';
import { DynamoPaymentStore } from '../store/dynamodb-payment-store.js';
import { documentsOf } from './documents.js';
import type { ExecutionEnvironment } from './execution-environment.js';
import { publisherOf } from './publisher.js';

export interface RegistrationDependencies {
  readonly store: PaymentStore;
  /** A registration that meets money which differs from it announces the mismatch, as the consumers would. */
  readonly publisher: PaymentEventPublisher;
}

/** What the registration function needs, from its container: the payments table with the consumers' retention. */
export function registrationDependencies(container: ExecutionEnvironment): RegistrationDependencies {
  return {
    store: new DynamoPaymentStore(documentsOf(container.clients('registration')), container.paymentsTable()),
    publisher: publisherOf(container, 'registration'),
  };
}
