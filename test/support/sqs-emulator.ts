import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { startFauxqs } from 'fauxqs';
import { createSqsClient } from '../../lambdas/composition/clients.js';
import { PRIORITIES } from '../../lambdas/definitions.js';
import { createPipelineQueues, type PipelineQueueUrls } from '../../local/queues.js';

export interface SqsEmulator {
  readonly endpoint: string;
  readonly client: SQSClient;
  stop(): Promise<void>;
}

/** fauxqs, in this process, on a free loopback port, with an SQS client pointed at it. */
export async function startSqsEmulator(): Promise<SqsEmulator> {
  const server = await startFauxqs({ port: 0, host: '127.0.0.1', logger: false });
  const endpoint = `http://127.0.0.1:${server.port}`;
  const client = createSqsClient('ingest', { AWS_ENDPOINT_URL_SQS: endpoint });
  return {
    endpoint,
    client,
    async stop() {
      client.destroy();
      await server.stop();
    },
  };
}

export type PipelineQueues = PipelineQueueUrls;
export { createPipelineQueues };

/** Receives and deletes everything currently on a queue. */
export async function drain(client: SQSClient, queueUrl: string): Promise<Message[]> {
  const all: Message[] = [];
  for (;;) {
    const { Messages = [] } = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        MessageAttributeNames: ['All'],
        // Receive counts and sent times too, so a drained message can be handed to a consumer as a Lambda record.
        MessageSystemAttributeNames: ['All'],
      }),
    );
    if (Messages.length === 0) return all;
    all.push(...Messages);
    await client.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: Messages.map((message, index) => ({
          Id: String(index),
          ReceiptHandle: message.ReceiptHandle,
        })),
      }),
    );
  }
}

/** Drains every queue of the pipeline, keyed `high`, `high-dlq`, ... */
export async function drainAll(
  client: SQSClient,
  pipeline: PipelineQueues,
): Promise<Record<string, Message[]>> {
  const result: Record<string, Message[]> = {};
  for (const priority of PRIORITIES) {
    result[priority] = await drain(client, pipeline.queues[priority]);
    result[`${priority}-dlq`] = await drain(client, pipeline.deadLetterQueues[priority]);
  }
  return result;
}

export function attribute(message: Message, name: string): string | undefined {
  return message.MessageAttributes?.[name]?.StringValue;
}
