import { Duration, Names, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  DRAINED_QUEUE_ENV,
  PRIORITIES,
  PRIORITY_QUEUES,
  type Priority,
  type PriorityQueueDefinition,
  QUEUE_MAX_MESSAGE_BYTES,
  QUEUES_ENV,
  queueName,
  UNPARSEABLE_PAYLOAD_DESTINATION,
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
  /** @default - the `logRetentionDays` setting's default (30 days) */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * For each priority of `lambdas/definitions.ts` (the same definitions the local stack reads): a queue and its
 * dead-letter queue, a consumer function and the SQS event source between them. Queues are encrypted and refuse
 * plain HTTP; visibility is the definition's (at least 6x the consumer timeout); dead-letter queues keep messages for
 * SQS's 14-day maximum, so on-call has two weeks to redrive. The consumers' settings (dedupe windows, history) reach
 * their environment from the settings table (`config.ts`), through the stack.
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
        logRetention: props.logRetention,
      });
      this.bindDrainedQueue(consumer, priority, queue, deadLetterQueue);
      props.store.bindPaymentItems(consumer);
      props.store.bindEventRecords(consumer);
      props.store.bindPreviousIdempotencyRecords(consumer);
      props.events.bindPublisher(consumer);
      drainWith(consumer, queue, definition);
      queues[priority] = queue;
      deadLetterQueues[priority] = deadLetterQueue;
      consumers[priority] = consumer;
    }
    this.queues = queues;
    this.deadLetterQueues = deadLetterQueues;
    this.consumers = consumers;
  }

  /**
   * Lets the function queue events at the given priorities (ingest: every one; the reconciler: those of the kinds it
   * learns), and tells it each of those queues' URLs (`PAYHOOK_QUEUE_URL_<PRIORITY>`).
   */
  public bindQueueing(fn: PayhookFunction, priorities: readonly Priority[] = PRIORITIES): iam.Grant {
    for (const priority of priorities) {
      fn.addEnvironment({ [QUEUES_ENV.queueUrl(priority)]: this.queues[priority].queueUrl });
    }
    return sendTo(
      fn,
      priorities.map((priority) => this.queues[priority]),
    );
  }

  /**
   * Lets ingest park what it cannot parse on the dead-letter queue {@link UNPARSEABLE_PAYLOAD_DESTINATION} names, and
   * tells it that queue's URL.
   */
  public bindParking(fn: PayhookFunction): iam.Grant {
    const { priority } = UNPARSEABLE_PAYLOAD_DESTINATION;
    const parking = this.deadLetterQueues[priority];
    fn.addEnvironment({ [QUEUES_ENV.deadLetterQueueUrl(priority)]: parking.queueUrl });
    return sendTo(fn, [parking]);
  }

  /**
   * A consumer's own queue: which priority it drains, the queue's URL (for visibility back-off, which the event source
   * grants with receive and delete) and its dead-letter queue's, where the consumer dead-letters permanent failures
   * itself, with their reason. It sends to both: an event held in progress elsewhere on its last receive goes back to
   * its own queue with fresh receives (`SqsRedelivery.requeue`), which the deploy rehearsal found denied when only the
   * DLQ was granted.
   */
  private bindDrainedQueue(
    consumer: PayhookFunction,
    priority: Priority,
    queue: sqs.Queue,
    deadLetterQueue: sqs.Queue,
  ): iam.Grant {
    consumer.addEnvironment({
      [DRAINED_QUEUE_ENV.priority]: priority,
      [DRAINED_QUEUE_ENV.queueUrl]: queue.queueUrl,
      [DRAINED_QUEUE_ENV.deadLetterQueueUrl]: deadLetterQueue.queueUrl,
    });
    return sendTo(consumer, [queue, deadLetterQueue]);
  }
}

/** How an event source mapping batches a queue's records and how many invocations it runs at once. */
export type DrainSettings = Pick<
  PriorityQueueDefinition,
  'batchSize' | 'maxBatchingWindowSeconds' | 'maxConcurrency'
>;

/**
 * The consumer's event source mapping on its queue, and exactly what it needs there: the mapping's poller receives,
 * deletes and reads the queue's attributes with the function's role, and the consumer's back-off changes a record's
 * visibility. CDK's `SqsEventSource` would also grant `sqs:GetQueueUrl`, which nothing calls (the deploy rehearsal
 * lists it unused); the mapping keeps `SqsEventSource`'s construct id, so its logical id, and a deployed mapping, stay.
 * The delivery function drains each destination's queue the same way.
 */
export function drainWith(consumer: PayhookFunction, queue: sqs.Queue, definition: DrainSettings): iam.Grant {
  // grantConsumeMessages would add kms:Decrypt for a KMS-encrypted queue; these queues use SQS-managed encryption.
  if (queue.encryptionMasterKey)
    throw new Error(`${queue.node.path}: a KMS-encrypted queue needs kms:Decrypt here`);
  consumer.function.addEventSourceMapping(`SqsEventSource:${Names.nodeUniqueId(queue.node)}`, {
    eventSourceArn: queue.queueArn,
    batchSize: definition.batchSize,
    maxBatchingWindow: Duration.seconds(definition.maxBatchingWindowSeconds),
    maxConcurrency: definition.maxConcurrency,
    reportBatchItemFailures: true,
  });
  return iam.Grant.addToPrincipal({
    grantee: consumer,
    actions: [
      'sqs:ReceiveMessage',
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
      'sqs:ChangeMessageVisibility',
    ],
    resourceArns: [queue.queueArn],
  });
}

/**
 * `sqs:SendMessage` on the queues, the one call the senders make (they are given each queue's URL).
 * `grantSendMessages` would add `GetQueueAttributes` and `GetQueueUrl`, which nothing calls; the queues use
 * SQS-managed encryption, so no KMS grant is needed either.
 */
export function sendTo(fn: PayhookFunction, queues: readonly sqs.IQueue[]): iam.Grant {
  return iam.Grant.addToPrincipal({
    grantee: fn,
    actions: ['sqs:SendMessage'],
    resourceArns: queues.map((queue) => queue.queueArn),
  });
}
