import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  BatchGetSecretValueCommand,
  GetSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueUrlCommand,
  ListQueuesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  TransactGetCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Account,
  describeRequest,
  type HttpRequestSeen,
  UnrecognisedRequestError,
} from '../../../rehearsal/aws-requests.js';

// The requests are the real SDK clients' own, captured by a local server, so these tests prove the describer reads
// exactly what the bundled SDK sends (targets, member names, DynamoDB JSON, queue URLs), not what we think it sends.

const REGION = 'eu-west-1';
const ACCOUNT_ID = '111122223333';
const PAYMENTS = 'payhook-payments';
const IDEMPOTENCY = 'payhook-idempotency';
const COUNTERS = 'payhook-counters';
const STRIPE_SECRET_ARN = `arn:aws:secretsmanager:${REGION}:${ACCOUNT_ID}:secret:payhook/stripe-AbC123`;

const account: Account = {
  region: REGION,
  accountId: ACCOUNT_ID,
  partition: 'aws',
  partitionKeyOf: (table) => ({ [PAYMENTS]: 'pk', [IDEMPOTENCY]: 'id', [COUNTERS]: 'n' })[table],
  // By name, partial ARN (without the random suffix) or full ARN, as Secrets Manager accepts.
  secretArnOf: (id) =>
    id === 'payhook/stripe' || (id.startsWith('arn:') && STRIPE_SECRET_ARN.startsWith(id))
      ? STRIPE_SECRET_ARN
      : undefined,
};

const tableArn = (table: string) => `arn:aws:dynamodb:${REGION}:${ACCOUNT_ID}:table/${table}`;
const queueArn = (queue: string) => `arn:aws:sqs:${REGION}:${ACCOUNT_ID}:${queue}`;
const busArn = (bus: string) => `arn:aws:events:${REGION}:${ACCOUNT_ID}:event-bus/${bus}`;
// The emulator's queue URL: another host, port and account than AWS's.
const QUEUE_URL = 'http://localhost:4566/000000000000/payhook-events-high';

let server: Server;
let endpoint = '';
let captured: HttpRequestSeen[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      captured.push({
        method: request.method ?? '',
        path: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks),
      });
      // A modelled error ends the call at once (no retries, no response checksums); the client's error is ignored.
      response.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
      response.end(JSON.stringify({ __type: 'CapturedByTest', message: 'captured' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

function clientConfig() {
  return {
    endpoint,
    region: REGION,
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    maxAttempts: 1,
  };
}

/** The one HTTP request the SDK sends for `call`. */
async function sent(call: () => Promise<unknown>): Promise<HttpRequestSeen> {
  captured = [];
  await call().catch(() => undefined);
  expect(captured).toHaveLength(1);
  const [request] = captured;
  if (request === undefined) throw new Error('no request captured');
  return request;
}

const documents = () => DynamoDBDocumentClient.from(new DynamoDBClient(clientConfig()));
const sqs = () => new SQSClient(clientConfig());
const secrets = () => new SecretsManagerClient(clientConfig());
const events = () => new EventBridgeClient(clientConfig());

/** A handcrafted request, for protocols none of the installed clients speak. */
function handcrafted(
  path: string,
  headers: Record<string, string>,
  body: string,
  method = 'POST',
): HttpRequestSeen {
  return { method, path, headers, body: Buffer.from(body) };
}

function signedFor(service: string): Record<string, string> {
  return {
    authorization: `AWS4-HMAC-SHA256 Credential=AKID/20261130/${REGION}/${service}/aws4_request, SignedHeaders=host, Signature=0`,
  };
}

describe('describeRequest: DynamoDB', () => {
  it('PutItem needs dynamodb:PutItem on the table, with the partition key of the item as LeadingKeys (the reconciler progress condition)', async () => {
    const request = await sent(() =>
      documents().send(
        new PutCommand({ TableName: PAYMENTS, Item: { pk: 'RECONCILER#stripe', sk: 'progress', n: 3 } }),
      ),
    );
    expect(describeRequest(request, account)).toEqual({
      service: 'dynamodb',
      operation: 'PutItem',
      permissions: [
        {
          action: 'dynamodb:PutItem',
          resource: tableArn(PAYMENTS),
          context: { 'dynamodb:LeadingKeys': ['RECONCILER#stripe'] },
        },
      ],
    });
  });

  it.each([
    ['GetItem', () => new GetCommand({ TableName: PAYMENTS, Key: { pk: 'PAY#1', sk: 'A' } })],
    [
      'UpdateItem',
      () =>
        new UpdateCommand({
          TableName: PAYMENTS,
          Key: { pk: 'PAY#1', sk: 'A' },
          UpdateExpression: 'SET #s = :s',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':s': 'paid' },
        }),
    ],
    ['DeleteItem', () => new DeleteCommand({ TableName: PAYMENTS, Key: { pk: 'PAY#1', sk: 'A' } })],
  ] as const)(
    '%s is checked as itself on the table, its Key giving LeadingKeys',
    async (operation, command) => {
      const request = await sent(() => documents().send(command()));
      expect(describeRequest(request, account)).toEqual({
        service: 'dynamodb',
        operation,
        permissions: [
          {
            action: `dynamodb:${operation}`,
            resource: tableArn(PAYMENTS),
            context: { 'dynamodb:LeadingKeys': ['PAY#1'] },
          },
        ],
      });
    },
  );

  it('a numeric partition key reaches LeadingKeys as the string IAM compares, not dropped', async () => {
    const request = await sent(() =>
      documents().send(new GetCommand({ TableName: COUNTERS, Key: { n: 42 } })),
    );
    expect(describeRequest(request, account).permissions[0]?.context).toEqual({
      'dynamodb:LeadingKeys': ['42'],
    });
  });

  it('a table whose partition key is unknown gets no LeadingKeys at all rather than a wrong one', async () => {
    const request = await sent(() =>
      documents().send(new PutCommand({ TableName: 'someone-elses-table', Item: { pk: 'x' } })),
    );
    expect(describeRequest(request, account).permissions).toEqual([
      { action: 'dynamodb:PutItem', resource: tableArn('someone-elses-table'), context: {} },
    ]);
  });

  it('a Query on an index needs dynamodb:Query on the index ARN, not the table (the lookup-index grants)', async () => {
    const request = await sent(() =>
      documents().send(
        new QueryCommand({
          TableName: PAYMENTS,
          IndexName: 'by-reference',
          KeyConditionExpression: '#r = :r',
          ExpressionAttributeNames: { '#r': 'reference' },
          ExpressionAttributeValues: { ':r': 'order-7731' },
        }),
      ),
    );
    expect(describeRequest(request, account)).toEqual({
      service: 'dynamodb',
      operation: 'Query',
      // The index is keyed on another attribute than the table's partition key: no LeadingKeys to give.
      permissions: [
        { action: 'dynamodb:Query', resource: `${tableArn(PAYMENTS)}/index/by-reference`, context: {} },
      ],
    });
  });

  it('a Query on the table reads LeadingKeys from an aliased partition-key equality among AND-ed conditions', async () => {
    const request = await sent(() =>
      documents().send(
        new QueryCommand({
          TableName: PAYMENTS,
          KeyConditionExpression: 'begins_with(sk, :prefix) AND #p = :p',
          ExpressionAttributeNames: { '#p': 'pk' },
          ExpressionAttributeValues: { ':p': 'RECONCILER#paystack', ':prefix': 'page#' },
        }),
      ),
    );
    expect(describeRequest(request, account).permissions).toEqual([
      {
        action: 'dynamodb:Query',
        resource: tableArn(PAYMENTS),
        context: { 'dynamodb:LeadingKeys': ['RECONCILER#paystack'] },
      },
    ]);
  });

  it('a Scan on an index needs dynamodb:Scan on the index ARN', async () => {
    const request = await sent(() =>
      documents().send(new ScanCommand({ TableName: PAYMENTS, IndexName: 'pending' })),
    );
    expect(describeRequest(request, account).permissions).toEqual([
      { action: 'dynamodb:Scan', resource: `${tableArn(PAYMENTS)}/index/pending`, context: {} },
    ]);
  });

  it('TransactWriteItems is checked item by item as PutItem, UpdateItem and ConditionCheckItem, each on its table', async () => {
    const request = await sent(() =>
      documents().send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: PAYMENTS, Item: { pk: 'PAY#1', sk: 'A', status: 'paid' } } },
            {
              Update: {
                TableName: IDEMPOTENCY,
                Key: { id: 'idem#9' },
                UpdateExpression: 'SET #s = :s',
                ExpressionAttributeNames: { '#s': 'status' },
                ExpressionAttributeValues: { ':s': 'COMPLETED' },
              },
            },
            {
              ConditionCheck: {
                TableName: PAYMENTS,
                Key: { pk: 'PAY#2', sk: 'A' },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
          ],
        }),
      ),
    );
    const enclosing = { 'dynamodb:EnclosingOperation': ['TransactWriteItems'] };
    expect(describeRequest(request, account)).toEqual({
      service: 'dynamodb',
      operation: 'TransactWriteItems',
      permissions: [
        {
          action: 'dynamodb:PutItem',
          resource: tableArn(PAYMENTS),
          context: { 'dynamodb:LeadingKeys': ['PAY#1'], ...enclosing },
        },
        {
          action: 'dynamodb:UpdateItem',
          resource: tableArn(IDEMPOTENCY),
          context: { 'dynamodb:LeadingKeys': ['idem#9'], ...enclosing },
        },
        {
          action: 'dynamodb:ConditionCheckItem',
          resource: tableArn(PAYMENTS),
          context: { 'dynamodb:LeadingKeys': ['PAY#2'], ...enclosing },
        },
      ],
    });
  });

  it('TransactGetItems is checked as dynamodb:GetItem per item', async () => {
    const request = await sent(() =>
      documents().send(
        new TransactGetCommand({
          TransactItems: [
            { Get: { TableName: PAYMENTS, Key: { pk: 'PAY#1', sk: 'A' } } },
            { Get: { TableName: IDEMPOTENCY, Key: { id: 'idem#9' } } },
          ],
        }),
      ),
    );
    expect(
      describeRequest(request, account).permissions.map(({ action, resource }) => [action, resource]),
    ).toEqual([
      ['dynamodb:GetItem', tableArn(PAYMENTS)],
      ['dynamodb:GetItem', tableArn(IDEMPOTENCY)],
    ]);
  });

  it('BatchWriteItem needs dynamodb:BatchWriteItem once per table, with every partition key written to it', async () => {
    const request = await sent(() =>
      documents().send(
        new BatchWriteCommand({
          RequestItems: {
            [PAYMENTS]: [
              { PutRequest: { Item: { pk: 'PAY#1', sk: 'A' } } },
              { DeleteRequest: { Key: { pk: 'PAY#2', sk: 'A' } } },
              { PutRequest: { Item: { pk: 'PAY#1', sk: 'B' } } },
            ],
            [IDEMPOTENCY]: [{ DeleteRequest: { Key: { id: 'idem#9' } } }],
          },
        }),
      ),
    );
    expect(describeRequest(request, account)).toEqual({
      service: 'dynamodb',
      operation: 'BatchWriteItem',
      permissions: [
        {
          action: 'dynamodb:BatchWriteItem',
          resource: tableArn(PAYMENTS),
          context: { 'dynamodb:LeadingKeys': ['PAY#1', 'PAY#2'] },
        },
        {
          action: 'dynamodb:BatchWriteItem',
          resource: tableArn(IDEMPOTENCY),
          context: { 'dynamodb:LeadingKeys': ['idem#9'] },
        },
      ],
    });
  });

  it('BatchGetItem needs dynamodb:BatchGetItem once per table', async () => {
    const request = await sent(() =>
      documents().send(
        new BatchGetCommand({
          RequestItems: {
            [PAYMENTS]: { Keys: [{ pk: 'PAY#1', sk: 'A' }] },
            [COUNTERS]: { Keys: [{ n: 7 }] },
          },
        }),
      ),
    );
    expect(describeRequest(request, account).permissions).toEqual([
      {
        action: 'dynamodb:BatchGetItem',
        resource: tableArn(PAYMENTS),
        context: { 'dynamodb:LeadingKeys': ['PAY#1'] },
      },
      {
        action: 'dynamodb:BatchGetItem',
        resource: tableArn(COUNTERS),
        context: { 'dynamodb:LeadingKeys': ['7'] },
      },
    ]);
  });

  it('DescribeTable needs dynamodb:DescribeTable on the table', async () => {
    const client = new DynamoDBClient(clientConfig());
    const request = await sent(() => client.send(new DescribeTableCommand({ TableName: PAYMENTS })));
    expect(describeRequest(request, account).permissions).toEqual([
      { action: 'dynamodb:DescribeTable', resource: tableArn(PAYMENTS), context: {} },
    ]);
  });
});

describe('describeRequest: SQS', () => {
  it('SendMessage over the JSON protocol needs sqs:SendMessage on the queue the URL ends with, in our account', async () => {
    const request = await sent(() =>
      sqs().send(new SendMessageCommand({ QueueUrl: QUEUE_URL, MessageBody: '{"id":"evt_1"}' })),
    );
    expect(describeRequest(request, account)).toEqual({
      service: 'sqs',
      operation: 'SendMessage',
      permissions: [{ action: 'sqs:SendMessage', resource: queueArn('payhook-events-high'), context: {} }],
    });
  });

  it.each([
    [
      'SendMessageBatch',
      'sqs:SendMessage',
      (client: SQSClient) =>
        client.send(
          new SendMessageBatchCommand({ QueueUrl: QUEUE_URL, Entries: [{ Id: '1', MessageBody: 'a' }] }),
        ),
    ],
    [
      'ReceiveMessage',
      'sqs:ReceiveMessage',
      (client: SQSClient) => client.send(new ReceiveMessageCommand({ QueueUrl: QUEUE_URL })),
    ],
    [
      'DeleteMessage',
      'sqs:DeleteMessage',
      (client: SQSClient) =>
        client.send(new DeleteMessageCommand({ QueueUrl: QUEUE_URL, ReceiptHandle: 'r' })),
    ],
    [
      'ChangeMessageVisibility',
      'sqs:ChangeMessageVisibility',
      (client: SQSClient) =>
        client.send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: QUEUE_URL,
            ReceiptHandle: 'r',
            VisibilityTimeout: 0,
          }),
        ),
    ],
  ] as const)(
    '%s is authorised as %s on the queue (batches as their single form)',
    async (operation, action, send) => {
      const request = await sent(() => send(sqs()));
      expect(describeRequest(request, account)).toEqual({
        service: 'sqs',
        operation,
        permissions: [{ action, resource: queueArn('payhook-events-high'), context: {} }],
      });
    },
  );

  it('GetQueueUrl is checked on the queue it names, and ListQueues on everything', async () => {
    const getUrl = await sent(() => sqs().send(new GetQueueUrlCommand({ QueueName: 'payhook-dlq' })));
    expect(describeRequest(getUrl, account).permissions).toEqual([
      { action: 'sqs:GetQueueUrl', resource: queueArn('payhook-dlq'), context: {} },
    ]);
    const list = await sent(() => sqs().send(new ListQueuesCommand({})));
    expect(describeRequest(list, account).permissions).toEqual([
      { action: 'sqs:ListQueues', resource: '*', context: {} },
    ]);
  });

  it('a query-protocol SendMessage (older clients) is read from its form body and the sqs credential scope', () => {
    const request = handcrafted(
      '/',
      { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8', ...signedFor('sqs') },
      `Action=SendMessage&Version=2012-11-05&QueueUrl=${encodeURIComponent(QUEUE_URL)}&MessageBody=hello`,
    );
    expect(describeRequest(request, account)).toEqual({
      service: 'sqs',
      operation: 'SendMessage',
      permissions: [{ action: 'sqs:SendMessage', resource: queueArn('payhook-events-high'), context: {} }],
    });
  });

  it('a query-protocol DeleteMessageBatch posted to the queue URL itself is checked on that queue', () => {
    const request = handcrafted(
      '/000000000000/payhook-events-low',
      { 'content-type': 'application/x-www-form-urlencoded', ...signedFor('sqs') },
      'Action=DeleteMessageBatch&DeleteMessageBatchRequestEntry.1.Id=1&DeleteMessageBatchRequestEntry.1.ReceiptHandle=r',
    );
    expect(describeRequest(request, account).permissions).toEqual([
      { action: 'sqs:DeleteMessage', resource: queueArn('payhook-events-low'), context: {} },
    ]);
  });

  it('a query-protocol action in the query string of a GET is read too', () => {
    const request = handcrafted(
      `/?Action=ReceiveMessage&QueueUrl=${encodeURIComponent(QUEUE_URL)}`,
      signedFor('sqs'),
      '',
      'GET',
    );
    expect(describeRequest(request, account).permissions).toEqual([
      { action: 'sqs:ReceiveMessage', resource: queueArn('payhook-events-high'), context: {} },
    ]);
  });

  it('an empty JSON body is read as no members, not refused', () => {
    const request = handcrafted('/', { 'x-amz-target': 'AmazonSQS.ListQueues' }, '');
    expect(describeRequest(request, account).permissions).toEqual([
      { action: 'sqs:ListQueues', resource: '*', context: {} },
    ]);
  });
});

describe('describeRequest: Secrets Manager', () => {
  it('GetSecretValue by name is checked on the full secret ARN, random suffix included', async () => {
    const request = await sent(() =>
      secrets().send(new GetSecretValueCommand({ SecretId: 'payhook/stripe' })),
    );
    expect(describeRequest(request, account)).toEqual({
      service: 'secretsmanager',
      operation: 'GetSecretValue',
      permissions: [{ action: 'secretsmanager:GetSecretValue', resource: STRIPE_SECRET_ARN, context: {} }],
    });
  });

  it('GetSecretValue by a partial ARN is checked on the full secret ARN', async () => {
    const partial = `arn:aws:secretsmanager:${REGION}:${ACCOUNT_ID}:secret:payhook/stripe`;
    const request = await sent(() => secrets().send(new GetSecretValueCommand({ SecretId: partial })));
    expect(describeRequest(request, account).permissions).toEqual([
      { action: 'secretsmanager:GetSecretValue', resource: STRIPE_SECRET_ARN, context: {} },
    ]);
  });

  it('GetSecretValue by a full ARN the account does not know is checked on that ARN as given', async () => {
    const other = `arn:aws:secretsmanager:${REGION}:999988887777:secret:theirs-XyZ789`;
    const request = await sent(() => secrets().send(new GetSecretValueCommand({ SecretId: other })));
    expect(describeRequest(request, account).permissions).toEqual([
      { action: 'secretsmanager:GetSecretValue', resource: other, context: {} },
    ]);
  });

  it('GetSecretValue by an unknown name is checked on an ARN built from the name', async () => {
    const request = await sent(() =>
      secrets().send(new GetSecretValueCommand({ SecretId: 'payhook/unknown' })),
    );
    expect(describeRequest(request, account).permissions).toEqual([
      {
        action: 'secretsmanager:GetSecretValue',
        resource: `arn:aws:secretsmanager:${REGION}:${ACCOUNT_ID}:secret:payhook/unknown`,
        context: {},
      },
    ]);
  });

  it('BatchGetSecretValue needs BatchGetSecretValue on everything and GetSecretValue on every listed secret', async () => {
    const request = await sent(() =>
      secrets().send(
        new BatchGetSecretValueCommand({ SecretIdList: ['payhook/stripe', 'payhook/paystack'] }),
      ),
    );
    expect(describeRequest(request, account).permissions).toEqual([
      { action: 'secretsmanager:BatchGetSecretValue', resource: '*', context: {} },
      { action: 'secretsmanager:GetSecretValue', resource: STRIPE_SECRET_ARN, context: {} },
      {
        action: 'secretsmanager:GetSecretValue',
        resource: `arn:aws:secretsmanager:${REGION}:${ACCOUNT_ID}:secret:payhook/paystack`,
        context: {},
      },
    ]);
  });
});

describe('describeRequest: EventBridge', () => {
  it('PutEvents needs events:PutEvents once per bus, with the sources and detail types sent to that bus', async () => {
    const busElsewhere = 'arn:aws:events:eu-west-1:444455556666:event-bus/partner';
    const request = await sent(() =>
      events().send(
        new PutEventsCommand({
          Entries: [
            { EventBusName: 'payhook-payments', Source: 'payhook', DetailType: 'PaymentPaid', Detail: '{}' },
            { Source: 'payhook.ops', DetailType: 'ReconcilerRan', Detail: '{}' },
            {
              EventBusName: 'payhook-payments',
              Source: 'payhook',
              DetailType: 'PaymentRefunded',
              Detail: '{}',
            },
            { EventBusName: busElsewhere, Source: 'payhook', DetailType: 'PaymentPaid', Detail: '{}' },
            { EventBusName: 'default', Source: 'payhook.ops', DetailType: 'ReconcilerSkipped', Detail: '{}' },
          ],
        }),
      ),
    );
    expect(describeRequest(request, account)).toEqual({
      service: 'events',
      operation: 'PutEvents',
      permissions: [
        {
          action: 'events:PutEvents',
          resource: busArn('payhook-payments'),
          context: { 'events:source': ['payhook'], 'events:detail-type': ['PaymentPaid', 'PaymentRefunded'] },
        },
        {
          // No EventBusName and the name 'default' are the same bus.
          action: 'events:PutEvents',
          resource: busArn('default'),
          context: {
            'events:source': ['payhook.ops'],
            'events:detail-type': ['ReconcilerRan', 'ReconcilerSkipped'],
          },
        },
        {
          action: 'events:PutEvents',
          resource: busElsewhere,
          context: { 'events:source': ['payhook'], 'events:detail-type': ['PaymentPaid'] },
        },
      ],
    });
  });
});

describe('describeRequest: CloudWatch and STS (handcrafted: their clients are not installed)', () => {
  it('PutMetricData over the JSON protocol needs cloudwatch:PutMetricData on everything, with its namespace', () => {
    const request = handcrafted(
      '/',
      {
        'x-amz-target': 'GraniteServiceVersion20100801.PutMetricData',
        'content-type': 'application/x-amz-json-1.0',
      },
      JSON.stringify({
        Namespace: 'Payhook',
        MetricData: [{ MetricName: 'ReconcilerGatewaySkipped', Value: 1 }],
      }),
    );
    expect(describeRequest(request, account)).toEqual({
      service: 'cloudwatch',
      operation: 'PutMetricData',
      permissions: [
        {
          action: 'cloudwatch:PutMetricData',
          resource: '*',
          context: { 'cloudwatch:namespace': ['Payhook'] },
        },
      ],
    });
  });

  it('PutMetricData over the query protocol is recognised by the monitoring signing name', () => {
    const request = handcrafted(
      '/',
      { 'content-type': 'application/x-www-form-urlencoded', ...signedFor('monitoring') },
      'Action=PutMetricData&Version=2010-08-01&Namespace=Payhook&MetricData.member.1.MetricName=M&MetricData.member.1.Value=1',
    );
    expect(describeRequest(request, account).permissions).toEqual([
      { action: 'cloudwatch:PutMetricData', resource: '*', context: { 'cloudwatch:namespace': ['Payhook'] } },
    ]);
  });

  it('PutMetricData over smithy-rpc-v2-cbor is recognised by its path without decoding the body', () => {
    const request: HttpRequestSeen = {
      method: 'POST',
      path: '/service/GraniteServiceVersion20100801/operation/PutMetricData',
      headers: {
        'smithy-protocol': 'rpc-v2-cbor',
        'content-type': 'application/cbor',
        ...signedFor('monitoring'),
      },
      body: Buffer.from([0xa1, 0x69, 0x4e, 0x61, 0x6d, 0x65, 0x73, 0x70, 0x61, 0x63, 0x65, 0x61, 0x50]),
    };
    expect(describeRequest(request, account)).toEqual({
      service: 'cloudwatch',
      operation: 'PutMetricData',
      permissions: [{ action: 'cloudwatch:PutMetricData', resource: '*', context: {} }],
    });
  });

  it('STS GetCallerIdentity over the query protocol needs sts:GetCallerIdentity on everything', () => {
    const request = handcrafted(
      '/',
      { 'content-type': 'application/x-www-form-urlencoded', ...signedFor('sts') },
      'Action=GetCallerIdentity&Version=2011-06-15',
    );
    expect(describeRequest(request, account)).toEqual({
      service: 'sts',
      operation: 'GetCallerIdentity',
      permissions: [{ action: 'sts:GetCallerIdentity', resource: '*', context: {} }],
    });
  });
});

describe('describeRequest: what it cannot check, it refuses', () => {
  it('an operation of a known service that it does not map (CreateTable) is refused, naming the operation', async () => {
    const client = new DynamoDBClient(clientConfig());
    const request = await sent(() =>
      client.send(
        new CreateTableCommand({
          TableName: 'new',
          KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
          AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      ),
    );
    expect(() => describeRequest(request, account)).toThrow(UnrecognisedRequestError);
    expect(() => describeRequest(request, account)).toThrow(/dynamodb operation CreateTable/);
  });

  it('a service it does not know (by x-amz-target) is refused, naming the target', () => {
    const request = handcrafted('/', { 'x-amz-target': 'Kinesis_20131202.PutRecord' }, '{"StreamName":"s"}');
    expect(() => describeRequest(request, account)).toThrow(UnrecognisedRequestError);
    expect(() => describeRequest(request, account)).toThrow(/Kinesis_20131202\.PutRecord/);
  });

  it('a query-protocol request signed for an unknown service is refused', () => {
    const request = handcrafted('/', signedFor('sns'), 'Action=Publish&TopicArn=t&Message=m');
    expect(() => describeRequest(request, account)).toThrow(UnrecognisedRequestError);
  });

  it('a request with neither a target, a CBOR path nor an Action is refused', () => {
    const request = handcrafted('/health', {}, '', 'GET');
    expect(() => describeRequest(request, account)).toThrow(/GET \/health/);
  });

  it('a JSON-protocol body that is not JSON is refused rather than read as empty', () => {
    const request = handcrafted('/', { 'x-amz-target': 'DynamoDB_20120810.PutItem' }, '{"TableName":');
    expect(() => describeRequest(request, account)).toThrow(UnrecognisedRequestError);
  });

  it('a DynamoDB item operation without a TableName is refused rather than checked on no table', () => {
    const request = handcrafted(
      '/',
      { 'x-amz-target': 'DynamoDB_20120810.GetItem' },
      '{"Key":{"pk":{"S":"x"}}}',
    );
    expect(() => describeRequest(request, account)).toThrow(/TableName/);
  });
});
