import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { describe, expect, it } from 'vitest';
import { PRIORITIES, PRIORITY_QUEUES } from '../../lambdas/definitions.js';
import { PayhookStack } from '../../lib/payhook-stack.js';
import { PriorityQueues } from '../../lib/priority-queues.js';

function synthesise() {
  const stack = new PayhookStack(new App(), 'shop-prod');
  return { stack, template: Template.fromStack(stack) };
}

describe('Construct: PriorityQueues', () => {
  const { template } = synthesise();

  it.each(PRIORITIES)(
    'creates the %s queue and its dead-letter queue from the shared definitions',
    (priority) => {
      const definition = PRIORITY_QUEUES[priority];
      template.hasResourceProperties('AWS::SQS::Queue', {
        QueueName: `shop-prod-${definition.deadLetterQueueName}`,
        MessageRetentionPeriod: 14 * 24 * 3600,
        SqsManagedSseEnabled: true,
      });
      template.hasResourceProperties('AWS::SQS::Queue', {
        QueueName: `shop-prod-${definition.queueName}`,
        SqsManagedSseEnabled: true,
        RedrivePolicy: {
          maxReceiveCount: definition.maxReceiveCount,
          deadLetterTargetArn: Match.anyValue(),
        },
      });
    },
  );

  it('creates exactly one queue and one dead-letter queue per priority', () => {
    template.resourceCountIs('AWS::SQS::Queue', PRIORITIES.length * 2);
  });

  it('refuses plain-HTTP access to every queue', () => {
    const policies = template.findResources('AWS::SQS::QueuePolicy');
    expect(Object.keys(policies)).toHaveLength(PRIORITIES.length * 2);
    for (const policy of Object.values(policies)) {
      expect(policy.Properties.PolicyDocument.Statement).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      );
    }
  });

  it('publishes every queue URL as a stack output for the CLI', () => {
    for (const priority of PRIORITIES) {
      template.hasOutput(`QueueUrl${priority}`, {});
      template.hasOutput(`DeadLetterQueueUrl${priority}`, {});
    }
  });

  it('grants ingest send access to the three queues and the low-priority DLQ, and nothing to receive', () => {
    const stack = new Stack(new App(), 'grants');
    const queues = new PriorityQueues(stack, 'Queues');
    const role = new iam.Role(stack, 'Ingest', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    });
    queues.grantIngest(role);
    const [policy] = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy'));
    const statements = policy?.Properties.PolicyDocument.Statement as {
      Action: unknown;
      Resource: unknown;
    }[];
    const actions = new Set(statements.flatMap((statement) => [statement.Action].flat()));
    expect(actions).toEqual(new Set(['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl']));
    const resources = statements.flatMap((statement) => [statement.Resource].flat());
    expect(resources).toHaveLength(PRIORITIES.length + 1);
  });

  it('refuses a name prefix SQS would reject', () => {
    const stack = new Stack(new App(), 'bad');
    expect(() => new PriorityQueues(stack, 'Queues', { namePrefix: 'no spaces allowed' })).toThrow(
      /namePrefix/,
    );
  });
});
