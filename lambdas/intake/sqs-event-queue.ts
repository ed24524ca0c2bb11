import { type MessageAttributeValue, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { MESSAGE_ATTRIBUTES, type Priority } from '../definitions.js';
import { type WebhookEvent, webhookEventToJson } from '../domain/webhook-event.js';
import type { EventQueue, UnparseableWebhook } from './event-queue.js';

export interface EventQueueUrls {
  /** The queue of each priority. */
  readonly queues: Readonly<Record<Priority, string>>;
  /** The low-priority dead-letter queue, where unparseable webhooks are parked (ingest only). */
  readonly parking?: string;
}

/** SQS caps a message attribute's value at the message size; payhook keeps error text short and readable. */
const MAX_ATTRIBUTE_TEXT = 256;

function attributes(values: Readonly<Record<string, string>>): Record<string, MessageAttributeValue> {
  return Object.fromEntries(
    Object.entries(values).map(([name, value]) => [
      name,
      { DataType: 'String', StringValue: value.slice(0, MAX_ATTRIBUTE_TEXT) || '-' },
    ]),
  );
}

/** Accepted webhooks onto SQS: one message per event, on the queue of its priority, with routing attributes. */
export class SqsEventQueue implements EventQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly urls: EventQueueUrls,
  ) {}

  async enqueue(events: readonly WebhookEvent[]): Promise<void> {
    await Promise.all(events.map((event) => this.send(event)));
  }

  async park(webhook: UnparseableWebhook): Promise<void> {
    if (!this.urls.parking)
      throw new Error('this queue writer has no parking queue (only ingest parks webhooks)');
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.urls.parking,
        MessageBody: JSON.stringify(webhook),
        MessageAttributes: attributes({
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

  private async send(event: WebhookEvent): Promise<void> {
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.urls.queues[event.priority],
        MessageBody: JSON.stringify(webhookEventToJson(event)),
        MessageAttributes: attributes({
          [MESSAGE_ATTRIBUTES.messageType]: 'webhook-event',
          [MESSAGE_ATTRIBUTES.gateway]: event.gateway,
          [MESSAGE_ATTRIBUTES.eventType]: event.eventType,
          [MESSAGE_ATTRIBUTES.eventId]: event.eventId,
          [MESSAGE_ATTRIBUTES.kind]: event.kind,
          [MESSAGE_ATTRIBUTES.priority]: event.priority,
          [MESSAGE_ATTRIBUTES.requestId]: event.requestId,
        }),
      }),
    );
  }
}
