import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countCalls, emptyUsage } from '../../bench/aws-usage.js';
import { createDocumentClient } from '../../lambdas/common/aws-clients.js';
import { moneyFromMinor } from '../../lambdas/domain/money.js';
import type { Payment } from '../../lambdas/domain/payment.js';
import { DynamoPaymentStore } from '../../lambdas/store/dynamodb-payment-store.js';
import type { TableNames } from '../../local/tables.js';
import { type DynamoEmulator, startDynamoEmulator } from '../support/dynamodb-emulator.js';
import { createPipelineQueues, type SqsEmulator, startSqsEmulator } from '../support/sqs-emulator.js';

let dynamo: DynamoEmulator;
let sqs: SqsEmulator;
let tables: TableNames;

beforeAll(async () => {
  [dynamo, sqs] = await Promise.all([startDynamoEmulator(), startSqsEmulator()]);
  tables = await dynamo.createTables('usage-test');
});

afterAll(async () => {
  await Promise.all([dynamo?.stop(), sqs?.stop()]);
});

// The benchmark's cost figures rest on this middleware: it must count what the real clients send and leave the
// callers' results exactly as they would be without it.
describe('AWS call counting middleware (bench) against dynalite and fauxqs', () => {
  it('counts DynamoDB units, index writes and refused conditional writes without changing what callers get', async () => {
    const usage = emptyUsage();
    const client = new DynamoDBClient({ endpoint: dynamo.endpoint });
    countCalls(
      usage,
      client,
      () => true,
      () => tables.payments,
    );
    const store = new DynamoPaymentStore(createDocumentClient(client), {
      tableName: tables.payments,
      historyRetentionDays: 30,
    });
    const payment: Payment = {
      gateway: 'stripe',
      paymentKey: 'pi_usage_1',
      reference: 'ORDER-USAGE-1',
      gatewayPaymentId: 'pi_usage_1',
      status: 'succeeded',
      version: 1,
      mode: 'test',
      moneyIn: [{ id: 'pi_usage_1', money: moneyFromMinor('1000', 'USD'), eventIds: ['evt_usage_1'] }],
      refunds: [],
      disputes: [],
      attempts: [],
      createdAt: '2026-11-24T00:00:00.000Z',
      updatedAt: '2026-11-24T00:00:00.000Z',
      recentEvents: [],
      announced: [{ type: 'money_in', id: 'pi_usage_1', state: 'received' }],
    };
    await store.save(payment);
    expect(usage.dynamoCalls.PutItem).toBe(1);
    expect(usage.dynamoWriteUnits).toBe(1);
    // The by-reference entry only: keyed by its payment id, the payment is found by that id without an index.
    expect(usage.dynamoIndexWriteUnits).toBe(1);

    // The same first write again: refused by its condition, still billed, still thrown to the caller.
    await expect(store.save(payment)).rejects.toThrow();
    expect(usage.dynamoFailedConditionalWrites).toBe(1);
    expect(usage.dynamoFailedConditionalWriteUnits).toBe(1);

    const read = await store.get('stripe', 'pi_usage_1');
    expect(read?.reference).toBe('ORDER-USAGE-1');
    expect(read?.moneyIn).toEqual(payment.moneyIn);
    expect(usage.dynamoReadUnits).toBeGreaterThan(0);

    // ALL_OLD is added for the count only: a caller that did not ask for the old item gets none back.
    const item = { pk: { S: 'usage#overwrite' }, sk: { S: 'payment' }, version: { N: '1' } };
    await client.send(new PutItemCommand({ TableName: tables.payments, Item: item }));
    const overwrite = await client.send(new PutItemCommand({ TableName: tables.payments, Item: item }));
    expect(overwrite.Attributes).toBeUndefined();
    expect(usage.dynamoCalls.PutItem).toBe(4);
  });

  it('counts SQS requests in 64 KB units and keeps empty receives apart', async () => {
    const usage = emptyUsage();
    const client = new SQSClient({
      endpoint: sqs.endpoint,
      region: 'us-east-1',
      useQueueUrlAsEndpoint: false,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    countCalls(
      usage,
      client,
      () => true,
      () => undefined,
    );
    const { queues } = await createPipelineQueues(sqs.client, 'usage-test');
    await client.send(new ReceiveMessageCommand({ QueueUrl: queues.low, WaitTimeSeconds: 0 }));
    await client.send(new SendMessageCommand({ QueueUrl: queues.low, MessageBody: 'x'.repeat(100 * 1024) }));
    await client.send(new SendMessageCommand({ QueueUrl: queues.low, MessageBody: 'small' }));
    expect(usage.emptyReceives).toBe(1);
    expect(usage.sqsRequests.SendMessage).toBe(2);
    expect(usage.sqsBilledRequests.SendMessage).toBe(3);
    client.destroy();
  });
});
