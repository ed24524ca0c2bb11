import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_SECRETS_FILE, devSecret } from '../../events/index.js';
import { signPaystack } from '../../events/paystack/sign.js';
import { createDocumentClient } from '../../lambdas/common/aws-clients.js';
import { DEDUPE_WINDOW_SECONDS, MESSAGE_ATTRIBUTES } from '../../lambdas/definitions.js';
import { paidTotal } from '../../lambdas/domain/payment.js';
import { ADAPTERS } from '../../lambdas/gateways/registry.js';
import { parseGatewaySettings } from '../../lambdas/gateways/settings.js';
import { createIngestHandler } from '../../lambdas/intake/api-gateway.js';
import { SqsEventQueue } from '../../lambdas/intake/sqs-event-queue.js';
import { createConsumer } from '../../lambdas/processing/consumer.js';
import { FilePaymentEventPublisher, readPublishedEvents } from '../../lambdas/publishing/file-publisher.js';
import { FileSecretStore } from '../../lambdas/secrets/gateway-secrets.js';
import { DynamoEventRecords } from '../../lambdas/store/dynamodb-event-records.js';
import { DynamoPaymentStore } from '../../lambdas/store/dynamodb-payment-store.js';
import { DynamoUnmatchedEventStore } from '../../lambdas/store/dynamodb-unmatched-events.js';
import { lambdaContext } from '../../local/lambda-context.js';
import { pollOnce } from '../../local/sqs-event-source.js';
import { apiGatewayEvent, recordingLog } from '../support/api-gateway.js';
import { type DynamoEmulator, startDynamoEmulator } from '../support/dynamodb-emulator.js';
import {
  attribute,
  createPipelineQueues,
  drain,
  type SqsEmulator,
  startSqsEmulator,
} from '../support/sqs-emulator.js';

const POISON_DIR = fileURLToPath(new URL('../../events/poison/', import.meta.url));
let sqs: SqsEmulator;
let dynamo: DynamoEmulator;

beforeAll(async () => {
  [sqs, dynamo] = await Promise.all([startSqsEmulator(), startDynamoEmulator()]);
});

afterAll(async () => {
  await Promise.all([sqs?.stop(), dynamo?.stop()]);
});

describe('events/poison: the same event id with a different amount', () => {
  it('applies the first webhook, dead-letters the second with payload_mismatch, and keeps the first amount', async () => {
    const pipeline = await createPipelineQueues(sqs.client, 'poison');
    const tables = await dynamo.createTables('poison');
    const store = new DynamoPaymentStore(createDocumentClient(dynamo.client), {
      tableName: tables.payments,
      historyRetentionDays: 30,
    });
    const eventsFile = join(mkdtempSync(join(tmpdir(), 'payhook-poison-')), 'events.jsonl');
    const ingest = createIngestHandler(
      {
        adapters: ADAPTERS,
        settings: parseGatewaySettings(undefined),
        secrets: new FileSecretStore(DEV_SECRETS_FILE),
        queue: new SqsEventQueue(sqs.client, {
          queues: pipeline.queues,
          parking: pipeline.deadLetterQueues.low,
        }),
        maxBodyBytes: 262_144,
      },
      recordingLog(),
    );
    const consumer = createConsumer({
      apply: {
        store,
        unmatched: new DynamoUnmatchedEventStore(createDocumentClient(dynamo.client), {
          tableName: tables.payments,
          historyRetentionDays: 30,
        }),
        publisher: new FilePaymentEventPublisher(eventsFile),
        now: () => new Date(),
        keepPayload: false,
      },
      newIdempotencyStore: () =>
        new DynamoEventRecords(createDocumentClient(dynamo.client), {
          tableName: tables.payments,
          historyRetentionDays: 30,
        }),
      dedupeWindows: DEDUPE_WINDOW_SECONDS,
      sqs: sqs.client,
      queueUrl: pipeline.queues.high,
      deadLetterQueueUrl: pipeline.deadLetterQueues.high,
      maxReceiveCount: 8,
      log: recordingLog(),
    });
    const consume = () =>
      pollOnce(sqs.client, pipeline.queues.high, consumer, {
        batchSize: 10,
        context: (id) => lambdaContext('payhook-consumer-high', 30, id),
      });

    for (const file of [
      'paystack-amount-changed.1-original.json',
      'paystack-amount-changed.2-replayed.json',
    ]) {
      const signed = signPaystack(readFileSync(join(POISON_DIR, file), 'utf8'), {
        secret: devSecret('paystack'),
      });
      const response = await ingest(apiGatewayEvent('paystack', signed.body, { ...signed.headers }));
      expect(response.statusCode).toBe(200);
      await consume();
    }

    const [poisoned, ...others] = await drain(sqs.client, pipeline.deadLetterQueues.high);
    expect(others).toEqual([]);
    expect(poisoned && attribute(poisoned, MESSAGE_ATTRIBUTES.errorClass)).toBe('payload_mismatch');
    expect(poisoned && attribute(poisoned, MESSAGE_ATTRIBUTES.eventId)).toBe('charge.success:999001');
    const payment = await store.get('paystack', 'ORDER-POISON-1');
    expect([payment?.status, payment && paidTotal(payment)?.amountMinor]).toEqual(['succeeded', 250000n]);
    // One money-in fact, told by the first webhook only: the replay added nothing to it.
    expect(payment?.moneyIn.map((fact) => fact.eventIds)).toEqual([['charge.success:999001']]);
    expect((await readPublishedEvents(eventsFile)).map((record) => record.detailType)).toEqual([
      'payment.succeeded',
    ]);
  });
});
