import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_SECRETS_FILE, devSecret, readSample, SIGNERS } from '../../events/index.js';
import type { PaymentView } from '../../local/contract.js';
import { type LocalStack, startLocalStack } from '../../local/stack.js';
import { hasMotoServer, type MotoServer, startMotoServer } from '../support/moto.js';

// Teams that already run LocalStack or moto point AWS_ENDPOINT_URL at it: the stack creates its tables and queues
// there instead of starting the embedded emulators.
describe.runIf(hasMotoServer)('Local stack on an external endpoint (moto_server)', () => {
  let moto: MotoServer;
  let stack: LocalStack;

  beforeAll(async () => {
    moto = await startMotoServer();
    stack = await startLocalStack({
      dataDir: mkdtempSync(join(tmpdir(), 'payhook-external-')),
      inMemory: true,
      port: 0,
      secretsFile: DEV_SECRETS_FILE,
      externalEndpoint: moto.endpoint,
      workersPerQueue: 1,
    });
  });

  afterAll(async () => {
    await stack?.stop({ drainTimeoutMs: 5000 });
    await moto?.stop();
  });

  it('uses the external endpoint for DynamoDB and SQS, and runs a webhook through to a payment', async () => {
    expect(stack.endpoints).toEqual({ sqs: moto.endpoint, dynamodb: moto.endpoint });
    const signed = SIGNERS.stripe(readSample('stripe', 'payment_intent.succeeded'), {
      secret: devSecret('stripe'),
    });
    const response = await fetch(`${stack.url}/webhooks/stripe`, {
      method: 'POST',
      headers: signed.headers,
      body: signed.body,
    });
    expect(response.status).toBe(200);
    const deadline = Date.now() + 15_000;
    let view: PaymentView | undefined;
    while (Date.now() < deadline && view?.status !== 'succeeded') {
      const found = await fetch(`${stack.url}/local/payments/stripe/ORDER-2001`);
      view = found.ok ? ((await found.json()) as PaymentView) : undefined;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect([view?.status, view?.amount, view?.currency]).toEqual(['succeeded', '49.99', 'USD']);
    // The queues and tables were created at moto, not in embedded emulators.
    const sqs = new SQSClient({ endpoint: moto.endpoint });
    const dynamo = new DynamoDBClient({ endpoint: moto.endpoint });
    try {
      const { QueueUrls = [] } = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: 'payhook-' }));
      expect(QueueUrls.map((url) => url.split('/').at(-1)).sort()).toEqual([
        'payhook-high',
        'payhook-high-dlq',
        'payhook-low',
        'payhook-low-dlq',
        'payhook-normal',
        'payhook-normal-dlq',
      ]);
      const { TableNames = [] } = await dynamo.send(new ListTablesCommand({}));
      expect(TableNames).toEqual(expect.arrayContaining(['payhook-payments', 'payhook-idempotency']));
    } finally {
      sqs.destroy();
      dynamo.destroy();
    }
  });
});
