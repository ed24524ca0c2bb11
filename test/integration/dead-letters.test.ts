import { randomUUID } from 'node:crypto';
import {
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  purge,
  queueStatus,
  readDeadLetters,
  redrive,
  showDeadLetter,
  summarise,
} from '../../cli/oncall/dead-letters.js';
import type { DeadLetterFilter, QueuePair } from '../../cli/oncall/types.js';
import { createDocumentClient } from '../../lambdas/common/aws-clients.js';
import { createSqsClient } from '../../lambdas/composition/clients.js';
import {
  DEDUPE_WINDOW_SECONDS,
  MESSAGE_ATTRIBUTES,
  PRIORITIES,
  PRIORITY_QUEUES,
  type Priority,
} from '../../lambdas/definitions.js';
import { moneyFromMinor } from '../../lambdas/domain/money.js';
import type { GatewayName, WebhookEvent } from '../../lambdas/domain/webhook-event.js';
import { SqsEventQueue } from '../../lambdas/intake/sqs-event-queue.js';
import { unparseableWebhook } from '../../lambdas/intake/unparseable-webhook.js';
import { writeWebhookEventMessage } from '../../lambdas/messages/webhook-event-message.js';
import { createConsumer } from '../../lambdas/processing/consumer.js';
import { DynamoEventRecords } from '../../lambdas/store/dynamodb-event-records.js';
import { DynamoPaymentStore } from '../../lambdas/store/dynamodb-payment-store.js';
import { DynamoUnmatchedEventStore } from '../../lambdas/store/dynamodb-unmatched-events.js';
import { lambdaContext } from '../../local/lambda-context.js';
import { pollOnce } from '../../local/sqs-event-source.js';
import { recordingLog } from '../support/api-gateway.js';
import { type DynamoEmulator, startDynamoEmulator } from '../support/dynamodb-emulator.js';
import {
  attribute,
  createPipelineQueues,
  drain,
  type PipelineQueues,
  type SqsEmulator,
  startSqsEmulator,
} from '../support/sqs-emulator.js';

let sqs: SqsEmulator;
let dynamo: DynamoEmulator;

beforeAll(async () => {
  [sqs, dynamo] = await Promise.all([startSqsEmulator(), startDynamoEmulator()]);
});

afterAll(async () => {
  await Promise.all([sqs?.stop(), dynamo?.stop()]);
});

interface Pipeline {
  readonly urls: PipelineQueues;
  readonly pairs: QueuePair[];
}

/** Fresh queues per test, so each one counts only its own messages. */
async function pipeline(): Promise<Pipeline> {
  const urls = await createPipelineQueues(sqs.client, `dlq-${randomUUID().slice(0, 8)}`);
  return {
    urls,
    pairs: PRIORITIES.map((priority) => ({
      priority,
      queueUrl: urls.queues[priority],
      deadLetterQueueUrl: urls.deadLetterQueues[priority],
    })),
  };
}

let counter = 0;
function webhookEvent(overrides: Partial<WebhookEvent> = {}): WebhookEvent {
  counter += 1;
  return {
    gateway: 'paystack',
    eventId: `evt-${counter}-${randomUUID().slice(0, 6)}`,
    eventType: 'charge.success',
    kind: 'payment.succeeded',
    reference: `ORDER-${counter}`,
    money: moneyFromMinor('250000', 'NGN'),
    mode: 'test',
    receivedAt: new Date().toISOString(),
    priority: 'high',
    requestId: `req-${counter}`,
    payload: '{"event":"charge.success"}',
    ...overrides,
  };
}

interface LetterSpec {
  readonly queue: Priority;
  readonly gateway?: GatewayName;
  readonly eventType?: string;
  readonly errorClass?: string;
  /** Hours before now it first failed. */
  readonly hoursAgo?: number;
  readonly payload?: string;
}

/** The attributes ingest gives a queued event (what `SqsEventQueue` writes). */
function ingestAttributes(event: WebhookEvent): Record<string, string> {
  return {
    messageType: 'webhook-event',
    gateway: event.gateway,
    eventType: event.eventType,
    eventId: event.eventId,
    kind: event.kind,
    priority: event.priority,
    requestId: event.requestId,
  };
}

interface PutLetter {
  readonly messageId: string;
  readonly event: WebhookEvent;
}

/** A dead letter as the consumer writes one (its `deadLetter`), put straight on the dead-letter queue. */
async function putDeadLetter(pipe: Pipeline, spec: LetterSpec): Promise<PutLetter> {
  const event = webhookEvent({
    gateway: spec.gateway ?? 'paystack',
    eventType: spec.eventType ?? 'charge.success',
    priority: spec.queue,
    ...(spec.payload !== undefined && { payload: spec.payload }),
  });
  const original = ingestAttributes(event);
  const text = (value: string) => ({ DataType: 'String', StringValue: value });
  const { MessageId } = await sqs.client.send(
    new SendMessageCommand({
      QueueUrl: pipe.urls.deadLetterQueues[spec.queue],
      MessageBody: writeWebhookEventMessage(event).body,
      MessageAttributes: {
        errorClass: text(spec.errorClass ?? 'payload_mismatch'),
        errorMessage: text(`failed: ${event.eventId}`),
        firstFailedAt: text(new Date(Date.now() - (spec.hoursAgo ?? 1) * 3_600_000).toISOString()),
        receiveCount: { DataType: 'Number', StringValue: '3' },
        originalAttributes: text(JSON.stringify(original)),
        messageType: text(original.messageType ?? ''),
        gateway: text(event.gateway),
        eventType: text(event.eventType),
        eventId: text(event.eventId),
      },
    }),
  );
  if (!MessageId) throw new Error('SendMessage returned no id');
  return { messageId: MessageId, event };
}

async function receiveAll(queueUrl: string): Promise<Message[]> {
  const { Messages = [] } = await sqs.client.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      VisibilityTimeout: 0,
      MessageAttributeNames: ['All'],
    }),
  );
  return Messages;
}

async function counts(queueUrl: string): Promise<{ visible: number; inFlight: number }> {
  const { Attributes = {} } = await sqs.client.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return {
    visible: Number(Attributes.ApproximateNumberOfMessages),
    inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible),
  };
}

/** Every dead-letter queue's counts, by priority. */
async function deadLetterCounts(pipe: Pipeline) {
  const result: Record<string, { visible: number; inFlight: number }> = {};
  for (const priority of PRIORITIES) result[priority] = await counts(pipe.urls.deadLetterQueues[priority]);
  return result;
}

const eventIdOf = (message: Message) => JSON.parse(String(message.Body)).eventId as string;

describe('readDeadLetters', () => {
  it('reads every message of every dead-letter queue, page after page, and leaves all of them visible', async () => {
    const pipe = await pipeline();
    const spread: Record<Priority, number> = { high: 12, normal: 8, low: 5 };
    const sent: string[] = [];
    for (const queue of PRIORITIES) {
      for (let index = 0; index < spread[queue]; index += 1) {
        sent.push((await putDeadLetter(pipe, { queue, hoursAgo: index })).messageId);
      }
    }

    const first = await readDeadLetters(sqs.client, pipe.pairs, {}, new Date());
    expect(first.letters.map((letter) => letter.messageId).sort()).toEqual([...sent].sort());
    expect([...first.raw.keys()].sort()).toEqual([...sent].sort());
    expect(await deadLetterCounts(pipe)).toEqual({
      high: { visible: 12, inFlight: 0 },
      normal: { visible: 8, inFlight: 0 },
      low: { visible: 5, inFlight: 0 },
    });
    // Oldest failure first.
    const times = first.letters.map((letter) => Date.parse(letter.firstFailedAt));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    const again = await readDeadLetters(sqs.client, pipe.pairs, {}, new Date());
    expect(again.letters).toHaveLength(25);
  });

  it('describes what the consumer, ingest and SQS itself dead-letter, each from its own record', async () => {
    const pipe = await pipeline();
    const queue = new SqsEventQueue(sqs.client, {
      queues: pipe.urls.queues,
      parking: pipe.urls.deadLetterQueues.low,
    });
    const tables = await dynamo.createTables(`dlq-${randomUUID().slice(0, 8)}`);

    // The consumer, on its last allowed receive, with the reason.
    const failing = webhookEvent({ reference: 'ORDER-CONSUMER', gatewayPaymentId: 'psp-1' });
    await queue.enqueue([failing]);
    const consumer = createConsumer({
      apply: {
        store: new DynamoPaymentStore(createDocumentClient(dynamo.client), {
          tableName: tables.payments,
          historyRetentionDays: 30,
        }),
        unmatched: new DynamoUnmatchedEventStore(createDocumentClient(dynamo.client), {
          tableName: tables.payments,
          historyRetentionDays: 30,
        }),
        publisher: {
          async publish() {
            throw Object.assign(new Error('EventBridge unavailable'), { name: 'InternalException' });
          },
        },
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
      queueUrl: pipe.urls.queues.high,
      deadLetterQueueUrl: pipe.urls.deadLetterQueues.high,
      maxReceiveCount: 1,
      log: recordingLog(),
      retryDelay: () => 0,
    });
    await pollOnce(sqs.client, pipe.urls.queues.high, consumer, {
      batchSize: 10,
      context: (requestId) => lambdaContext('payhook-dlq-test', 30, requestId),
    });

    // Ingest, parking a validly signed webhook it could not read.
    await queue.park(
      unparseableWebhook(
        'stripe',
        {
          headers: { 'content-type': 'application/json' },
          body: Buffer.from('{not json'),
          receivedAt: new Date(),
          requestId: 'req-parked',
        },
        { reason: 'body is not JSON', payload: '{not json' },
      ),
    );

    // SQS itself, after maxReceiveCount receives that never finished (a crash or a timeout).
    const crashed = webhookEvent({
      priority: 'normal',
      eventType: 'charge.pending',
      kind: 'payment.pending',
    });
    await queue.enqueue([crashed]);
    const firstReceive = Date.now();
    for (let receive = 0; receive <= PRIORITY_QUEUES.normal.maxReceiveCount; receive += 1) {
      await sqs.client.send(
        new ReceiveMessageCommand({ QueueUrl: pipe.urls.queues.normal, VisibilityTimeout: 0 }),
      );
    }

    const now = new Date(Date.now() + 60_000);
    const { letters } = await readDeadLetters(sqs.client, pipe.pairs, {}, now);
    const byQueue = Object.fromEntries(letters.map((letter) => [letter.queue, letter]));
    expect(letters).toHaveLength(3);
    expect(byQueue.high).toMatchObject({
      gateway: 'paystack',
      eventType: 'charge.success',
      eventId: failing.eventId,
      reference: 'ORDER-CONSUMER',
      errorClass: 'retries_exhausted',
      errorMessage: 'InternalException: EventBridge unavailable',
      receiveCount: 1,
    });
    expect(byQueue.low).toMatchObject({
      gateway: 'stripe',
      errorClass: 'unparseable_payload',
      errorMessage: 'body is not JSON',
      receiveCount: 0,
    });
    expect(byQueue.low?.eventType).toBeUndefined();
    expect(byQueue.normal).toMatchObject({
      gateway: 'paystack',
      eventType: 'charge.pending',
      eventId: crashed.eventId,
      reference: crashed.reference,
      errorClass: 'exhausted_without_report',
      receiveCount: PRIORITY_QUEUES.normal.maxReceiveCount,
    });
    expect(byQueue.normal?.errorMessage).toBeUndefined();
    // First failed when it was first received; the age runs from there to `now`.
    expect(Math.abs(Date.parse(byQueue.normal?.firstFailedAt ?? '') - firstReceive)).toBeLessThan(2_000);
    expect(byQueue.normal?.ageSeconds).toBeGreaterThanOrEqual(58);
    expect(byQueue.normal?.ageSeconds).toBeLessThanOrEqual(62);
  });

  describe('filters', () => {
    let pipe: Pipeline;
    const ids: Record<string, string> = {};

    beforeAll(async () => {
      pipe = await pipeline();
      const specs: Record<string, LetterSpec> = {
        highPaystackMismatch: { queue: 'high', errorClass: 'payload_mismatch', hoursAgo: 30 },
        highStripeExhausted: {
          queue: 'high',
          gateway: 'stripe',
          eventType: 'payment_intent.succeeded',
          errorClass: 'retries_exhausted',
          hoursAgo: 5,
        },
        normalPaystackImpossible: {
          queue: 'normal',
          eventType: 'charge.failed',
          errorClass: 'impossible_event',
          hoursAgo: 2,
        },
        lowAdyenInvalid: {
          queue: 'low',
          gateway: 'adyen',
          eventType: 'REPORT_AVAILABLE',
          errorClass: 'invalid_message',
          hoursAgo: 48,
        },
        lowPaystackMismatch: { queue: 'low', errorClass: 'payload_mismatch', hoursAgo: 1 },
      };
      for (const [name, spec] of Object.entries(specs))
        ids[name] = (await putDeadLetter(pipe, spec)).messageId;
    });

    const hours = (count: number) => new Date(Date.now() - count * 3_600_000);
    it.each<[string, DeadLetterFilter, string[]]>([
      [
        'no filter',
        {},
        [
          'lowAdyenInvalid',
          'highPaystackMismatch',
          'highStripeExhausted',
          'normalPaystackImpossible',
          'lowPaystackMismatch',
        ],
      ],
      [
        'queue',
        { queues: ['high', 'low'] },
        ['lowAdyenInvalid', 'highPaystackMismatch', 'highStripeExhausted', 'lowPaystackMismatch'],
      ],
      [
        'gateway',
        { gateway: 'paystack' },
        ['highPaystackMismatch', 'normalPaystackImpossible', 'lowPaystackMismatch'],
      ],
      ['event type', { eventType: 'charge.failed' }, ['normalPaystackImpossible']],
      ['error class', { errorClass: 'payload_mismatch' }, ['highPaystackMismatch', 'lowPaystackMismatch']],
      [
        'since',
        { since: hours(6) },
        ['highStripeExhausted', 'normalPaystackImpossible', 'lowPaystackMismatch'],
      ],
      [
        'all of them at once',
        { queues: ['low'], gateway: 'paystack', errorClass: 'payload_mismatch', since: hours(3) },
        ['lowPaystackMismatch'],
      ],
      ['nothing matching', { gateway: 'razorpay' }, []],
    ])('by %s', async (_name, filter, expected) => {
      const { letters, raw } = await readDeadLetters(sqs.client, pipe.pairs, filter, new Date());
      expect(letters.map((letter) => letter.messageId)).toEqual(expected.map((name) => ids[name]));
      expect(raw.size).toBe(expected.length);
      expect((await deadLetterCounts(pipe)).high).toEqual({ visible: 2, inFlight: 0 });
    });

    it('summarises by queue, gateway, event type and error class, with the oldest and newest failure', async () => {
      const extra = await putDeadLetter(pipe, { queue: 'low', errorClass: 'payload_mismatch', hoursAgo: 10 });
      const { letters } = await readDeadLetters(sqs.client, pipe.pairs, {}, new Date());
      const groups = summarise(letters);
      expect(
        groups.map((group) => [group.queue, group.gateway, group.eventType, group.errorClass, group.count]),
      ).toEqual([
        ['high', 'paystack', 'charge.success', 'payload_mismatch', 1],
        ['high', 'stripe', 'payment_intent.succeeded', 'retries_exhausted', 1],
        ['normal', 'paystack', 'charge.failed', 'impossible_event', 1],
        ['low', 'paystack', 'charge.success', 'payload_mismatch', 2],
        ['low', 'adyen', 'REPORT_AVAILABLE', 'invalid_message', 1],
      ]);
      const lowMismatch = groups[3];
      const letterOf = (id: string | undefined) => letters.find((letter) => letter.messageId === id);
      expect(lowMismatch?.oldest).toBe(letterOf(extra.messageId)?.firstFailedAt);
      expect(lowMismatch?.newest).toBe(letterOf(ids.lowPaystackMismatch)?.firstFailedAt);
    });
  });
});

describe('showDeadLetter', () => {
  const secretPayload = JSON.stringify({
    event: 'charge.success',
    signature: 'sha512=deadbeefcafe',
    data: {
      customer: { email: 'ada.lovelace@example.com', phone: '+2348031234567' },
      card: { number: '4111111111111111', last4: '1111' },
      authorization: { authorization_code: 'AUTH_abc123' },
      amount: 250000,
    },
  });

  it('shows the whole message with the payload masked, the attributes unpacked, and no secret', async () => {
    const pipe = await pipeline();
    const { messageId, event } = await putDeadLetter(pipe, { queue: 'high', payload: secretPayload });
    const detail = await showDeadLetter(sqs.client, pipe.pairs, messageId, new Date());
    expect(detail).toMatchObject({
      messageId,
      queue: 'high',
      errorClass: 'payload_mismatch',
      errorMessage: `failed: ${event.eventId}`,
      receiveCount: 3,
      reference: event.reference,
      attributes: ingestAttributes(event),
      body: {
        messageType: 'webhook-event',
        eventId: event.eventId,
        reference: event.reference,
        money: { amountMinor: '250000', currency: 'NGN' },
        payload: {
          event: 'charge.success',
          signature: '[redacted]',
          data: {
            customer: { email: 'a***@example.com' },
            card: { number: '************1111', last4: '1111' },
            authorization: '[redacted]',
            amount: 250000,
          },
        },
      },
    });
    expect(detail?.attributes).not.toHaveProperty('errorClass');
    expect(detail?.deadLetteredAt).toMatch(/^\d{4}-/);
    const printed = JSON.stringify(detail);
    for (const secret of ['ada.lovelace', '4111111111111111', 'deadbeef', 'AUTH_abc123'])
      expect(printed).not.toContain(secret);
    expect((await deadLetterCounts(pipe)).high).toEqual({ visible: 1, inFlight: 0 });
  });

  it.each([
    [
      'a form-encoded body',
      'email=ada%40example.com&card=4111-1111-1111-1111',
      'email=a***%40example.com&card=****-****-****-1111',
    ],
    [
      'plain text',
      'Card 4111 1111 1111 1111 for bob@example.org',
      'Card **** **** **** 1111 for b***@example.org',
    ],
  ])('masks %s that is not JSON', async (_name, payload, shown) => {
    const pipe = await pipeline();
    const { messageId } = await putDeadLetter(pipe, { queue: 'normal', payload });
    const detail = await showDeadLetter(sqs.client, pipe.pairs, messageId, new Date());
    expect(detail?.body).toMatchObject({ payload: shown });
  });

  it('answers undefined for a message no queue holds', async () => {
    const pipe = await pipeline();
    await putDeadLetter(pipe, { queue: 'low' });
    expect(await showDeadLetter(sqs.client, pipe.pairs, randomUUID(), new Date())).toBeUndefined();
    expect((await deadLetterCounts(pipe)).low).toEqual({ visible: 1, inFlight: 0 });
  });
});

describe('redrive', () => {
  it('moves exactly the matching messages to their source queue with only their original attributes', async () => {
    const pipe = await pipeline();
    const moving = [
      await putDeadLetter(pipe, { queue: 'high', errorClass: 'retries_exhausted' }),
      await putDeadLetter(pipe, { queue: 'normal', errorClass: 'retries_exhausted' }),
      await putDeadLetter(pipe, { queue: 'high', errorClass: 'retries_exhausted' }),
    ];
    const staying = [
      await putDeadLetter(pipe, { queue: 'high', errorClass: 'payload_mismatch' }),
      await putDeadLetter(pipe, { queue: 'normal', gateway: 'stripe', errorClass: 'invalid_message' }),
    ];
    const progress: [number, number][] = [];
    const result = await redrive(
      sqs.client,
      pipe.pairs,
      { errorClass: 'retries_exhausted' },
      { onProgress: (done, total) => progress.push([done, total]) },
    );
    expect(result).toMatchObject({ moved: 3, failed: 0, skipped: 2, wouldMove: 3, failures: [] });
    expect(progress).toEqual([
      [1, 3],
      [2, 3],
      [3, 3],
    ]);

    const high = await drain(sqs.client, pipe.urls.queues.high);
    const normal = await drain(sqs.client, pipe.urls.queues.normal);
    expect(high.map(eventIdOf).sort()).toEqual([moving[0], moving[2]].map((m) => m?.event.eventId).sort());
    expect(normal.map(eventIdOf)).toEqual([moving[1]?.event.eventId]);
    for (const message of [...high, ...normal]) {
      const sent = moving.find((item) => item.event.eventId === eventIdOf(message));
      expect(attribute(message, MESSAGE_ATTRIBUTES.errorClass)).toBeUndefined();
      expect(
        Object.fromEntries(
          Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [name, value.StringValue]),
        ),
      ).toEqual(sent && ingestAttributes(sent.event));
      expect(message.Body).toBe(sent && writeWebhookEventMessage(sent.event).body);
    }
    const left = await readDeadLetters(sqs.client, pipe.pairs, {}, new Date());
    expect(left.letters.map((letter) => letter.messageId).sort()).toEqual(
      staying.map((item) => item.messageId).sort(),
    );
    expect(await deadLetterCounts(pipe)).toEqual({
      high: { visible: 1, inFlight: 0 },
      normal: { visible: 1, inFlight: 0 },
      low: { visible: 0, inFlight: 0 },
    });
  });

  it('sends a message SQS moved itself back with the attributes it had', async () => {
    const pipe = await pipeline();
    const queue = new SqsEventQueue(sqs.client, { queues: pipe.urls.queues });
    const crashed = webhookEvent({ priority: 'low', kind: 'other', eventType: 'transfer.success' });
    await queue.enqueue([crashed]);
    for (let receive = 0; receive <= PRIORITY_QUEUES.low.maxReceiveCount; receive += 1) {
      await sqs.client.send(
        new ReceiveMessageCommand({ QueueUrl: pipe.urls.queues.low, VisibilityTimeout: 0 }),
      );
    }
    expect((await counts(pipe.urls.deadLetterQueues.low)).visible).toBe(1);
    const result = await redrive(sqs.client, pipe.pairs, { errorClass: 'exhausted_without_report' });
    expect(result).toMatchObject({ moved: 1, failed: 0 });
    const [back] = await drain(sqs.client, pipe.urls.queues.low);
    expect(back && eventIdOf(back)).toBe(crashed.eventId);
    expect(
      Object.fromEntries(
        Object.entries(back?.MessageAttributes ?? {}).map(([name, value]) => [name, value.StringValue]),
      ),
    ).toEqual(ingestAttributes(crashed));
    expect((await counts(pipe.urls.deadLetterQueues.low)).visible).toBe(0);
  });

  it('falls back to the top-level attributes, minus the failure ones, when originalAttributes was cut short', async () => {
    const pipe = await pipeline();
    const event = webhookEvent();
    const text = (value: string) => ({ DataType: 'String', StringValue: value });
    const { MessageId } = await sqs.client.send(
      new SendMessageCommand({
        QueueUrl: pipe.urls.deadLetterQueues.high,
        MessageBody: writeWebhookEventMessage(event).body,
        MessageAttributes: {
          errorClass: text('retries_exhausted'),
          errorMessage: text('boom'),
          firstFailedAt: text(new Date().toISOString()),
          receiveCount: { DataType: 'Number', StringValue: '8' },
          // The consumer cuts attribute text at 256 characters, which can leave the JSON unfinished.
          originalAttributes: text(JSON.stringify(ingestAttributes(event)).slice(0, 60)),
          messageType: text('webhook-event'),
          gateway: text(event.gateway),
          eventType: text(event.eventType),
          eventId: text(event.eventId),
        },
      }),
    );
    const detail = await showDeadLetter(sqs.client, pipe.pairs, String(MessageId), new Date());
    expect(detail?.attributes).toEqual({
      messageType: 'webhook-event',
      gateway: event.gateway,
      eventType: event.eventType,
      eventId: event.eventId,
      originalAttributes: JSON.stringify(ingestAttributes(event)).slice(0, 60),
    });
    expect(await redrive(sqs.client, pipe.pairs, {})).toMatchObject({ moved: 1, failed: 0 });
    const [back] = await drain(sqs.client, pipe.urls.queues.high);
    expect(
      Object.fromEntries(
        Object.entries(back?.MessageAttributes ?? {}).map(([name, value]) => [name, value.StringValue]),
      ),
    ).toEqual({
      messageType: 'webhook-event',
      gateway: event.gateway,
      eventType: event.eventType,
      eventId: event.eventId,
    });
  });

  it('moves nothing in a dry run and leaves every message visible', async () => {
    const pipe = await pipeline();
    for (const queue of ['high', 'high', 'low'] as const) await putDeadLetter(pipe, { queue });
    const result = await redrive(sqs.client, pipe.pairs, { queues: ['high'] }, { dryRun: true });
    expect(result).toMatchObject({ moved: 0, failed: 0, wouldMove: 2, skipped: 0 });
    expect((await counts(pipe.urls.queues.high)).visible).toBe(0);
    expect(await deadLetterCounts(pipe)).toEqual({
      high: { visible: 2, inFlight: 0 },
      normal: { visible: 0, inFlight: 0 },
      low: { visible: 1, inFlight: 0 },
    });
  });

  it('moves at most `limit` messages, the oldest failures first, and keeps the rest visible', async () => {
    const pipe = await pipeline();
    const newest = await putDeadLetter(pipe, { queue: 'normal', hoursAgo: 1 });
    const oldest = await putDeadLetter(pipe, { queue: 'normal', hoursAgo: 9 });
    const middle = await putDeadLetter(pipe, { queue: 'normal', hoursAgo: 5 });
    const result = await redrive(sqs.client, pipe.pairs, {}, { limit: 2 });
    expect(result).toMatchObject({ moved: 2, skipped: 1, wouldMove: 2 });
    const moved = await drain(sqs.client, pipe.urls.queues.normal);
    expect(moved.map(eventIdOf).sort()).toEqual([oldest.event.eventId, middle.event.eventId].sort());
    expect((await receiveAll(pipe.urls.deadLetterQueues.normal)).map((message) => message.MessageId)).toEqual(
      [newest.messageId],
    );
  });

  it('spaces its sends by ratePerSecond', async () => {
    const pipe = await pipeline();
    for (let index = 0; index < 3; index += 1) await putDeadLetter(pipe, { queue: 'high' });
    const started = Date.now();
    const result = await redrive(sqs.client, pipe.pairs, {}, { ratePerSecond: 10 });
    expect(result.moved).toBe(3);
    // Three sends at 10 per second: two gaps of 100 ms at least.
    expect(Date.now() - started).toBeGreaterThanOrEqual(195);
  });

  it('refuses to redrive a parked webhook: it needs an adapter fix, and a consumer would only reject it again', async () => {
    const pipe = await pipeline();
    const queue = new SqsEventQueue(sqs.client, {
      queues: pipe.urls.queues,
      parking: pipe.urls.deadLetterQueues.low,
    });
    await queue.park(
      unparseableWebhook(
        'paystack',
        { headers: {}, body: Buffer.from('<xml/>'), receivedAt: new Date(), requestId: 'req-x' },
        { reason: 'body is not JSON', payload: '<xml/>' },
      ),
    );
    const result = await redrive(sqs.client, pipe.pairs, { queues: ['low'] });
    expect(result).toMatchObject({ moved: 0, skipped: 1, notRedrivable: 1, wouldMove: 0 });
    expect((await counts(pipe.urls.queues.low)).visible).toBe(0);
    expect(await counts(pipe.urls.deadLetterQueues.low)).toEqual({ visible: 1, inFlight: 0 });
  });

  it('loses nothing when deletes start failing between send and delete, and reports each failure', async () => {
    const pipe = await pipeline();
    const originals: PutLetter[] = [];
    for (let index = 0; index < 6; index += 1) {
      originals.push(
        await putDeadLetter(pipe, { queue: index % 2 === 0 ? 'high' : 'normal', hoursAgo: 6 - index }),
      );
    }
    const crashing = failingAfter(sqs.endpoint, 'DeleteMessageCommand', 2);
    const result = await redrive(crashing, pipe.pairs, {});
    crashing.destroy();

    expect(result.moved).toBe(2);
    expect(result.failed).toBe(3);
    expect(result.stoppedEarly).toMatch(/3 failures in a row/);
    expect(result.failures).toHaveLength(3);
    for (const failure of result.failures)
      expect(failure.reason).toMatch(/sent to the \w+ queue but not deleted/);
    expect(result.failures.map((failure) => failure.messageId)).toEqual(
      originals.slice(2, 5).map((item) => item.messageId),
    );

    // Nothing is left hidden: the failed ones and the one never tried are visible in their dead-letter queue again.
    expect(await deadLetterCounts(pipe)).toEqual({
      high: { visible: 2, inFlight: 0 },
      normal: { visible: 2, inFlight: 0 },
      low: { visible: 0, inFlight: 0 },
    });
    // Every original is on its dead-letter queue or back on its source queue: duplicates allowed, losses not.
    const onSource: string[] = [];
    const onDeadLetter: string[] = [];
    for (const priority of ['high', 'normal'] as const) {
      onSource.push(...(await drain(sqs.client, pipe.urls.queues[priority])).map(eventIdOf));
      onDeadLetter.push(...(await drain(sqs.client, pipe.urls.deadLetterQueues[priority])).map(eventIdOf));
    }
    const everywhere = new Set([...onSource, ...onDeadLetter]);
    for (const original of originals) expect(everywhere).toContain(original.event.eventId);
    const ids = (items: readonly PutLetter[]) => items.map((item) => item.event.eventId).sort();
    expect(onSource.sort()).toEqual(ids(originals.slice(0, 5)));
    expect(onDeadLetter.sort()).toEqual(ids(originals.slice(2)));
  });

  it('leaves a message in place, visible, when its send fails, and stops after three failures in a row', async () => {
    const pipe = await pipeline();
    for (let index = 0; index < 4; index += 1) await putDeadLetter(pipe, { queue: 'low' });
    const failing = failingAfter(sqs.endpoint, 'SendMessageCommand', 0);
    const result = await redrive(failing, pipe.pairs, {});
    failing.destroy();
    expect(result).toMatchObject({ moved: 0, failed: 3, skipped: 1 });
    for (const failure of result.failures) expect(failure.reason).toMatch(/not sent to the low queue/);
    expect((await counts(pipe.urls.queues.low)).visible).toBe(0);
    expect(await counts(pipe.urls.deadLetterQueues.low)).toEqual({ visible: 4, inFlight: 0 });
  });
});

/** An SQS client on which `command` fails after `allowed` calls, as a dropped connection or a crash would. */
function failingAfter(endpoint: string, command: string, allowed: number): SQSClient {
  const client = createSqsClient('ingest', { AWS_ENDPOINT_URL_SQS: endpoint });
  let calls = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === command) {
        calls += 1;
        if (calls > allowed) throw Object.assign(new Error('connection reset'), { name: 'NetworkingError' });
      }
      return next(args);
    },
    { step: 'initialize', name: 'failingAfter' },
  );
  return client;
}

describe('purge', () => {
  it('deletes only the matching messages and leaves the others visible', async () => {
    const pipe = await pipeline();
    const doomed = [
      await putDeadLetter(pipe, { queue: 'high', gateway: 'stripe' }),
      await putDeadLetter(pipe, { queue: 'low', gateway: 'stripe' }),
    ];
    const kept = [
      await putDeadLetter(pipe, { queue: 'high', gateway: 'paystack' }),
      await putDeadLetter(pipe, { queue: 'low', gateway: 'adyen' }),
    ];
    expect(await purge(sqs.client, pipe.pairs, { gateway: 'stripe' })).toEqual({ deleted: 2, skipped: 2 });
    const { letters } = await readDeadLetters(sqs.client, pipe.pairs, {}, new Date());
    expect(letters.map((letter) => letter.messageId).sort()).toEqual(
      kept.map((item) => item.messageId).sort(),
    );
    expect(letters.map((letter) => letter.messageId)).not.toContain(doomed[0]?.messageId);
    expect(await deadLetterCounts(pipe)).toEqual({
      high: { visible: 1, inFlight: 0 },
      normal: { visible: 0, inFlight: 0 },
      low: { visible: 1, inFlight: 0 },
    });
  });

  it('deletes at most `limit`, the oldest failures first', async () => {
    const pipe = await pipeline();
    const old = await putDeadLetter(pipe, { queue: 'normal', hoursAgo: 8 });
    const recent = await putDeadLetter(pipe, { queue: 'normal', hoursAgo: 2 });
    expect(await purge(sqs.client, pipe.pairs, {}, { limit: 1 })).toEqual({ deleted: 1, skipped: 1 });
    const { letters } = await readDeadLetters(sqs.client, pipe.pairs, {}, new Date());
    expect(letters.map((letter) => letter.messageId)).toEqual([recent.messageId]);
    expect(letters.map((letter) => letter.messageId)).not.toContain(old.messageId);
  });
});

describe('queueStatus', () => {
  it('counts each queue and its dead letters, with the oldest age and the newest three reasons', async () => {
    const pipe = await pipeline();
    const send = (queueUrl: string, delay = 0) =>
      sqs.client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: '{}', DelaySeconds: delay }));
    for (let index = 0; index < 3; index += 1) await send(pipe.urls.queues.high);
    await send(pipe.urls.queues.high, 60);
    await sqs.client.send(
      new ReceiveMessageCommand({
        QueueUrl: pipe.urls.queues.high,
        MaxNumberOfMessages: 1,
        VisibilityTimeout: 60,
      }),
    );
    const reasons = ['payload_mismatch', 'impossible_event', 'retries_exhausted', 'invalid_message'];
    const letters: PutLetter[] = [];
    for (const errorClass of reasons) {
      letters.push(await putDeadLetter(pipe, { queue: 'high', errorClass }));
      // SentTimestamp has millisecond resolution: keep the order unambiguous.
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await putDeadLetter(pipe, { queue: 'low' });

    const now = new Date(Date.now() + 120_000);
    const rows = await queueStatus(sqs.client, pipe.pairs, now);
    expect(rows.map((row) => row.queue)).toEqual(['high', 'normal', 'low']);
    const [high, normal, low] = rows;
    expect(high).toMatchObject({ visible: 2, inFlight: 1, delayed: 1, deadLetters: 4 });
    expect(high?.oldestDeadLetterAgeSeconds).toBeGreaterThanOrEqual(120);
    expect(high?.oldestDeadLetterAgeSeconds).toBeLessThan(130);
    expect(high?.recentFailures.map((failure) => [failure.errorClass, failure.errorMessage])).toEqual(
      letters
        .slice(1)
        .reverse()
        .map((item, index) => [reasons[3 - index], `failed: ${item.event.eventId}`]),
    );
    expect(normal).toEqual({
      queue: 'normal',
      visible: 0,
      inFlight: 0,
      delayed: 0,
      deadLetters: 0,
      recentFailures: [],
    });
    expect(low).toMatchObject({ deadLetters: 1, recentFailures: [{ errorClass: 'payload_mismatch' }] });
    // The peek let every dead letter go again.
    expect(await deadLetterCounts(pipe)).toEqual({
      high: { visible: 4, inFlight: 0 },
      normal: { visible: 0, inFlight: 0 },
      low: { visible: 1, inFlight: 0 },
    });
  });
});
