import { CreateTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Statement } from '../../../rehearsal/iam.js';
import { type RecordingProxy, startRecordingProxy } from '../../../rehearsal/recording-proxy.js';
import { type DynamoEmulator, startDynamoEmulator } from '../../support/dynamodb-emulator.js';

// The rehearsal's proof rests on this proxy: a call the role would deny must be refused as AWS refuses it (and
// recorded as denied), an allowed one must reach the emulator unchanged, and a caller it does not know is refused.
const TABLE_ARN = 'arn:aws:dynamodb:us-east-1:123456789012:table/rehearsal-proxy';
const STATEMENTS: Statement[] = [{ Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: TABLE_ARN }];

// As the stack's queue policies do: deny anything not over TLS (every SDK call to AWS is), and one key outright.
const RESOURCE_POLICY: Statement[] = [
  {
    Effect: 'Deny',
    Principal: { AWS: '*' },
    Action: 'dynamodb:*',
    Resource: TABLE_ARN,
    Condition: { Bool: { 'aws:SecureTransport': 'false' } },
  },
  {
    Effect: 'Deny',
    Principal: { AWS: '*' },
    Action: 'dynamodb:GetItem',
    Resource: TABLE_ARN,
    Condition: { 'ForAnyValue:StringEquals': { 'dynamodb:LeadingKeys': ['PAYMENT#locked'] } },
  },
];

let dynamo: DynamoEmulator;
let proxy: RecordingProxy;

function clientAs(accessKeyId: string): DynamoDBClient {
  return new DynamoDBClient({
    region: 'us-east-1',
    endpoint: proxy.endpoint,
    credentials: { accessKeyId, secretAccessKey: 'x' },
    maxAttempts: 1,
  });
}

beforeAll(async () => {
  dynamo = await startDynamoEmulator();
  await dynamo.client.send(
    new CreateTableCommand({
      TableName: 'rehearsal-proxy',
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  proxy = await startRecordingProxy({
    upstreams: { dynamodb: dynamo.endpoint, sqs: 'http://127.0.0.1:9', moto: 'http://127.0.0.1:9' },
    account: {
      region: 'us-east-1',
      accountId: '123456789012',
      partition: 'aws',
      partitionKeyOf: () => 'pk',
      secretArnOf: () => undefined,
    },
    callerOf: (key) => (key === 'ASIAFUNCTION' ? { functionId: 'fn', statements: STATEMENTS } : undefined),
    resourcePolicyOf: (arn) => (arn === TABLE_ARN ? RESOURCE_POLICY : undefined),
  });
});

afterAll(async () => {
  await proxy?.stop();
  await dynamo?.stop();
});

describe('the rehearsal recording proxy', () => {
  it('forwards an allowed call to the emulator and records it as allowed with the answer it got', async () => {
    const client = clientAs('ASIAFUNCTION');
    const { Item } = await client.send(
      new GetItemCommand({ TableName: 'rehearsal-proxy', Key: { pk: { S: 'PAYMENT#1' } } }),
    );
    expect(Item).toBeUndefined();
    const call = proxy.calls.at(-1);
    expect(call).toMatchObject({ functionId: 'fn', service: 'dynamodb', operation: 'GetItem', status: 200 });
    expect(call?.permissions).toEqual([
      expect.objectContaining({
        action: 'dynamodb:GetItem',
        resource: TABLE_ARN,
        context: { 'dynamodb:LeadingKeys': ['PAYMENT#1'] },
        decision: { kind: 'allowed', statement: 0 },
      }),
    ]);
    client.destroy();
  });

  it('refuses a call the role does not grant with AccessDeniedException, and never lets it reach the emulator', async () => {
    const client = clientAs('ASIAFUNCTION');
    await expect(
      client.send(new PutItemCommand({ TableName: 'rehearsal-proxy', Item: { pk: { S: 'PAYMENT#2' } } })),
    ).rejects.toMatchObject({ name: 'AccessDeniedException' });
    expect(proxy.calls.at(-1)).toMatchObject({ functionId: 'fn', operation: 'PutItem', status: 403 });
    const { Item } = await dynamo.client.send(
      new GetItemCommand({ TableName: 'rehearsal-proxy', Key: { pk: { S: 'PAYMENT#2' } } }),
    );
    expect(Item).toBeUndefined();
    client.destroy();
  });

  it("refuses a call the role allows when the resource's own policy denies it", async () => {
    const client = clientAs('ASIAFUNCTION');
    await expect(
      client.send(new GetItemCommand({ TableName: 'rehearsal-proxy', Key: { pk: { S: 'PAYMENT#locked' } } })),
    ).rejects.toMatchObject({ name: 'AccessDeniedException' });
    expect(proxy.calls.at(-1)?.permissions[0]?.decision).toEqual({
      kind: 'denied',
      reason: 'explicit',
      statement: 1,
    });
    client.destroy();
  });

  it('refuses a caller whose credentials belong to no function', async () => {
    const client = clientAs('ASIASTRANGER');
    await expect(
      client.send(new GetItemCommand({ TableName: 'rehearsal-proxy', Key: { pk: { S: 'PAYMENT#1' } } })),
    ).rejects.toMatchObject({ name: 'AccessDeniedException' });
    expect(proxy.calls.at(-1)).toMatchObject({ functionId: 'unknown caller ASIASTRANGER', status: 403 });
    client.destroy();
  });
});
