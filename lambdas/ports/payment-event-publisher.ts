import type { PaymentEvent } from '../domain/payment-event.js';

/** Where payment events go: an EventBridge bus on AWS, a file the developer can read locally. */
export interface PaymentEventPublisher {
  /** Resolves once the event is accepted by the destination; throws otherwise (the caller retries the record). */
  publish(event: PaymentEvent): Promise<void>;
}
