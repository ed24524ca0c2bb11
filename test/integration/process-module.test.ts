import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  DRAINED_QUEUE_ENV,
  EVENT_BUS_ENV,
  IDEMPOTENCY_TABLE_ENV,
  PAYMENTS_TABLE_ENV,
} from '../../lambdas/definitions.js';
import { moneyFromMinor } from '../../lambdas/domain/money.js';
import { SqsEventQueue } from '../../lambdas/intake/sqs-event-queue.js';
import { readPublishedEvents } from '../../lambdas/publishing/file-publisher.js';
import { lambdaContext } from '../../local/lambda-context.js';
import { pollOnce } from '../../local/sqs-event-source.js';
import type { TableNames } from '../../local/tables.js';
import { type DynamoEmulator, startDynamoEmulator } from '../support/dynamodb-emulator.js';
import {
  createPipelineQueues,
  type PipelineQueues,
  type SqsEmulator,
  startSqsEmulator,
} from '../support/sqs-emulator.js';

// The deployed consumer entry point, loaded the way Lambda loads it: configuration from the environment.
let sqs: SqsEmulator;
let dynamo: DynamoEmulator;
let pipeline: PipelineQueues;
let tables: TableNames;
const eventsFile = join(mkdtempSync(join(tmpdir(), 'payhook-process-')), 'events.jsonl');

beforeAll(async () => {
  [sqs, dynamo] = await Promise.all([startSqsEmulator(), startDynamoEmulator()]);
  pipeline = await createPipelineQueues(sqs.client, 'process-module');
  tables = await dynamo.createTables('process-module');
});

afterAll(async () => {
  await Promise.all([sqs?.stop(), dynamo?.stop()]);
});

afterEach(() => {
  vi.unstubAllEnvs();
  vi.resetModules();
});

function stubConsumerEnv(): void {
  vi.stubEnv('AWS_ENDPOINT_URL_SQS', sqs.endpoint);
  vi.stubEnv('AWS_ENDPOINT_URL_DYNAMODB', dynamo.endpoint);
  vi.stubEnv(DRAINED_QUEUE_ENV.priority, 'high');
  vi.stubEnv(DRAINED_QUEUE_ENV.queueUrl, pipeline.queues.high);
  vi.stubEnv(DRAINED_QUEUE_ENV.deadLetterQueueUrl, pipeline.deadLetterQueues.high);
  vi.stubEnv(PAYMENTS_TABLE_ENV.tableName, tables.payments);
  vi.stubEnv(IDEMPOTENCY_TABLE_ENV.tableName, tables.idempotency);
  vi.stubEnv(EVENT_BUS_ENV.eventsFile, eventsFile);
}

describe('lambdas/process.ts', () => {
  it('builds its consumer from the environment and applies a queued event', async () => {
    stubConsumerEnv();
    const { handler } = await import('../../lambdas/process.js');
    await new SqsEventQueue(sqs.client, {
      queues: pipeline.queues,
      parking: pipeline.deadLetterQueues.low,
    }).enqueue([
      {
        gateway: 'stripe',
        eventId: 'evt_module_1',
        eventType: 'payment_intent.succeeded',
        kind: 'payment.succeeded',
        gatewayPaymentId: 'pi_module_1',
        money: moneyFromMinor('2000', 'USD'),
        mode: 'test',
        receivedAt: new Date().toISOString(),
        priority: 'high',
        requestId: 'req-module',
        payload: '{}',
      },
    ]);
    const result = await pollOnce(sqs.client, pipeline.queues.high, handler, {
      batchSize: 10,
      context: (id) => lambdaContext('payhook-consumer-high', 30, id),
    });
    expect(result).toEqual({ received: 1, failed: 0 });
    expect((await readPublishedEvents(eventsFile)).map((record) => record.detail)).toEqual([
      expect.objectContaining({
        to: 'succeeded',
        gatewayPaymentId: 'pi_module_1',
        amount: '2000',
        currency: 'USD',
      }),
    ]);
  });

  it.each([
    [
      'the priority is unknown',
      () => vi.stubEnv(DRAINED_QUEUE_ENV.priority, 'urgent'),
      /PAYHOOK_PRIORITY must be high, normal or low/,
    ],
    [
      'no publisher is configured',
      () => vi.stubEnv(EVENT_BUS_ENV.eventsFile, ''),
      /set PAYHOOK_EVENT_BUS_NAME \(AWS\) or PAYHOOK_EVENTS_FILE/,
    ],
    [
      'a table is missing',
      () => vi.stubEnv(PAYMENTS_TABLE_ENV.tableName, ''),
      /PAYHOOK_PAYMENTS_TABLE is required/,
    ],
    [
      'a dedupe window is shorter than a minute',
      () => vi.stubEnv(IDEMPOTENCY_TABLE_ENV.dedupeWindows, '{"stripe":5}'),
      /PAYHOOK_DEDUPE_WINDOWS.stripe must be whole seconds, at least 60/,
    ],
  ])('fails its cold start with a clear message when %s', async (_name, breakIt, message) => {
    stubConsumerEnv();
    breakIt();
    await expect(import('../../lambdas/process.js')).rejects.toThrow(message);
  });
});
