import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import {
  PRIORITIES,
  PRIORITY_QUEUES,
  type Priority,
  QUEUE_MAX_MESSAGE_BYTES,
  queueName,
} from '../lambdas/definitions.js';
import type { QueueCounts } from './contract.js';
import { queueArnOf } from './sqs-event-source.js';

export interface PipelineQueueUrls {
  readonly queues: Readonly<Record<Priority, string>>;
  readonly deadLetterQueues: Readonly<Record<Priority, string>>;
}

const FOURTEEN_DAYS = String(14 * 24 * 3600);

/**
 * The queues of `lambdas/definitions.ts`, as the CDK stack creates them: a dead-letter queue per priority kept for
 * 14 days, and the priority queue with its visibility timeout and redrive at `maxReceiveCount`. Creating an existing
 * queue with the same attributes is a no-op, so a restart reuses them.
 */
export async function createPipelineQueues(client: SQSClient, prefix?: string): Promise<PipelineQueueUrls> {
  const queues = {} as Record<Priority, string>;
  const deadLetterQueues = {} as Record<Priority, string>;
  for (const priority of PRIORITIES) {
    const definition = PRIORITY_QUEUES[priority];
    const dlq = await client.send(
      new CreateQueueCommand({
        QueueName: queueName(priority, 'deadLetter', prefix),
        Attributes: {
          MessageRetentionPeriod: FOURTEEN_DAYS,
          MaximumMessageSize: String(QUEUE_MAX_MESSAGE_BYTES),
        },
      }),
    );
    if (!dlq.QueueUrl) throw new Error(`CreateQueue returned no URL for the ${priority} dead-letter queue`);
    const main = await client.send(
      new CreateQueueCommand({
        QueueName: queueName(priority, 'main', prefix),
        Attributes: {
          VisibilityTimeout: String(definition.visibilityTimeoutSeconds),
          MaximumMessageSize: String(QUEUE_MAX_MESSAGE_BYTES),
          RedrivePolicy: JSON.stringify({
            deadLetterTargetArn: queueArnOf(dlq.QueueUrl),
            maxReceiveCount: definition.maxReceiveCount,
          }),
        },
      }),
    );
    if (!main.QueueUrl) throw new Error(`CreateQueue returned no URL for the ${priority} queue`);
    deadLetterQueues[priority] = dlq.QueueUrl;
    queues[priority] = main.QueueUrl;
  }
  return { queues, deadLetterQueues };
}

/** A queue's approximate counts, as SQS reports them. */
export async function queueCounts(client: SQSClient, queueUrl: string): Promise<QueueCounts> {
  const { Attributes = {} } = await client.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  return {
    visible: Number(Attributes.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
    delayed: Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0),
  };
}
