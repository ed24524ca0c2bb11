import { randomUUID } from 'node:crypto';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { type DestinationSettings, wants } from '../lambdas/delivery/destinations.js';
import {
  PAYMENT_EVENT_SOURCE,
  type PaymentEvent,
  paymentEventDetailType,
} from '../lambdas/domain/payment-event.js';
import type { PaymentEventPublisher } from '../lambdas/ports/payment-event-publisher.js';

/**
 * The local stand-in for the stack's delivery rules: on AWS each destination has an EventBridge rule on the bus
 * (its filter is `wants`) whose target is the destination's queue, and EventBridge writes the whole event, envelope
 * and all, as the message body. Locally the bus is a file, so this publisher wraps the file publisher and, once the
 * event is in the file, sends the same envelope to the queue of every destination that wants it. The delivery
 * function reading those queues cannot tell the difference.
 */

/** One destination as the fan-out sees it: what it wants and where its queue is. */
export interface FanOutTarget {
  readonly name: string;
  readonly settings: DestinationSettings;
  readonly queueUrl: string;
}

/** The account EventBridge would name in the envelope; the local emulators' own. */
const LOCAL_ACCOUNT = '000000000000';

/** What EventBridge writes to a rule's SQS target for a payhook event, as `payment-event-body.ts` reads it. */
export interface EventBridgeEnvelope {
  readonly version: '0';
  readonly id: string;
  readonly 'detail-type': string;
  readonly source: typeof PAYMENT_EVENT_SOURCE;
  readonly account: string;
  readonly time: string;
  readonly region: string;
  readonly resources: readonly string[];
  readonly detail: PaymentEvent;
}

/**
 * The envelope of one publish. EventBridge gives every PutEvents entry a new id and stamps `time` in whole seconds
 * (`2026-11-30T10:00:00Z`), so a re-publish of the same payment event is a new envelope around the same `detail.id`.
 */
export function eventBridgeEnvelope(
  event: PaymentEvent,
  options: { readonly now: Date; readonly region: string; readonly id?: string },
): EventBridgeEnvelope {
  return {
    version: '0',
    id: options.id ?? randomUUID(),
    'detail-type': paymentEventDetailType(event),
    source: PAYMENT_EVENT_SOURCE,
    account: LOCAL_ACCOUNT,
    time: options.now.toISOString().replace(/\.\d+Z$/, 'Z'),
    region: options.region,
    resources: [],
    detail: event,
  };
}

/** The destinations whose filter matches the event, as their rules would on the bus. */
export function destinationsWanting(targets: readonly FanOutTarget[], event: PaymentEvent): FanOutTarget[] {
  const filter = { detailType: paymentEventDetailType(event), gateway: event.gateway };
  return targets.filter((target) => wants(target.settings, filter));
}

export class DeliveryFanOut implements PaymentEventPublisher {
  constructor(
    private readonly inner: PaymentEventPublisher,
    private readonly sqs: SQSClient,
    private readonly targets: readonly FanOutTarget[],
    private readonly options: { readonly region: string; readonly now?: () => Date },
  ) {}

  /**
   * The event goes to the file first, then to each wanting destination's queue. A queue that cannot be written fails
   * the publish, so the consumer's record is retried and the event published again (at least once, as EventBridge
   * retries a target): a destination that already had it gets it twice, with the same `detail.id`, which is the
   * `webhook-id` receivers dedupe on.
   */
  async publish(event: PaymentEvent): Promise<void> {
    await this.inner.publish(event);
    const wanting = destinationsWanting(this.targets, event);
    if (wanting.length === 0) return;
    // One envelope for all of them: EventBridge hands every rule the same event.
    const body = JSON.stringify(
      eventBridgeEnvelope(event, { now: this.options.now?.() ?? new Date(), region: this.options.region }),
    );
    await Promise.all(
      wanting.map((target) =>
        this.sqs.send(new SendMessageCommand({ QueueUrl: target.queueUrl, MessageBody: body })),
      ),
    );
  }
}
