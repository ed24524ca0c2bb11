import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { stringAttributes } from '../messages/sqs-text.js';
import type { OriginalQueue } from '../ports/deliveries.js';

/** Original webhooks onto an `original` destination's queue (the consumer's side of the delivery). */
export class SqsOriginalQueue implements OriginalQueue {
  constructor(private readonly client: SQSClient) {}

  async send(
    queueUrl: string,
    messageBody: string,
    attributes: Readonly<Record<string, string>>,
  ): Promise<void> {
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: messageBody,
        MessageAttributes: stringAttributes(attributes),
      }),
    );
  }
}
