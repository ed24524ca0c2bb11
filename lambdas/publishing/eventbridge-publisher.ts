import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { PAYMENT_EVENT_SOURCE, type PaymentEvent, paymentEventDetailType } from '../domain/payment-event.js';
import type { PaymentEventPublisher } from '../ports/payment-event-publisher.js';

/**
 * EventBridge answered PutEvents but did not accept the entry. Carries EventBridge's code and message only: the
 * event's detail can hold merchant references and never goes into an error that may be logged.
 */
export class PublishFailedError extends Error {
  override readonly name = 'PublishFailedError';

  constructor(
    readonly errorCode: string,
    readonly errorMessage: string,
  ) {
    super(`EventBridge did not accept the payment event: ${errorCode}: ${errorMessage}`);
  }
}

/** Payment events onto an EventBridge bus, one PutEvents call per event. */
export class EventBridgePublisher implements PaymentEventPublisher {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly eventBusName: string,
  ) {}

  /** Resolves once EventBridge accepted the entry; SDK errors (throttling, network) propagate unchanged. */
  async publish(event: PaymentEvent): Promise<void> {
    const output = await this.client.send(
      new PutEventsCommand({
        Entries: [
          {
            Source: PAYMENT_EVENT_SOURCE,
            DetailType: paymentEventDetailType(event),
            Detail: JSON.stringify(event),
            EventBusName: this.eventBusName,
            Resources: [],
          },
        ],
      }),
    );
    // PutEvents is a batch API: it answers 200 even when the entry was refused, and says so only in the body.
    const entry = output.Entries?.[0];
    if ((output.FailedEntryCount ?? 0) > 0 || entry?.ErrorCode !== undefined) {
      throw new PublishFailedError(entry?.ErrorCode ?? 'Unknown', entry?.ErrorMessage ?? 'no error message');
    }
  }
}
