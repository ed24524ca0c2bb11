import { ChangeMessageVisibilityCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { RATE_RESERVED_ATTRIBUTE, reservationAttribute } from './admission.js';
import type { DeliveryDecision } from './delivery-policy.js';

/** A dead-lettered delivery: why, and what the destination answered (its first bytes, made printable). */
export type DeadLetterDecision =
  | Extract<DeliveryDecision, { action: 'dead-letter' }>
  | InvalidMessageDecision;

interface InvalidMessageDecision {
  readonly action: 'dead-letter';
  readonly errorClass: 'invalid_message' | 'signing_failed';
  readonly reason: string;
  readonly status?: undefined;
  readonly answerStart?: undefined;
}

function firstAttemptAt(record: SQSRecord, fallback: Date): Date {
  const first = Number(record.attributes.ApproximateFirstReceiveTimestamp);
  return Number.isFinite(first) && first > 0 ? new Date(first) : fallback;
}

/** The attribute a held copy carries: the event's age, in ms, when its destination held it. */
export const HELD_AGE_ATTRIBUTE = 'deliveryAgeMs';

/** The SQS side of a delivery: a retry's back-off (visibility) and a dead letter with its reason. */
export class SqsDeliveryQueue {
  constructor(private readonly client: SQSClient) {}

  /** Hides the record until the back-off is over; a failure only makes the retry sooner (the queue's timeout). */
  async retryAfter(queueUrl: string, record: SQSRecord, seconds: number): Promise<boolean> {
    try {
      await this.client.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: queueUrl,
          ReceiptHandle: record.receiptHandle,
          VisibilityTimeout: Math.max(0, Math.min(43_200, Math.round(seconds))),
        }),
      );
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Sends a copy of the record back to its own queue, delayed (at most SQS's 15 minutes), carrying its age, and the
   * rate token reserved for it when the delay is over, if any; `false` when the send failed (the caller then keeps
   * the record itself).
   */
  async holdCopy(
    queueUrl: string,
    record: SQSRecord,
    delaySeconds: number,
    ageMs: number,
    reservation?: { readonly dueAtMs: number; readonly ratePerSecond: number },
  ): Promise<boolean> {
    try {
      await this.client.send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: record.body,
          DelaySeconds: Math.max(0, Math.min(900, Math.round(delaySeconds))),
          MessageAttributes: {
            [HELD_AGE_ATTRIBUTE]: { DataType: 'Number', StringValue: String(Math.round(ageMs)) },
            ...(reservation && {
              [RATE_RESERVED_ATTRIBUTE]: {
                DataType: 'String',
                StringValue: reservationAttribute(reservation.dueAtMs, reservation.ratePerSecond),
              },
            }),
          },
        }),
      );
      return true;
    } catch {
      return false;
    }
  }

  /** Sends the record's body, unchanged, to the dead-letter queue with its reason; throws if that fails. */
  async deadLetter(
    deadLetterQueueUrl: string,
    destination: string,
    record: SQSRecord,
    decision: DeadLetterDecision,
    at: Date,
  ): Promise<void> {
    const attributes: Record<string, string> = {
      destination,
      errorClass: decision.errorClass,
      errorMessage: decision.reason.slice(0, 1000),
      // The first attempt (its first receive): when the event began failing, as the consumers' dead letters say.
      firstFailedAt: firstAttemptAt(record, at).toISOString(),
      receiveCount: record.attributes.ApproximateReceiveCount,
      ...(decision.status !== undefined && { status: String(decision.status) }),
      ...(decision.answerStart !== undefined &&
        decision.answerStart !== '' && { answerStart: decision.answerStart }),
    };
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: deadLetterQueueUrl,
        MessageBody: record.body,
        MessageAttributes: Object.fromEntries(
          Object.entries(attributes).map(([name, value]) => [
            name,
            { DataType: 'String', StringValue: value },
          ]),
        ),
      }),
    );
  }
}
