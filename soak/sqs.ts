import { type Message, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';

/**
 * Every message on a queue, read straight from the emulator for a check: each one hidden for 5 minutes once read, so
 * the loop ends when the queue has nothing visible left.
 */
export async function receiveEveryMessage(sqs: SQSClient, queueUrl: string): Promise<Message[]> {
  const found: Message[] = [];
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        VisibilityTimeout: 300,
        MessageAttributeNames: ['All'],
      }),
    );
    if (Messages.length === 0) return found;
    found.push(...Messages);
  }
}
