import { Duration, Stack } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { PRIORITIES, PRIORITY_QUEUES, type Priority, queueName } from '../lambdas/definitions.js';

export interface PriorityQueuesProps {
  /**
   * Prefix for every queue name, so several payhook deployments can share an account and region.
   * @default - the stack name
   */
  readonly namePrefix?: string;
}

/**
 * One queue and one dead-letter queue per entry of `PRIORITY_QUEUES` in `lambdas/definitions.ts`, the same
 * definitions the local stack creates its queues from. Queues are encrypted at rest and refuse plain-HTTP access;
 * dead-letter queues keep messages for SQS's 14-day maximum, so on-call has two weeks to redrive.
 */
export class PriorityQueues extends Construct {
  /** The queue of each priority. */
  public readonly queues: Readonly<Record<Priority, sqs.IQueue>>;
  /** The dead-letter queue of each priority. */
  public readonly deadLetterQueues: Readonly<Record<Priority, sqs.IQueue>>;

  constructor(scope: Construct, id: string, props: PriorityQueuesProps = {}) {
    super(scope, id);
    const prefix = props.namePrefix ?? Stack.of(this).stackName;
    if (prefix !== undefined && !/^[A-Za-z0-9_-]{1,40}$/.test(prefix)) {
      throw new Error(`PriorityQueues namePrefix "${prefix}" must be 1-40 letters, digits, - or _`);
    }
    const queues = {} as Record<Priority, sqs.IQueue>;
    const deadLetterQueues = {} as Record<Priority, sqs.IQueue>;
    for (const priority of PRIORITIES) {
      const definition = PRIORITY_QUEUES[priority];
      const deadLetterQueue = new sqs.Queue(this, `${priority}-dlq`, {
        queueName: queueName(priority, 'deadLetter', prefix),
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
      });
      queues[priority] = new sqs.Queue(this, priority, {
        queueName: queueName(priority, 'main', prefix),
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        visibilityTimeout: Duration.seconds(definition.visibilityTimeoutSeconds),
        deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: definition.maxReceiveCount },
      });
      deadLetterQueues[priority] = deadLetterQueue;
    }
    this.queues = queues;
    this.deadLetterQueues = deadLetterQueues;
  }

  /** Lets the grantee (the ingest function) send to every priority queue and park on the low-priority DLQ. */
  public grantIngest(grantee: iam.IGrantable): void {
    for (const priority of PRIORITIES) this.queues[priority].grantSendMessages(grantee);
    this.deadLetterQueues.low.grantSendMessages(grantee);
  }
}
