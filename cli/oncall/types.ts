import type { Priority } from '../../lambdas/definitions.js';

/** The queues the on-call commands work on: the local stack's, or a deployed stack's (from its outputs). */
export interface QueuePair {
  readonly priority: Priority;
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
}

/** Which dead-lettered messages a command applies to; every field narrows, absent fields match all. */
export interface DeadLetterFilter {
  /** @default all three */
  readonly queues?: readonly Priority[];
  readonly gateway?: string;
  /** The gateway's event type, e.g. `charge.success`. */
  readonly eventType?: string;
  /** The error class (`payload_mismatch`, ..., or `exhausted_without_report` for messages SQS moved itself). */
  readonly errorClass?: string;
  /** Only messages that first failed at or after this time. */
  readonly since?: Date;
}

/** One dead-lettered message, as `payhook dlq list` shows it. */
export interface DeadLetter {
  readonly messageId: string;
  readonly queue: Priority;
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
