import { Duration, Stack } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  CONSUMER_ENV,
  PRIORITIES,
  PRIORITY_QUEUES,
  type Priority,
  QUEUE_MAX_MESSAGE_BYTES,
  queueName,
} from '../lambdas/definitions.js';
import { PayhookFunction } from './payhook-function.js';
import { SERVICES } from './payhook-metrics.js';
import type { PaymentEvents } from './payment-events.js';
import type { PaymentStore } from './payment-store.js';

export interface PriorityPipelineProps {
  readonly store: PaymentStore;
  readonly events: PaymentEvents;
  /**
   * Prefix for every queue name, so several payhook deployments can share an account and region.
   * @default - the stack name
   */
  readonly namePrefix?: string;
  /** `PAYHOOK_DEDUPE_WINDOWS` for the consumers. @default - the per-gateway defaults */
  readonly dedupeWindows?: Readonly<Record<string, number>>;
  /** Days a history item is kept. @default 400 */
  readonly historyRetentionDays?: number;
  /** Keep raw payloads (customer data) in the history. @default false */
  readonly historyKeepsPayload?: boolean;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * For each priority of `lambdas/definitions.ts` (the same definitions the local stack reads): a queue and its
 * dead-letter queue, a consumer function and the SQS event source between them. Queues are encrypted and refuse
 * plain HTTP; visibility is the definition's (at least 6x the consumer timeout); dead-letter queues keep messages for
 * SQS's 14-day maximum, so on-call has two weeks to redrive.
 */
export class PriorityPipeline extends Construct {
  public readonly queues: Readonly<Record<Priority, sqs.Queue>>;
  public readonly deadLetterQueues: Readonly<Record<Priority, sqs.Queue>>;
  public readonly consumers: Readonly<Record<Priority, PayhookFunction>>;

  constructor(scope: Construct, id: string, props: PriorityPipelineProps) {
    super(scope, id);
    const prefix = props.namePrefix ?? Stack.of(this).stackName;
    if (!/^[A-Za-z0-9_-]{1,40}$/.test(prefix)) {
      throw new Error(`PriorityPipeline namePrefix "${prefix}" must be 1-40 letters, digits, - or _`);
    }
    const queues = {} as Record<Priority, sqs.Queue>;
    const deadLetterQueues = {} as Record<Priority, sqs.Queue>;
    const consumers = {} as Record<Priority, PayhookFunction>;
    for (const priority of PRIORITIES) {
      const definition = PRIORITY_QUEUES[priority];
      const deadLetterQueue = new sqs.Queue(this, `${priority}-dlq`, {
        queueName: queueName(priority, 'deadLetter', prefix),
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
        maxMessageSizeBytes: QUEUE_MAX_MESSAGE_BYTES,
      });
      const queue = new sqs.Queue(this, priority, {
        queueName: queueName(priority, 'main', prefix),
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        visibilityTimeout: Duration.seconds(definition.visibilityTimeoutSeconds),
        // A body up to PAYHOOK_MAX_BODY_BYTES becomes a message larger than SQS's 256 KiB default.
        maxMessageSizeBytes: QUEUE_MAX_MESSAGE_BYTES,
        deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: definition.maxReceiveCount },
      });
      const consumer = new PayhookFunction(this, `${priority}-consumer`, {
        entry: 'lambdas/process.ts',
        serviceName: SERVICES.consumer(priority),
        timeout: Duration.seconds(definition.consumerTimeoutSeconds),
        description: `payhook: applies ${priority}-priority gateway events to payments`,
        ...(props.logRetention && { logRetention: props.logRetention }),
      });
      const fn = consumer.function;
      fn.addEnvironment(CONSUMER_ENV.priority, priority);
      fn.addEnvironment(CONSUMER_ENV.queueUrl, queue.queueUrl);
      fn.addEnvironment(CONSUMER_ENV.deadLetterQueueUrl, deadLetterQueue.queueUrl);
      // The consumer dead-letters permanent failures itself, with their reason.
      deadLetterQueue.grantSendMessages(fn);
      fn.addEnvironment(CONSUMER_ENV.paymentsTable, props.store.paymentsTable.tableName);
      fn.addEnvironment(CONSUMER_ENV.idempotencyTable, props.store.idempotencyTable.tableName);
      props.store.grantConsumer(fn);
      fn.addEnvironment(CONSUMER_ENV.eventBusName, props.events.bus.eventBusName);
      props.events.grantPublish(fn);
      if (props.dedupeWindows)
        fn.addEnvironment(CONSUMER_ENV.dedupeWindows, JSON.stringify(props.dedupeWindows));
      if (props.historyRetentionDays !== undefined) {
        fn.addEnvironment(CONSUMER_ENV.historyRetentionDays, String(props.historyRetentionDays));
      }
      if (props.historyKeepsPayload) fn.addEnvironment(CONSUMER_ENV.historyKeepsPayload, 'true');
      // The event source grants receive, delete and ChangeMessageVisibility (used for back-off) on the queue.
      fn.addEventSource(
        new SqsEventSource(queue, {
          batchSize: definition.batchSize,
          maxBatchingWindow: Duration.seconds(definition.maxBatchingWindowSeconds),
          maxConcurrency: definition.maxConcurrency,
          reportBatchItemFailures: true,
        }),
      );
      queues[priority] = queue;
      deadLetterQueues[priority] = deadLetterQueue;
      consumers[priority] = consumer;
    }
    this.queues = queues;
    this.deadLetterQueues = deadLetterQueues;
    this.consumers = consumers;
  }

  /** Lets the grantee (the ingest function) send to every priority queue and park on the low-priority DLQ. */
  public grantIngest(grantee: iam.IGrantable): void {
    for (const priority of PRIORITIES) this.queues[priority].grantSendMessages(grantee);
    this.deadLetterQueues.low.grantSendMessages(grantee);
  }
}
