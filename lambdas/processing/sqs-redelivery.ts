/**
 * The SQS side of the failure policy: carries out a `failureAction` decision on one record. A retry changes the
 * record's visibility; a requeue and a dead-letter send a copy of its body (to its own queue, to the DLQ).
 */
import {
  ChangeMessageVisibilityCommand,
  type MessageAttributeValue,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import type { StructuredLog } from '../common/log.js';
import { MESSAGE_ATTRIBUTES } from '../definitions.js';
import { sqsSafeJson, stringAttribute } from '../messages/sqs-text.js';
import type { FailureAction } from './failure-policy.js';

export type RetryAction = Extract<FailureAction, { action: 'retry' }>;
export type RequeueAction = Extract<FailureAction, { action: 'requeue' }>;
export type DeadLetterAction = Extract<FailureAction, { action: 'dead-letter' }>;

export interface SqsRedeliveryOptions {
  readonly sqs: SQSClient;
  /** The queue the record came from: its visibility is changed there, and requeued copies go back to it. */
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
  readonly log: StructuredLog;
}

/** The record's string attributes as they came: what a redrive restores. */
function originalAttributes(record: SQSRecord): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, attribute] of Object.entries(record.messageAttributes ?? {})) {
    if (attribute.stringValue !== undefined) result[name] = attribute.stringValue;
  }
  return result;
}

/**
 * The attributes of a dead letter: its class, reason, when it began failing and its receive count; the original
 * attributes, whole, for a redrive; and the ones the on-call CLI filters on, at the top level too.
 */
export function deadLetterAttributes(
  record: SQSRecord,
  letter: DeadLetterAction,
  receiveCount: number,
  now: Date = new Date(),
): Record<string, MessageAttributeValue> {
  const original = originalAttributes(record);
  const firstReceived = Number(record.attributes.ApproximateFirstReceiveTimestamp);
  const firstFailedAt =
    letter.failingSince === 'this-receive' || !Number.isFinite(firstReceived) ? now : new Date(firstReceived);
  const attributes: Record<string, MessageAttributeValue> = {
    [MESSAGE_ATTRIBUTES.errorClass]: stringAttribute(letter.errorClass),
    [MESSAGE_ATTRIBUTES.errorMessage]: stringAttribute(letter.reason),
    [MESSAGE_ATTRIBUTES.firstFailedAt]: stringAttribute(firstFailedAt.toISOString()),
    [MESSAGE_ATTRIBUTES.receiveCount]: { DataType: 'Number', StringValue: String(receiveCount) },
    // Not shortened like the human-readable attributes: a redrive restores the original attributes from it.
    [MESSAGE_ATTRIBUTES.originalAttributes]: { DataType: 'String', StringValue: sqsSafeJson(original) },
  };
  // Kept at the top level too, so the on-call CLI can filter without unpacking.
  for (const name of [
    MESSAGE_ATTRIBUTES.messageType,
    MESSAGE_ATTRIBUTES.gateway,
    MESSAGE_ATTRIBUTES.eventType,
    MESSAGE_ATTRIBUTES.eventId,
  ]) {
    const value = original[name];
    if (value !== undefined) attributes[name] = stringAttribute(value);
  }
  return attributes;
}

/** The attributes of a requeued copy: the record's own, with the requeue count it now carries. */
export function requeueAttributes(
  record: SQSRecord,
  requeues: number,
): Record<string, MessageAttributeValue> {
  const attributes: Record<string, MessageAttributeValue> = {};
  for (const [name, attribute] of Object.entries(record.messageAttributes ?? {})) {
    if (attribute.stringValue === undefined || name === MESSAGE_ATTRIBUTES.inProgressRequeues) continue;
    attributes[name] = { DataType: attribute.dataType || 'String', StringValue: attribute.stringValue };
  }
  attributes[MESSAGE_ATTRIBUTES.inProgressRequeues] = { DataType: 'Number', StringValue: String(requeues) };
  return attributes;
}

/** Carries out the failure policy's decisions on SQS: one adapter for the retry, requeue and dead-letter paths. */
export class SqsRedelivery {
  constructor(private readonly options: SqsRedeliveryOptions) {}

  /**
   * Hides the record for the back-off, so SQS hands it back then rather than at once. A failure here is only logged:
   * the queue's own visibility timeout still brings the message back; a failed back-off only makes it sooner.
   */
  async retry(record: SQSRecord, retry: RetryAction): Promise<void> {
    try {
      await this.options.sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: this.options.queueUrl,
          ReceiptHandle: record.receiptHandle,
          VisibilityTimeout: retry.afterSeconds,
        }),
      );
    } catch (error) {
      this.options.log.warn('could not delay the retry', {
        messageId: record.messageId,
        error: (error as Error).name,
      });
    }
  }

  /**
   * Sends the record back to its own queue, delayed (at most SQS's 15 minutes), with its attributes and a requeue
   * count: the copy starts with fresh receives, and the original is then deleted as handled.
   */
  async requeue(record: SQSRecord, requeue: RequeueAction): Promise<void> {
    await this.options.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.options.queueUrl,
        MessageBody: record.body,
        DelaySeconds: Math.min(900, Math.max(0, requeue.afterSeconds)),
        MessageAttributes: requeueAttributes(record, requeue.requeues),
      }),
    );
  }

  /**
   * Sends the record to the dead-letter queue with its reason, so no DLQ message lacks one. If the send fails, it
   * throws: the record fails too, and SQS's own redrive remains the safety net.
   */
  async deadLetter(record: SQSRecord, letter: DeadLetterAction, receiveCount: number): Promise<void> {
    await this.options.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.options.deadLetterQueueUrl,
        MessageBody: record.body,
        MessageAttributes: deadLetterAttributes(record, letter, receiveCount),
      }),
    );
  }
}
