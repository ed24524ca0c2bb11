import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { MESSAGE_ATTRIBUTES, type Priority, QUEUES_ENV } from '../definitions.js';
import type { OriginalWebhook, WebhookEvent } from '../domain/webhook-event.js';
import { sqsSafeJson, stringAttributes } from '../messages/sqs-text.js';
import { writeWebhookEventMessage } from '../messages/webhook-event-message.js';
import type { EventQueue, UnparseableWebhook } from '../ports/event-queue.js';

export interface EventQueueUrls {
  /** The queue of each priority this writer may send to (the reconciler has no low-priority queue). */
  readonly queues: Readonly<Partial<Record<Priority, string>>>;
  /** The low-priority dead-letter queue, where unparseable webhooks are parked (ingest only). */
  readonly parking?: string;
}

/** Accepted webhooks onto SQS: one message per event, on the queue of its priority, with routing attributes. */
export class SqsEventQueue implements EventQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly urls: EventQueueUrls,
  ) {}

  async enqueue(events: readonly WebhookEvent[], original?: OriginalWebhook): Promise<void> {
    // Every event's queue first: one without a queue must not leave the others sent and the batch half done.
    const urls = events.map((event) => this.queueUrlOf(event));
    await Promise.all(
      events.map((event, index) => this.send(event, urls[index] ?? '', index === 0 ? original : undefined)),
    );
  }

  private queueUrlOf(event: WebhookEvent): string {
    const queueUrl = this.urls.queues[event.priority];
    if (queueUrl === undefined) {
      throw new Error(
        `this function has no ${event.priority}-priority queue (${QUEUES_ENV.queueUrl(event.priority)})`,
      );
    }
    return queueUrl;
  }

  async park(webhook: UnparseableWebhook): Promise<void> {
    if (!this.urls.parking)
      throw new Error('this queue writer has no parking queue (only ingest parks webhooks)');
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.urls.parking,
        MessageBody: sqsSafeJson(webhook),
        MessageAttributes: stringAttributes({
          [MESSAGE_ATTRIBUTES.messageType]: webhook.messageType,
          [MESSAGE_ATTRIBUTES.gateway]: webhook.gateway,
          [MESSAGE_ATTRIBUTES.requestId]: webhook.requestId,
          [MESSAGE_ATTRIBUTES.errorClass]: webhook.errorClass,
          [MESSAGE_ATTRIBUTES.errorMessage]: webhook.errorMessage,
          [MESSAGE_ATTRIBUTES.firstFailedAt]: webhook.receivedAt,
        }),
      }),
    );
  }

  private async send(event: WebhookEvent, queueUrl: string, original?: OriginalWebhook): Promise<void> {
    const message = writeWebhookEventMessage(event, original);
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: message.body,
        MessageAttributes: stringAttributes(message.attributes),
      }),
    );
  }
}
