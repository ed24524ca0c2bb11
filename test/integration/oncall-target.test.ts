import { CloudFormationClient, CreateStackCommand } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployedTarget, outputKeys } from '../../cli/oncall/target.js';
import { runCli } from '../../cli/program.js';
import { REJECTS_TABLE_OUTPUT } from '../../cli/rejects.js';
import { createDocumentClient } from '../../lambdas/common/aws-clients.js';
import { PRIORITIES, REJECTS_TABLE } from '../../lambdas/definitions.js';
import { DynamoRefusedRequestStore } from '../../lambdas/store/dynamodb-refused-requests.js';
import { hasMotoServer, type MotoServer, startMotoServer } from '../support/moto.js';
import { drain } from '../support/sqs-emulator.js';

// A deployed stack is found by its CloudFormation outputs, as `payhook dlq --stack NAME` does.
describe.runIf(hasMotoServer)('On-call target from a deployed stack (moto_server)', () => {
  let moto: MotoServer;

  beforeAll(async () => {
    moto = await startMotoServer();
    const resources: Record<string, unknown> = {};
    const outputs: Record<string, unknown> = {};
    for (const priority of PRIORITIES) {
      resources[`Queue${priority}`] = {
        Type: 'AWS::SQS::Queue',
        Properties: { QueueName: `shop-${priority}` },
      };
      resources[`Dlq${priority}`] = {
        Type: 'AWS::SQS::Queue',
        Properties: { QueueName: `shop-${priority}-dlq` },
      };
      const keys = outputKeys(priority);
      outputs[keys.queue] = { Value: { Ref: `Queue${priority}` } };
      outputs[keys.deadLetter] = { Value: { Ref: `Dlq${priority}` } };
    }
    resources.Rejects = {
      Type: 'AWS::DynamoDB::Table',
      Properties: {
        TableName: 'shop-prod-rejects',
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: REJECTS_TABLE.partitionKey, AttributeType: 'S' },
          { AttributeName: REJECTS_TABLE.sortKey, AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: REJECTS_TABLE.partitionKey, KeyType: 'HASH' },
          { AttributeName: REJECTS_TABLE.sortKey, KeyType: 'RANGE' },
        ],
      },
    };
    outputs[REJECTS_TABLE_OUTPUT] = { Value: { Ref: 'Rejects' } };
    const cloudformation = new CloudFormationClient({ endpoint: moto.endpoint, region: 'us-east-1' });
    await cloudformation.send(
      new CreateStackCommand({
        StackName: 'shop-prod',
        TemplateBody: JSON.stringify({ Resources: resources, Outputs: outputs }),
      }),
    );
    cloudformation.destroy();
  });

  afterAll(async () => {
    await moto?.stop();
  });

  it('resolves the three queue pairs from the outputs and reaches them', async () => {
    const target = await deployedTarget({ stack: 'shop-prod', region: 'us-east-1', endpoint: moto.endpoint });
    expect(target.label).toBe('stack shop-prod (us-east-1)');
    expect(
      target.queues.map((pair) => [
        pair.priority,
        pair.queueUrl.split('/').at(-1),
        pair.deadLetterQueueUrl.split('/').at(-1),
      ]),
    ).toEqual(PRIORITIES.map((priority) => [priority, `shop-${priority}`, `shop-${priority}-dlq`]));
    const high = target.queues[0];
    if (!high) throw new Error('no high pair');
    await target.sqs.send(new SendMessageCommand({ QueueUrl: high.deadLetterQueueUrl, MessageBody: '{}' }));
    expect(await drain(target.sqs, high.deadLetterQueueUrl)).toHaveLength(1);
    target.sqs.destroy();
  });

  it('lists refused requests from the table the stack outputs name (payhook rejects list --stack)', async () => {
    const client = new DynamoDBClient({ endpoint: moto.endpoint, region: 'us-east-1' });
    const store = new DynamoRefusedRequestStore(createDocumentClient(client), {
      tableName: 'shop-prod-rejects',
    });
    await store.put({
      gateway: 'razorpay',
      reason: 'invalid_signature',
      status: 401,
      at: new Date().toISOString(),
      requestId: 'req-moto-1',
      bodySha256: 'f'.repeat(64),
      bodyBytes: 321,
      headerNames: ['content-type', 'x-razorpay-signature'],
    });
    client.destroy();
    let stdout = '';
    const code = await runCli(
      ['node', 'payhook', 'rejects', 'list', '--stack', 'shop-prod', '--region', 'us-east-1'],
      {
        stdout: (text) => {
          stdout += text;
        },
        stderr: () => undefined,
        env: { PAYHOOK_AWS_ENDPOINT_URL: moto.endpoint },
      },
    );
    expect(code).toBe(0);
    expect(stdout).toContain('stack shop-prod: 1 refused request(s)');
    expect(stdout).toMatch(/invalid_signature: 1 \(razorpay 1\)/);
    expect(stdout).toContain('request req-moto-1');
  });

  it('says clearly when the stack does not exist', async () => {
    await expect(
      deployedTarget({ stack: 'no-such-stack', region: 'us-east-1', endpoint: moto.endpoint }),
    ).rejects.toThrow(/cannot read stack no-such-stack in us-east-1/);
  });
});
