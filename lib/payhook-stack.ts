import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { PRIORITIES } from '../lambdas/definitions.js';
import { PriorityQueues } from './priority-queues.js';

/**
 * The payhook pipeline. Today: the priority queues and their dead-letter queues. The webhook API, the functions,
 * the payment store and monitoring are composed here as they land (see the README's status table).
 */
export class PayhookStack extends Stack {
  public readonly priorityQueues: PriorityQueues;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    this.priorityQueues = new PriorityQueues(this, 'PriorityQueues', { namePrefix: id });
    // Outputs are how the on-call CLI finds a deployed stack's queues (`--stack NAME`).
    for (const priority of PRIORITIES) {
      new CfnOutput(this, `QueueUrl-${priority}`, { value: this.priorityQueues.queues[priority].queueUrl });
      new CfnOutput(this, `DeadLetterQueueUrl-${priority}`, {
        value: this.priorityQueues.deadLetterQueues[priority].queueUrl,
      });
    }
  }
}
