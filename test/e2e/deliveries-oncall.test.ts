import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../lambdas/common/aws-clients.js';
import { SqsDeliveryQueue } from '../../lambdas/delivery/sqs-delivery-queue.js';
import { DynamoBreakerStates } from '../../lambdas/store/dynamodb-breaker-states.js';
import { DynamoDestinationStates } from '../../lambdas/store/dynamodb-destination-states.js';
import type { LocalStack } from '../../local/stack.js';
import { createTables, tableNames } from '../../local/tables.js';
import { runPayhook, runPayhookOnStack, runPayhookWith } from '../support/cli.js';
import { startTestStack, stopTestStack } from '../support/local-stack.js';
import { eventually, type MerchantEndpoint, startMerchantEndpoint } from '../support/merchant-endpoint.js';
import { createStackWithOutputs, hasMotoServer, type MotoServer, startMotoServer } from '../support/moto.js';

// The on-call path for deliveries on the local stack, end to end: `payhook send` makes a payment event, the local bus
// queues it for two destinations and the real delivery function POSTs it to endpoints on 127.0.0.1. One refuses it
// (400: dead-lettered), is explained with `deliveries list|show`, fixed, and redriven; the other answers 410 Gone, is
// stopped, and resumed.

interface StatusJson {
  readonly target: string;
  readonly destinations: {
    readonly destination: string;
    readonly stopped: boolean;
    readonly stoppedAt?: string;
    readonly reason?: string;
    readonly visible: number;
    readonly inFlight: number;
    readonly deadLetters: number;
    readonly oldestMessageAgeUnknown?: string;
    readonly recentFailures: readonly { errorClass: string; status?: number; at: string }[];
  }[];
}

interface ListJson {
  readonly destination: string;
  readonly summary: readonly { errorClass: string; status?: number; eventType?: string; count: number }[];
  readonly messages: readonly {
    messageId: string;
    destination: string;
    eventType?: string;
    eventId?: string;
    gateway?: string;
    reference?: string;
    errorClass: string;
    status?: number;
    answerStart?: string;
    receiveCount: number;
  }[];
}

describe('payhook deliveries on the local stack', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'payhook-deliveries-e2e-'));
  const cli = (...args: string[]) => runPayhook(dataDir, ...args);
  let stack: LocalStack;
  let refusing: MerchantEndpoint;
  let gone: MerchantEndpoint;

  async function statusJson(): Promise<StatusJson> {
    const run = await cli('deliveries', 'status', '--json');
    expect(run.code, run.stderr).toBe(0);
    return JSON.parse(run.stdout) as StatusJson;
  }

  const row = (status: StatusJson, name: string) =>
    status.destinations.find((each) => each.destination === name);

  beforeAll(async () => {
    // The refusal quotes an address, as error pages do: what the CLI prints of it must be masked.
    refusing = await startMerchantEndpoint(400, '{"error":"unknown order","contact":"ops@merchant.example"}');
    gone = await startMerchantEndpoint(410, '');
    stack = await startTestStack(dataDir, {
      destinations: { shop: { url: refusing.url }, 'shop-eu': { url: gone.url } },
    });
    expect((await cli('send', 'paystack')).code).toBe(0);
    await eventually(async () => {
      const status = await statusJson();
      return row(status, 'shop')?.deadLetters === 1 && row(status, 'shop-eu')?.stopped ? true : undefined;
    }, 'a dead letter for shop and shop-eu stopped');
  });

  afterAll(async () => {
    await stopTestStack(stack, 2000);
    await refusing?.close();
    await gone?.close();
  });

  it('status shows each destination: the dead letter with its status, and the stop with when and why', async () => {
    const status = await statusJson();
    expect(status.target).toBe(`local stack at ${stack.url}`);
    expect(status.destinations.map((each) => each.destination)).toEqual(['shop', 'shop-eu']);
    expect(row(status, 'shop')).toMatchObject({
      stopped: false,
      deadLetters: 1,
      recentFailures: [{ errorClass: 'permanent_status', status: 400 }],
    });
    // The 410'd event is kept, held on the queue (a delayed copy) until the destination is resumed.
    expect(row(status, 'shop-eu')).toMatchObject({
      stopped: true,
      reason: expect.stringMatching(/410 Gone/),
      stoppedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      visible: 0,
      inFlight: 0,
      delayed: 1,
      deadLetters: 0,
    });
    expect(row(status, 'shop')?.oldestMessageAgeUnknown).toMatch(/not measured locally/);

    const text = await cli('deliveries', 'status');
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/\nshop +active +0 +0 +0 +- +1 +\d+s\n/);
    expect(text.stdout).toMatch(/\nshop-eu +STOPPED +0 +0 +1 +- +0 +-\n/);
    expect(text.stdout).toMatch(/shop-eu: stopped since \S+Z: HTTP 410 Gone/);
    expect(text.stdout).toContain('payhook deliveries resume shop-eu');
    expect(text.stdout).toMatch(/shop: dead-lettered \S+Z: permanent_status 400 \(HTTP 400\)/);
  });

  it('lists the dead letter with the webhook-id the endpoint saw, filtered like payhook dlq, its answer masked', async () => {
    const listed = await cli('deliveries', 'list', 'shop', '--json');
    expect(listed.code, listed.stderr).toBe(0);
    const json = JSON.parse(listed.stdout) as ListJson;
    const [attempt] = refusing.received;
    expect(json.summary).toEqual([
      expect.objectContaining({
        errorClass: 'permanent_status',
        status: 400,
        eventType: 'payment.succeeded',
        count: 1,
      }),
    ]);
    expect(json.messages).toEqual([
      expect.objectContaining({
        destination: 'shop',
        eventType: 'payment.succeeded',
        eventId: attempt?.headers['webhook-id'],
        gateway: 'paystack',
        reference: 'ORDER-1001',
        errorClass: 'permanent_status',
        status: 400,
        receiveCount: 1,
      }),
    ]);
    expect(json.messages[0]?.answerStart).toContain('unknown order');
    expect(listed.stdout).not.toContain('ops@merchant.example');

    const text = await cli('deliveries', 'list', 'shop');
    expect(text.stdout).toMatch(/^1 dead-lettered delivery\(ies\) to shop in local stack at /);
    expect(text.stdout).toMatch(/permanent_status +400 +payment\.succeeded +1 /);
    expect(text.stdout).toMatch(
      /payment\.succeeded +paystack +ORDER-1001 +\S+ +permanent_status +400 +1 +\d+s\n/,
    );

    const count = async (...filters: string[]) =>
      (JSON.parse((await cli('deliveries', 'list', 'shop', '--json', ...filters)).stdout) as ListJson)
        .messages.length;
    expect(
      await count('--error', 'permanent_status', '--type', 'payment.succeeded', '--gateway', 'paystack'),
    ).toBe(1);
    expect(await count('--error', 'retries_exhausted')).toBe(0);
    expect(await count('--type', 'payment.refunded')).toBe(0);
    expect(await count('--gateway', 'stripe')).toBe(0);
    expect(await count('--since', '1h')).toBe(1);
  });

  it('shows one dead letter in full, and fails clearly for an unknown message or destination', async () => {
    const { messages } = JSON.parse((await cli('deliveries', 'list', 'shop', '--json')).stdout) as ListJson;
    const id = messages[0]?.messageId ?? '';
    const shown = await cli('deliveries', 'show', 'shop', id);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain(`delivery ${id} in shop's dead-letter queue`);
    expect(shown.stdout).toMatch(/error +permanent_status: HTTP 400/);
    expect(shown.stdout).toMatch(/answer +HTTP 400, answer began: .*unknown order/);
    expect(shown.stdout).toContain(`webhook-id ${messages[0]?.eventId}`);
    expect(shown.stdout).toMatch(/payment +paystack ORDER-1001/);
    expect(shown.stdout).toContain('"detail-type": "payment.succeeded"');
    expect(shown.stdout).not.toContain('ops@merchant.example');
    const json = JSON.parse((await cli('deliveries', 'show', 'shop', id, '--json')).stdout) as {
      body: { detail: { id: string; reference: string } };
      deadLetteredAt: string;
    };
    expect(json.body.detail).toMatchObject({ id: messages[0]?.eventId, reference: 'ORDER-1001' });
    expect(json.deadLetteredAt).toMatch(/Z$/);

    const unknownMessage = await cli('deliveries', 'show', 'shop', 'no-such-message');
    expect([unknownMessage.code, unknownMessage.stderr]).toEqual([
      1,
      `error: no dead-lettered delivery no-such-message to shop in local stack at ${stack.url}\n`,
    ]);
    const unknownDestination = await cli('deliveries', 'list', 'shop-us');
    expect([unknownDestination.code, unknownDestination.stderr]).toEqual([
      1,
      `error: no destination shop-us in local stack at ${stack.url}: its destinations are shop, shop-eu\n`,
    ]);
  });

  it('redrives a dead letter once the endpoint is fixed: a dry run moves nothing, then it is delivered, signed as before', async () => {
    const dry = await cli('deliveries', 'redrive', 'shop', '--dry-run');
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toBe(
      `dry run on shop in local stack at ${stack.url}: would move 1, leave 0; nothing was moved\n`,
    );
    expect(row(await statusJson(), 'shop')?.deadLetters).toBe(1);

    refusing.status = 200;
    refusing.body = '{"ok":true}';
    const run = await cli('deliveries', 'redrive', 'shop', '--error', 'permanent_status', '--rate', '5');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe(`redrive on shop in local stack at ${stack.url}: moved 1, skipped 0, failed 0\n`);
    const delivered = await eventually(
      async () => (refusing.received.length >= 2 ? refusing.received.at(-1) : undefined),
      'the redriven delivery',
    );
    // The same event, the same webhook-id (so a receiver that did get it dedupes), verified by the official library.
    expect(delivered.headers['webhook-id']).toBe(refusing.received[0]?.headers['webhook-id']);
    expect(
      new Webhook(stack.deliveries.signingSecret.secret).verify(delivered.body, delivered.headers),
    ).toMatchObject({
      type: 'payment.succeeded',
      data: { reference: 'ORDER-1001' },
    });
    await eventually(
      async () => ((row(await statusJson(), 'shop')?.deadLetters ?? 1) === 0 ? true : undefined),
      'the dead-letter queue to empty',
    );
  });

  it('resumes a stopped destination: its stop is deleted and held deliveries will be attempted again', async () => {
    const resumed = await cli('deliveries', 'resume', 'shop-eu');
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(/^resumed shop-eu \(stopped since \S+Z: HTTP 410 Gone/);
    expect(resumed.stdout).toContain('attempted again within 15 minutes');
    const status = await statusJson();
    expect(row(status, 'shop-eu')).toMatchObject({ stopped: false });
    expect(row(status, 'shop-eu')?.stoppedAt).toBeUndefined();
    const again = await cli('deliveries', 'resume', 'shop-eu', '--json');
    expect(JSON.parse(again.stdout)).toEqual({
      target: `local stack at ${stack.url}`,
      destination: 'shop-eu',
      resumed: false,
    });
    const unknown = await cli('deliveries', 'resume', 'shop-us');
    expect(unknown.code).toBe(1);
  });
});

it('fails clearly when no local stack runs for the data dir', async () => {
  const run = await runPayhookWith(
    { PAYHOOK_DATA_DIR: mkdtempSync(join(tmpdir(), 'payhook-nothing-')) },
    'deliveries',
    'status',
  );
  expect(run.code).toBe(1);
  expect(run.stderr).toMatch(
    /^error: no local payhook stack is running for data dir .*: start it with `npm start`/,
  );
});

// `--stack`: a deployed stack's destinations found by their outputs, as the CDK stack writes them (dashes dropped from
// the keys), its stop states in the payments table, read and deleted with the operator's credentials; all in moto.
describe.runIf(hasMotoServer)('payhook deliveries --stack against a deployed stack (moto_server)', () => {
  let moto: MotoServer;
  const remote = (...args: string[]) => runPayhookOnStack(moto.endpoint, 'shop-prod', ...args);

  beforeAll(async () => {
    moto = await startMotoServer();
    const sqs = new SQSClient({ ...moto.clientConfig, useQueueUrlAsEndpoint: false });
    const dynamo = new DynamoDBClient(moto.clientConfig);
    try {
      const queue = async (name: string) =>
        (await sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl ?? '';
      const queueUrl = await queue('shop-prod-payhook-deliveries-shop-eu');
      const deadLetterQueueUrl = await queue('shop-prod-payhook-deliveries-shop-eu-dlq');
      const tables = tableNames('shop-prod');
      await createTables(dynamo, tables);
      const record = {
        body: JSON.stringify({
          version: '0',
          id: 'eb-1',
          'detail-type': 'payment.refunded',
          source: 'payhook',
          time: '2026-11-30T10:00:00Z',
          detail: { id: 'evt-refund-1', gateway: 'stripe', reference: 'ORDER-9' },
        }),
        attributes: { ApproximateReceiveCount: '31' },
      } as unknown as SQSRecord;
      await new SqsDeliveryQueue(sqs).deadLetter(
        deadLetterQueueUrl,
        'shop-eu',
        record,
        {
          action: 'dead-letter',
          errorClass: 'retries_exhausted',
          reason: 'gave up after 31 attempt(s) over 24 h; last: HTTP 503',
          status: 503,
          answerStart: 'upstream down',
        },
        new Date(Date.now() - 60_000),
      );
      await new DynamoDestinationStates(createDocumentClient(dynamo), tables.payments).stop(
        'shop-eu',
        'HTTP 410 Gone: the endpoint asks for no more deliveries',
        new Date('2026-11-30T09:00:00Z'),
      );
      // Its breaker open too (it failed before the 410): status shows both.
      await new DynamoBreakerStates(createDocumentClient(dynamo), tables.payments).put(
        'shop-eu',
        {
          kind: 'open',
          openedAtMs: Date.parse('2026-11-30T08:50:00Z'),
          untilMs: Date.parse('2099-01-01T00:00:00Z'),
          opens: 1,
          reason: '20 consecutive failures',
        },
        0,
      );
      // The keys CloudFormation gives `DeliveryQueueUrl-shop-eu` and the rest: letters and digits only.
      await createStackWithOutputs(moto, 'shop-prod', {
        PaymentsTableName: tables.payments,
        DeliveryQueueUrlshopeu: queueUrl,
        DeliveryDlqUrlshopeu: deadLetterQueueUrl,
        DeliverySecretArnshopeu:
          'arn:aws:secretsmanager:us-east-1:123456789012:secret:shop-prod/destinations/shop-eu',
      });
    } finally {
      sqs.destroy();
      dynamo.destroy();
    }
  });

  afterAll(async () => {
    await moto?.stop();
  });

  it('finds the destination by its outputs, its name dashes and all, and shows its stop and dead letter', async () => {
    const run = await remote('deliveries', 'status', '--json');
    expect(run.code, run.stderr).toBe(0);
    const status = JSON.parse(run.stdout) as StatusJson;
    expect(status.target).toBe('stack shop-prod (us-east-1)');
    expect(status.destinations).toEqual([
      expect.objectContaining({
        destination: 'shop-eu',
        stopped: true,
        stoppedAt: '2026-11-30T09:00:00.000Z',
        breaker: expect.stringMatching(/^open until 2099-01-01T00:00:00.000Z, .*: 20 consecutive failures$/),
        deadLetters: 1,
        recentFailures: [expect.objectContaining({ errorClass: 'retries_exhausted', status: 503 })],
      }),
    ]);
    // moto keeps no SQS metrics: the age is unknown, and why is said, rather than the status failing.
    expect(status.destinations[0]?.oldestMessageAgeUnknown).toMatch(/CloudWatch/);

    const listed = JSON.parse((await remote('deliveries', 'list', 'shop-eu', '--json')).stdout) as ListJson;
    expect(listed.messages).toEqual([
      expect.objectContaining({
        eventType: 'payment.refunded',
        eventId: 'evt-refund-1',
        reference: 'ORDER-9',
        errorClass: 'retries_exhausted',
        status: 503,
        answerStart: 'upstream down',
        receiveCount: 31,
      }),
    ]);
  });

  it('resumes the destination by deleting its stop item with DeleteItem', async () => {
    const run = await remote('deliveries', 'resume', 'shop-eu');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^resumed shop-eu \(stopped since 2026-11-30T09:00:00\.000Z: HTTP 410 Gone/);
    const status = JSON.parse((await remote('deliveries', 'status', '--json')).stdout) as StatusJson;
    expect(status.destinations[0]).toMatchObject({ destination: 'shop-eu', stopped: false });
  });
});
