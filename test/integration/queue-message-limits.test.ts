import { createHmac } from 'node:crypto';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { Message, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_SECRETS_FILE, devSecret, readSample, SIGNERS } from '../../events/index.js';
import { createDocumentClient } from '../../lambdas/common/aws-clients.js';
import { createSqsClient } from '../../lambdas/composition/clients.js';
import { maxBodyBytesFromEnv } from '../../lambdas/composition/intake.js';
import {
  DEDUPE_WINDOW_SECONDS,
  DEFAULT_MAX_BODY_BYTES,
  MAX_BODY_BYTES_LIMIT,
  type Priority,
  QUEUE_MAX_MESSAGE_BYTES,
} from '../../lambdas/definitions.js';
import type { WebhookEvent } from '../../lambdas/domain/webhook-event.js';
import { ADAPTERS } from '../../lambdas/gateways/registry.js';
import { parseGatewaySettings } from '../../lambdas/gateways/settings.js';
import { createIngestHandler } from '../../lambdas/intake/api-gateway.js';
import { SqsEventQueue } from '../../lambdas/intake/sqs-event-queue.js';
import { readWebhookEventMessage } from '../../lambdas/messages/webhook-event-message.js';
import { createConsumer } from '../../lambdas/processing/consumer.js';
import { FileSecretStore } from '../../lambdas/secrets/gateway-secrets.js';
import { DynamoPaymentStore } from '../../lambdas/store/dynamodb-payment-store.js';
import { DynamoUnmatchedEventStore } from '../../lambdas/store/dynamodb-unmatched-events.js';
import { lambdaContext } from '../../local/lambda-context.js';
import { createPipelineQueues, type PipelineQueueUrls } from '../../local/queues.js';
import { queueArnOf, toLambdaRecord } from '../../local/sqs-event-source.js';
import { apiGatewayEvent, recordingLog } from '../support/api-gateway.js';
import { type DynamoEmulator, startDynamoEmulator } from '../support/dynamodb-emulator.js';
import { hasMotoServer, type MotoServer, startMotoServer } from '../support/moto.js';
import { drain, startSqsEmulator } from '../support/sqs-emulator.js';

// Every byte sequence a gateway can sign queues, parks and comes back byte-exact, and a body at the size limit fits
// one message, on both SQS emulators: fauxqs (in-process, the local stack's; it also refuses characters above U+FFFF)
// and moto_server.

const silentPublisher = { publish: async () => undefined };

interface Emulator {
  readonly client: SQSClient;
  stop(): Promise<void>;
}

const EMULATORS: readonly (readonly [string, () => Promise<Emulator>])[] = [
  ['fauxqs', startSqsEmulator],
  ...(hasMotoServer
    ? [
        [
          'moto_server',
          async (): Promise<Emulator> => {
            const moto: MotoServer = await startMotoServer();
            const client = createSqsClient('ingest', { AWS_ENDPOINT_URL_SQS: moto.endpoint });
            return {
              client,
              async stop() {
                client.destroy();
                await moto.stop();
              },
            };
          },
        ] as const,
      ]
    : []),
];

let dynamo: DynamoEmulator;
let tableCount = 0;

beforeAll(async () => {
  dynamo = await startDynamoEmulator();
});

afterAll(async () => {
  await dynamo?.stop();
});

/** A Paystack signature over exact bytes (the sample signers take text). */
function paystackHeaders(bytes: Buffer): Record<string, string> {
  return {
    'content-type': 'application/json',
    'x-paystack-signature': createHmac('sha512', devSecret('paystack')).update(bytes).digest('hex'),
  };
}

/** A Paystack charge.success padded with `filler` in the customer's name to exactly `bytes` bytes. */
function paystackBodyOf(bytes: number, reference: string, filler: string): Buffer {
  const sample = JSON.parse(readSample('paystack', 'charge.success')) as {
    data: { id: number; reference: string; customer: { first_name: string } };
  };
  // Its own transaction (the event id is Paystack's), so no test's event is a duplicate of another's.
  sample.data.id = bytes;
  sample.data.reference = reference;
  sample.data.customer.first_name = '';
  const base = Buffer.byteLength(JSON.stringify(sample));
  // The filler needs no JSON escaping, so each copy adds its UTF-8 length; ASCII tops up to the exact size.
  const each = Buffer.byteLength(filler);
  const copies = Math.floor((bytes - base) / each);
  const name = filler.repeat(copies) + 'x'.repeat(bytes - base - copies * each);
  sample.data.customer.first_name = name;
  const body = Buffer.from(JSON.stringify(sample), 'utf8');
  expect(body.length).toBe(bytes);
  return body;
}

describe.each(EMULATORS)('%s: every signed byte sequence queues and comes back exact', (_name, start) => {
  let emulator: Emulator;
  let pipeline: PipelineQueueUrls;
  let store: DynamoPaymentStore;
  let consume: (messages: readonly Message[], priority: Priority) => Promise<number>;

  beforeAll(async () => {
    emulator = await start();
    tableCount += 1;
    pipeline = await createPipelineQueues(emulator.client, `limits${tableCount}`);
    const tables = await dynamo.createTables(`limits-${tableCount}`);
    const documents = createDocumentClient(dynamo.client);
    store = new DynamoPaymentStore(documents, { tableName: tables.payments, historyRetentionDays: 30 });
    const unmatched = new DynamoUnmatchedEventStore(documents, {
      tableName: tables.payments,
      historyRetentionDays: 30,
    });
    consume = async (messages, priority) => {
      const consumer = createConsumer({
        apply: { store, unmatched, publisher: silentPublisher, now: () => new Date(), keepPayload: false },
        newIdempotencyStore: () =>
          new DynamoDBPersistenceLayer({ tableName: tables.idempotency, awsSdkV3Client: dynamo.client }),
        dedupeWindows: DEDUPE_WINDOW_SECONDS,
        sqs: emulator.client,
        queueUrl: pipeline.queues[priority],
        deadLetterQueueUrl: pipeline.deadLetterQueues[priority],
        maxReceiveCount: 5,
        log: recordingLog(),
      });
      const arn = queueArnOf(pipeline.queues[priority]);
      const answer = await consumer(
        { Records: messages.map((message) => toLambdaRecord(message, arn)) },
        lambdaContext('payhook-consumer-test', 30, 'limits'),
      );
      return answer.batchItemFailures.length;
    };
  }, 60_000);

  afterAll(async () => {
    await emulator?.stop();
  });

  function ingest(maxBodyBytes = DEFAULT_MAX_BODY_BYTES) {
    return createIngestHandler(
      {
        adapters: ADAPTERS,
        settings: parseGatewaySettings(undefined),
        secrets: new FileSecretStore(DEV_SECRETS_FILE),
        queue: new SqsEventQueue(emulator.client, {
          queues: pipeline.queues,
          parking: pipeline.deadLetterQueues.low,
        }),
        maxBodyBytes,
      },
      recordingLog(),
    );
  }

  async function post(
    gateway: string,
    bytes: Buffer,
    headers: Record<string, string>,
    maxBodyBytes?: number,
  ) {
    const event = {
      ...apiGatewayEvent(gateway, bytes.toString('base64'), headers),
      isBase64Encoded: true,
    };
    return ingest(maxBodyBytes)(event);
  }

  it('queues characters SQS refuses (U+FFFF, U+FFFE, emoji, a \\uffff escape in the reference) and applies them', async () => {
    const body = Buffer.from(
      readSample('paystack', 'charge.success')
        .replace('"ORDER-1001"', '"ORDER-\\uffff-1"')
        .replace('302961', '302962')
        .replace('"Ada"', '"Ada \uffff \ufffe 😀 \\u0007"'),
      'utf8',
    );
    const answer = await post('paystack', body, paystackHeaders(body));
    expect(answer.statusCode).toBe(200);
    const [message, ...others] = await drain(emulator.client, pipeline.queues.high);
    expect(others).toEqual([]);
    if (!message?.Body) throw new Error('nothing queued');
    const event = readWebhookEventMessage(message.Body);
    expect(Buffer.from(event.payload, 'utf8')).toEqual(body);
    expect(event.reference).toBe('ORDER-\uffff-1');
    expect(await consume([message], 'high')).toBe(0);
    expect((await store.get('paystack', 'ORDER-\uffff-1'))?.status).toBe('succeeded');
  });

  it('keeps a byte-order mark: the payload is every byte that was signed', async () => {
    const body = Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      Buffer.from(
        readSample('paystack', 'charge.success')
          .replace('ORDER-1001', 'ORDER-BOM-1')
          .replace('302961', '302963'),
        'utf8',
      ),
    ]);
    expect((await post('paystack', body, paystackHeaders(body))).statusCode).toBe(200);
    const [message] = await drain(emulator.client, pipeline.queues.high);
    if (!message?.Body) throw new Error('nothing queued');
    expect(Buffer.from(readWebhookEventMessage(message.Body).payload, 'utf8')).toEqual(body);
  });

  it.each([
    ['the default limit', DEFAULT_MAX_BODY_BYTES],
    ['the largest limit allowed', MAX_BODY_BYTES_LIMIT],
  ])(
    'queues and applies a body of exactly %s, full of characters that escape badly',
    async (_what, limit) => {
      const reference = `ORDER-LIMIT-${limit}`;
      const body = paystackBodyOf(limit, reference, '中\uffff😀');
      expect((await post('paystack', body, paystackHeaders(body), limit)).statusCode).toBe(200);
      const messages = await drain(emulator.client, pipeline.queues.high);
      expect(messages).toHaveLength(1);
      expect(Buffer.byteLength(messages[0]?.Body ?? '')).toBeLessThan(QUEUE_MAX_MESSAGE_BYTES);
      expect(await consume(messages, 'high')).toBe(0);
      expect((await store.get('paystack', reference))?.status).toBe('succeeded');
      // One byte more is refused before anything is queued.
      const over = paystackBodyOf(limit + 1, reference, '中');
      expect((await post('paystack', over, paystackHeaders(over), limit)).statusCode).toBe(413);
    },
  );

  it.each([
    [
      'text that escapes to twice its size',
      Buffer.from('中'.repeat(Math.floor(MAX_BODY_BYTES_LIMIT / 3)), 'utf8'),
    ],
    ['bytes that are not UTF-8', Buffer.alloc(MAX_BODY_BYTES_LIMIT, 0xff)],
    ['U+FFFF and emoji', Buffer.from('\uffff😀'.repeat(Math.floor(MAX_BODY_BYTES_LIMIT / 7)), 'utf8')],
  ])('parks a signed body it cannot read at the size limit (%s), byte-exact', async (_what, body) => {
    expect((await post('paystack', body, paystackHeaders(body), MAX_BODY_BYTES_LIMIT)).statusCode).toBe(200);
    const [parked, ...others] = await drain(emulator.client, pipeline.deadLetterQueues.low);
    expect(others).toEqual([]);
    const message = JSON.parse(parked?.Body ?? '{}') as { payload: string; payloadEncoding: string };
    const bytes =
      message.payloadEncoding === 'base64'
        ? Buffer.from(message.payload, 'base64')
        : Buffer.from(message.payload, 'utf8');
    expect(bytes).toEqual(body);
  });

  it('queues the first 100 distinct items of an Adyen batch once each, and parks the rest as one batch_too_large', async () => {
    const sample = JSON.parse(readSample('adyen', 'AUTHORISATION')) as {
      notificationItems: { NotificationRequestItem: Record<string, unknown> }[];
    };
    const template = sample.notificationItems[0]?.NotificationRequestItem;
    const distinct = Array.from({ length: 120 }, (_, index) => ({
      NotificationRequestItem: { ...template, pspReference: `BATCH${String(index).padStart(11, '0')}` },
    }));
    // Every distinct item three times over: a replayed batch.
    const batch = { live: 'false', notificationItems: [...distinct, ...distinct, ...distinct] };
    const signed = SIGNERS.adyen(JSON.stringify(batch), { secret: devSecret('adyen') });
    const answer = await post('adyen', Buffer.from(signed.body, 'utf8'), signed.headers);
    expect([answer.statusCode, answer.body]).toEqual([200, '[accepted]']);
    const queued = (
      await Promise.all(
        (['high', 'normal', 'low'] as const).map((priority) =>
          drain(emulator.client, pipeline.queues[priority]),
        ),
      )
    ).flat();
    expect(new Set(queued.map((message) => readWebhookEventMessage(message.Body ?? '').eventId)).size).toBe(
      100,
    );
    expect(queued).toHaveLength(100);
    const parked = await drain(emulator.client, pipeline.deadLetterQueues.low);
    expect(parked.map((message) => message.MessageAttributes?.errorClass?.StringValue)).toEqual([
      'batch_too_large',
    ]);
    const rest = JSON.parse(
      (JSON.parse(parked[0]?.Body ?? '{}') as { payload: string }).payload,
    ) as typeof batch;
    expect(rest.notificationItems).toHaveLength(20);
  });

  it('parks an event whose reference no DynamoDB key can hold as key_too_large, and queues nothing', async () => {
    const body = Buffer.from(
      readSample('paystack', 'charge.success')
        .replace('"ORDER-1001"', `"${'R'.repeat(3000)}"`)
        .replace('302961', '302964'),
      'utf8',
    );
    expect((await post('paystack', body, paystackHeaders(body))).statusCode).toBe(200);
    expect(await drain(emulator.client, pipeline.queues.high)).toEqual([]);
    const parked = await drain(emulator.client, pipeline.deadLetterQueues.low);
    expect(parked.map((message) => message.MessageAttributes?.errorClass?.StringValue)).toEqual([
      'key_too_large',
    ]);
    expect(Buffer.from((JSON.parse(parked[0]?.Body ?? '{}') as { payload: string }).payload, 'utf8')).toEqual(
      body,
    );
  });

  it('dead-letters at once, as invalid_data, an event DynamoDB refuses (a key too long), instead of retrying it', async () => {
    // Queued before ingest checked key sizes (or sent by hand): DynamoDB refuses its key on every try.
    // 2,040 characters (the message reader takes up to 2,048): the payment's key is over DynamoDB's 2,048 bytes (the
    // emulator counts characters, so the test keeps to ASCII).
    const event: WebhookEvent = {
      gateway: 'paystack',
      eventId: 'charge.success:302965',
      eventType: 'charge.success',
      kind: 'payment.succeeded',
      reference: 'R'.repeat(2040),
      mode: 'live',
      receivedAt: new Date().toISOString(),
      priority: 'normal',
      requestId: 'old-request',
      payload: '{}',
    };
    await new SqsEventQueue(emulator.client, { queues: pipeline.queues }).enqueue([event]);
    const messages = await drain(emulator.client, pipeline.queues.normal);
    expect(await consume(messages, 'normal')).toBe(0);
    const dead = await drain(emulator.client, pipeline.deadLetterQueues.normal);
    expect(dead.map((message) => message.MessageAttributes?.errorClass?.StringValue)).toEqual([
      'invalid_data',
    ]);
  });

  it('queues and applies every item of an Adyen batch at the size limit', async () => {
    const batch = JSON.parse(readSample('adyen', 'batch')) as {
      notificationItems: { NotificationRequestItem: { additionalData: Record<string, string> } }[];
    };
    const first = batch.notificationItems[0]?.NotificationRequestItem;
    if (!first) throw new Error('empty sample batch');
    first.additionalData.note = '';
    const signedOnce = SIGNERS.adyen(JSON.stringify(batch), { secret: devSecret('adyen') }).body;
    const room = MAX_BODY_BYTES_LIMIT - Buffer.byteLength(signedOnce);
    // Unsigned additional data (Adyen's HMAC covers the item's fixed fields), escaping to six bytes per three.
    first.additionalData.note = '中'.repeat(Math.floor(room / 3));
    const signed = SIGNERS.adyen(JSON.stringify(batch), { secret: devSecret('adyen') });
    const body = Buffer.from(signed.body, 'utf8');
    expect(body.length).toBeLessThanOrEqual(MAX_BODY_BYTES_LIMIT);
    expect(body.length).toBeGreaterThan(MAX_BODY_BYTES_LIMIT - 3);
    expect((await post('adyen', body, signed.headers, MAX_BODY_BYTES_LIMIT)).statusCode).toBe(200);
    const queued = [
      ...(await drain(emulator.client, pipeline.queues.high)),
      ...(await drain(emulator.client, pipeline.queues.normal)),
      ...(await drain(emulator.client, pipeline.queues.low)),
    ];
    expect(queued).toHaveLength(batch.notificationItems.length);
    for (const message of queued) {
      const { priority } = readWebhookEventMessage(message.Body ?? '');
      expect(await consume([message], priority)).toBe(0);
    }
  });
});

describe('PAYHOOK_MAX_BODY_BYTES', () => {
  it('refuses a limit whose bodies might not fit one queue message, naming the largest allowed', () => {
    expect(maxBodyBytesFromEnv({})).toBe(DEFAULT_MAX_BODY_BYTES);
    expect(maxBodyBytesFromEnv({ PAYHOOK_MAX_BODY_BYTES: String(MAX_BODY_BYTES_LIMIT) })).toBe(
      MAX_BODY_BYTES_LIMIT,
    );
    expect(() => maxBodyBytesFromEnv({ PAYHOOK_MAX_BODY_BYTES: String(MAX_BODY_BYTES_LIMIT + 1) })).toThrow(
      new RegExp(`at most ${MAX_BODY_BYTES_LIMIT} bytes`),
    );
  });
});
