import type { Priority } from '../../lambdas/definitions.js';

/** Any queue whose failures go to a dead-letter queue the on-call commands read: the URLs of both. */
export interface QueueUrls {
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
}

/** The queues the on-call commands work on: the local stack's, or a deployed stack's (from its outputs). */
export interface QueuePair extends QueueUrls {
  readonly priority: Priority;
}

/** A destination's delivery queue and its dead-letter queue (`payhook deliveries`). */
export interface DestinationQueues extends QueueUrls {
  readonly destination: string;
}

/** Which dead-lettered messages a command applies to; every field narrows, absent fields match all. */
export interface DeadLetterFilter {
  /** @default all three */
  readonly queues?: readonly Priority[];
  readonly gateway?: string;
  /** The gateway's event type, e.g. `charge.success` (for deliveries, the payment event's `payment.succeeded`). */
  readonly eventType?: string;
  /** The error class (`payload_mismatch`, ..., or `exhausted_without_report` for messages SQS moved itself). */
  readonly errorClass?: string;
  /** Only messages that first failed at or after this time. */
  readonly since?: Date;
}

/** What every dead letter is read as, whichever queue it comes from: what the filters, the order and the lists use. */
export interface Letter {
  readonly messageId: string;
  readonly gateway?: string;
  readonly eventType?: string;
  readonly eventId?: string;
  readonly reference?: string;
  /** `exhausted_without_report` when SQS itself moved the message (a crash or timeout), so no reason was recorded. */
  readonly errorClass: string;
  readonly errorMessage?: string;
  readonly receiveCount: number;
  /** When it first failed (the consumer's record), else when it was first received. */
  readonly firstFailedAt: string;
  readonly ageSeconds: number;
}

/** One dead-lettered message, as `payhook dlq list` shows it. */
export interface DeadLetter extends Letter {
  readonly queue: Priority;
}

/**
 * One dead-lettered delivery, as `payhook deliveries list` shows it: `eventType` is the payment event's detail-type
 * (`payment.succeeded`), `eventId` its id (the `webhook-id` the destination saw), `receiveCount` the attempts made.
 */
export interface DeliveryLetter extends Letter {
  readonly destination: string;
  /** The HTTP status of the last answer, when there was one. */
  readonly status?: number;
  /** The answer's first bytes (at most 256, printable ASCII), masked. */
  readonly answerStart?: string;
}
