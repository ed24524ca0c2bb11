import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JSONValue } from '@aws-lambda-powertools/commons/types';
import {
  IdempotencyItemAlreadyExistsError,
  IdempotencyRecordStatus,
} from '@aws-lambda-powertools/idempotency';
import { IdempotencyRecord } from '@aws-lambda-powertools/idempotency/persistence';
import { GetItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devSecret, readSample, SIGNERS } from '../../events/index.js';
import { createDocumentClient } from '../../lambdas/common/aws-clients.js';
import {
  DEDUPE_WINDOW_SECONDS,
  MESSAGE_ATTRIBUTES,
  METRICS,
  type Priority,
} from '../../lambdas/definitions.js';
import { moneyFromMinor } from '../../lambdas/domain/money.js';
import { paidTotal, paymentKeyOf, refundedTotalMinor } from '../../lambdas/domain/payment.js';
import type { PaymentEvent } from '../../lambdas/domain/payment-event.js';
import { paymentEventId } from '../../lambdas/domain/payment-event.js';
import {
  defaultPriority,
  type EventKind,
  type OriginalWebhook,
  type WebhookEvent,
} from '../../lambdas/domain/webhook-event.js';
import { ADAPTERS } from '../../lambdas/gateways/registry.js';
import { DEFAULT_GATEWAY_SETTINGS } from '../../lambdas/gateways/settings.js';
import { SqsEventQueue } from '../../lambdas/intake/sqs-event-queue.js';
import { readOriginalDelivery } from '../../lambdas/messages/original-webhook.js';
import { writeWebhookEventMessage } from '../../lambdas/messages/webhook-event-message.js';
import type { OriginalQueue } from '../../lambdas/ports/deliveries.js';
import type { PaymentEventPublisher } from '../../lambdas/ports/payment-event-publisher.js';
import { createConsumer } from '../../lambdas/processing/consumer.js';
import { OriginalForwarding } from '../../lambdas/processing/original-forwarding.js';
import { SqsOriginalQueue } from '../../lambdas/processing/sqs-original-queue.js';
import { FilePaymentEventPublisher, readPublishedEvents } from '../../lambdas/publishing/file-publisher.js';
import { DynamoClaimOriginals } from '../../lambdas/store/dynamodb-claim-originals.js';
import { DynamoEventRecords, EVENT_RECORD_ATTRIBUTES } from '../../lambdas/store/dynamodb-event-records.js';
import { DynamoPaymentStore } from '../../lambdas/store/dynamodb-payment-store.js';
import {
  DynamoUnmatchedEventStore,
  unmatchedPartitionKey,
} from '../../lambdas/store/dynamodb-unmatched-events.js';
import { lambdaContext } from '../../local/lambda-context.js';
import { pollOnce, queueArnOf, toLambdaRecord } from '../../local/sqs-event-source.js';
import type { TableNames } from '../../local/tables.js';
import { recordingLog } from '../support/api-gateway.js';
import { type DynamoEmulator, startDynamoEmulator } from '../support/dynamodb-emulator.js';
import { RecordingMetrics } from '../support/fakes.js';
import { webhookRequest } from '../support/requests.js';
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
let pipeline: PipelineQueues;
let tables: TableNames;
let store: DynamoPaymentStore;
let unmatched: DynamoUnmatchedEventStore;
const eventsDir = mkdtempSync(join(tmpdir(), 'payhook-consumer-'));

/** The consumers' idempotency records, as the stack builds them: on the payments table, with the history. */
const eventRecords = (tableName: string) =>
  new DynamoEventRecords(createDocumentClient(dynamo.client), { tableName, historyRetentionDays: 30 });

beforeAll(async () => {
  [sqs, dynamo] = await Promise.all([startSqsEmulator(), startDynamoEmulator()]);
  pipeline = await createPipelineQueues(sqs.client, 'consumer-test');
  tables = await dynamo.createTables('consumer-test');
  store = new DynamoPaymentStore(createDocumentClient(dynamo.client), {
    tableName: tables.payments,
    historyRetentionDays: 30,
  });
  unmatched = new DynamoUnmatchedEventStore(createDocumentClient(dynamo.client), {
    tableName: tables.payments,
    historyRetentionDays: 30,
  });
});

afterAll(async () => {
  await Promise.all([sqs?.stop(), dynamo?.stop()]);
});

/** The local sink, failing the first `failures` publishes as EventBridge can. */
class FlakyPublisher implements PaymentEventPublisher {
  readonly inner: FilePaymentEventPublisher;
  constructor(
    readonly path: string,
    private failures = 0,
  ) {
    this.inner = new FilePaymentEventPublisher(path);
  }
  private readonly failingReferences = new Set<string>();
  failNext(count: number): void {
    this.failures = count;
  }
  /** Fails every publish about this payment, whichever order a parallel batch runs in. */
  failFor(reference: string): void {
    this.failingReferences.add(reference);
  }
  async publish(event: PaymentEvent): Promise<void> {
    if (event.reference !== undefined && this.failingReferences.has(event.reference)) {
      throw Object.assign(new Error('EventBridge unavailable'), { name: 'InternalException' });
    }
    if (this.failures > 0) {
      this.failures -= 1;
      throw Object.assign(new Error('EventBridge unavailable'), { name: 'InternalException' });
    }
    await this.inner.publish(event);
  }
  async published(): Promise<PaymentEvent[]> {
    return (await readPublishedEvents(this.path)).map((record) => record.detail as PaymentEvent);
  }
}

function harness(
  priority: Priority = 'high',
  options: {
    maxReceiveCount?: number;
    keepPayload?: boolean;
    realBackOff?: boolean;
    originals?: OriginalForwarding;
  } = {},
) {
  const publisher = new FlakyPublisher(join(eventsDir, `${randomUUID()}.jsonl`));
  const log = recordingLog();
  const metrics = new RecordingMetrics();
  const consumer = createConsumer({
    metrics,
    apply: {
      store,
      unmatched,
      publisher,
      now: () => new Date(),
      keepPayload: options.keepPayload ?? false,
    },
    newIdempotencyStore: () => eventRecords(tables.payments),
    dedupeWindows: DEDUPE_WINDOW_SECONDS,
    sqs: sqs.client,
    queueUrl: pipeline.queues[priority],
    deadLetterQueueUrl: pipeline.deadLetterQueues[priority],
    maxReceiveCount: options.maxReceiveCount ?? 5,
    log,
    // Tests stand in for the passing of time: a failed record is visible again at once.
    ...(options.realBackOff ? {} : { retryDelay: () => 0, inProgressRetrySeconds: 0 }),
    ...(options.originals && { originals: options.originals }),
  });
  const queue = new SqsEventQueue(sqs.client, {
    queues: pipeline.queues,
    parking: pipeline.deadLetterQueues.low,
  });
  const context = (requestId: string) => lambdaContext('payhook-consumer-test', 30, requestId);
  return {
    publisher,
    log,
    metrics,
    consumer,
    send: (...events: WebhookEvent[]) => queue.enqueue(events),
    sendWithOriginal: (original: OriginalWebhook, ...events: WebhookEvent[]) =>
      queue.enqueue(events, original),
    /** Plays the event source mapping until the queue is empty (bounded), returning each poll's result. */
    async drainQueue(maxPolls = 10) {
      const polls = [];
      for (let poll = 0; poll < maxPolls; poll += 1) {
        const result = await pollOnce(sqs.client, pipeline.queues[priority], consumer, {
          batchSize: 10,
          context,
        });
        if (result.received === 0) break;
        polls.push(result);
      }
      return polls;
    },
  };
}

let counter = 0;
function event(kind: EventKind, reference: string, overrides: Partial<WebhookEvent> = {}): WebhookEvent {
  counter += 1;
  return {
    gateway: 'paystack',
    eventId: `${kind}:${reference}:${counter}`,
    eventType: kind,
    kind,
    reference,
    money: moneyFromMinor('250000', 'NGN'),
    mode: 'test',
    receivedAt: new Date(Date.now() + counter).toISOString(),
    priority: 'high',
    requestId: `req-${counter}`,
    payload: '{}',
    ...overrides,
  };
}

const uniqueReference = () => `ORDER-${randomUUID().slice(0, 8)}`;

describe('Consumer against DynamoDB (dynalite) and SQS (fauxqs)', () => {
  it('applies a succeeded event once, records its history and announces it once, however often it arrives', async () => {
    const { send, drainQueue, publisher } = harness();
    const reference = uniqueReference();
    const succeeded = event('payment.succeeded', reference);
    await send(succeeded);
    await drainQueue();
    await send(succeeded);
    await send({ ...succeeded, requestId: 'req-gateway-retry' });
    await drainQueue();

    const payment = await store.get('paystack', reference);
    expect(payment).toMatchObject({ status: 'succeeded', version: 1 });
    // The event names no capture of its own: the money-in fact falls back to the payment's key.
    expect(payment?.moneyIn).toEqual([
      { id: reference, money: moneyFromMinor('250000', 'NGN'), eventIds: [succeeded.eventId] },
    ]);
    expect(await store.history('paystack', reference)).toHaveLength(1);
    const fact = { type: 'money_in', id: reference, state: 'received' } as const;
    const announced = await publisher.published();
    expect(announced).toEqual([
      expect.objectContaining({
        id: paymentEventId('paystack', reference, fact),
        from: null,
        to: 'succeeded',
        status: 'succeeded',
        amount: '250000',
        currency: 'NGN',
        paid: '250000',
        refunded: '0',
        fact,
        reference,
        sourceEventId: succeeded.eventId,
      }),
    ]);
  });

  it('takes a second payment.succeeded about the same money (another event id) as the same fact: inert', async () => {
    const { send, drainQueue, publisher } = harness();
    const reference = uniqueReference();
    const succeeded = event('payment.succeeded', reference);
    // Past the dedupe window, or the same money told by another event type: a new event id, the same money-in id.
    const again = event('payment.succeeded', reference);
    await send(succeeded);
    await drainQueue();
    await send(again);
    await drainQueue();
    const payment = await store.get('paystack', reference);
    expect(payment?.status).toBe('succeeded');
    expect(payment && paidTotal(payment)).toEqual(moneyFromMinor('250000', 'NGN'));
    expect(payment?.moneyIn.map((fact) => fact.id)).toEqual([reference]);
    expect(await publisher.published()).toHaveLength(1);
    const history = await store.history('paystack', reference);
    expect(history.map((entry) => [entry.eventId, entry.announced?.length ?? 0])).toEqual([
      [succeeded.eventId, 1],
      [again.eventId, 0],
    ]);
  });

  it('retries an in-flight duplicate inside one batch instead of dead-lettering it, and applies the event once', async () => {
    const { send, drainQueue, publisher } = harness();
    const reference = uniqueReference();
    const succeeded = event('payment.succeeded', reference);
    await send(succeeded, succeeded, succeeded);
    const polls = await drainQueue();
    // One copy applies; the other two meet it in progress, fail, and come back to find it done.
    expect(polls[0]).toEqual({ received: 3, failed: 2 });
    expect(polls.slice(1).reduce((sum, poll) => sum + poll.received - poll.failed, 0)).toBe(2);
    expect(await publisher.published()).toHaveLength(1);
    expect((await drain(sqs.client, pipeline.deadLetterQueues.high)).length).toBe(0);
    expect((await store.get('paystack', reference))?.version).toBe(1);
  });

  it('keeps the later fact when events arrive out of order (succeeded before pending)', async () => {
    const { send, drainQueue, publisher } = harness();
    const reference = uniqueReference();
    await send(event('payment.succeeded', reference));
    await drainQueue();
    await send(event('payment.pending', reference, { priority: 'high' }));
    await drainQueue();
    expect((await store.get('paystack', reference))?.status).toBe('succeeded');
    const history = await store.history('paystack', reference);
    expect(history.map((entry) => [entry.kind, entry.transition?.to ?? entry.note])).toEqual([
      ['payment.succeeded', 'succeeded'],
      ['payment.pending', 'nothing new: every fact in it is already recorded'],
    ]);
    expect((await publisher.published()).map((announced) => announced.to)).toEqual(['succeeded']);
  });

  it('keeps a refund seen before its payment and counts it once the payment arrives', async () => {
    const { send, drainQueue, publisher } = harness();
    const reference = uniqueReference();
    const refund = event('refund.succeeded', reference, { priority: 'high' });
    await send(refund);
    await drainQueue();
    // Nothing to refund yet: the refund is kept, not counted, and waits for its payment to be announced.
    const early = await store.get('paystack', reference);
    expect(early?.status).toBe('pending');
    expect(early?.refunds.map((fact) => fact.id)).toEqual([refund.eventId]);
    expect(early && refundedTotalMinor(early)).toBe(0n);
    expect(await publisher.published()).toEqual([]);

    const succeeded = event('payment.succeeded', reference);
    await send(succeeded);
    await drainQueue();
    const payment = await store.get('paystack', reference);
    expect(payment?.status).toBe('refunded');
    expect(payment && refundedTotalMinor(payment)).toBe(250000n);
    const announced = await publisher.published();
    expect(announced.map((item) => [item.from, item.to, item.fact.type, item.status, item.refunded])).toEqual(
      [
        ['pending', 'succeeded', 'money_in', 'refunded', '250000'],
        ['pending', 'refunded', 'refund', 'refunded', '250000'],
      ],
    );
    expect(announced.every((item) => item.sourceEventId === succeeded.eventId)).toBe(true);
  });

  it('grows the refunded total through partial refunds, announcing each with its own id, up to refunded', async () => {
    const { send, drainQueue, publisher } = harness();
    const reference = uniqueReference();
    await send(event('payment.succeeded', reference));
    await drainQueue();
    const first = event('refund.succeeded', reference, {
      money: moneyFromMinor('100000', 'NGN'),
      priority: 'high',
    });
    const second = event('refund.succeeded', reference, {
      money: moneyFromMinor('150000', 'NGN'),
      priority: 'high',
    });
    await send(first);
    await drainQueue();
    await send(second);
    await drainQueue();
    const payment = await store.get('paystack', reference);
    expect([payment?.status, payment && refundedTotalMinor(payment)]).toEqual(['refunded', 250000n]);
    const announced = await publisher.published();
    expect(announced.map((item) => [item.to, item.amount, item.refunded])).toEqual([
      ['succeeded', '250000', '0'],
      ['partially_refunded', '100000', '100000'],
      ['refunded', '150000', '250000'],
    ]);
    expect(new Set(announced.map((item) => item.id)).size).toBe(3);
  });

  it('marks amount_mismatch when the paid amount differs from the registered expectation', async () => {
    const { send, drainQueue, publisher } = harness();
    const reference = uniqueReference();
    const now = new Date().toISOString();
    await store.save({
      gateway: 'paystack',
      paymentKey: reference,
      reference,
      status: 'pending',
      version: 1,
      mode: 'test',
      expected: moneyFromMinor('250000', 'NGN'),
      moneyIn: [],
      refunds: [],
      disputes: [],
      attempts: [],
      pendingSince: now,
      createdAt: now,
      updatedAt: now,
      recentEvents: [],
      announced: [],
    });
    await send(event('payment.succeeded', reference, { money: moneyFromMinor('200000', 'NGN') }));
    await drainQueue();
    expect((await store.get('paystack', reference))?.status).toBe('amount_mismatch');
    // The money is announced as received (its detail's status says amount_mismatch), and the expectation it
    // differs from as a mismatch.
    expect(
      (await publisher.published()).map((item) => [
        item.from,
        item.to,
        item.fact.state,
        item.status,
        item.amount,
      ]),
    ).toEqual([
      ['pending', 'succeeded', 'received', 'amount_mismatch', '200000'],
      ['pending', 'amount_mismatch', 'mismatch', 'amount_mismatch', '250000'],
    ]);
  });

  it('dead-letters the same event id with a different amount as a permanent payload mismatch, with its reason', async () => {
    const { send, drainQueue, publisher } = harness();
    const reference = uniqueReference();
    const original = event('payment.succeeded', reference);
    await send(original);
    await drainQueue();
    // The documented poison scenario: same event id, another amount (events/poison/).
    await send({ ...original, money: moneyFromMinor('1', 'NGN') });
    await drainQueue();
    const [poisoned] = await drain(sqs.client, pipeline.deadLetterQueues.high);
    expect(poisoned).toBeDefined();
    if (!poisoned) return;
    expect(attribute(poisoned, MESSAGE_ATTRIBUTES.errorClass)).toBe('payload_mismatch');
    expect(attribute(poisoned, MESSAGE_ATTRIBUTES.eventId)).toBe(original.eventId);
    expect(attribute(poisoned, MESSAGE_ATTRIBUTES.receiveCount)).toBe('1');
    expect(Date.parse(attribute(poisoned, MESSAGE_ATTRIBUTES.firstFailedAt) ?? '')).not.toBeNaN();
    expect(JSON.parse(attribute(poisoned, MESSAGE_ATTRIBUTES.originalAttributes) ?? '{}')).toMatchObject({
      gateway: 'paystack',
      eventId: original.eventId,
      requestId: original.requestId,
    });
    expect(JSON.parse(String(poisoned.Body)).money.amountMinor).toBe('1');
    const payment = await store.get('paystack', reference);
    expect(payment && paidTotal(payment)?.amountMinor).toBe(250000n);
    expect(await publisher.published()).toHaveLength(1);
  });

  it("applies a version 1 message (the previous release's) with its fact id read again from the payload", async () => {
    const { drainQueue, publisher } = harness();
    const signed = SIGNERS.razorpay(readSample('razorpay', 'payment.captured'), {
      secret: devSecret('razorpay'),
    });
    const [now] = ADAPTERS.razorpay.normalise(
      webhookRequest(signed.body, signed.headers),
      DEFAULT_GATEWAY_SETTINGS,
    ).events;
    if (!now?.factId) throw new Error('the sample names no payment');
    // As the previous release wrote it: the payload as text, and no fact fields.
    const {
      payloadBase64: _bytes,
      factId: _factId,
      refundedTotal: _total,
      ...current
    } = JSON.parse(writeWebhookEventMessage({ ...now, priority: 'high' }).body) as Record<string, unknown>;
    const body = JSON.stringify({ ...current, version: 1, payload: now.payload });
    await sqs.client.send(new SendMessageCommand({ QueueUrl: pipeline.queues.high, MessageBody: body }));
    await drainQueue();
    const key = paymentKeyOf(now);
    const payment = key === undefined ? undefined : await store.get('razorpay', key);
    // The money-in fact is the payment's own id (the adapters, loaded for this message, read it from the payload),
    // not the order's, which a later version 2 `order.paid` would count as a second payment.
    expect(payment?.moneyIn.map((fact) => fact.id)).toEqual([now.factId]);
    expect(await publisher.published()).toHaveLength(1);
  });

  it('dead-letters a message that is not a webhook event at once, as invalid_message', async () => {
    const { drainQueue } = harness();
    await sqs.client.send(
      new SendMessageCommand({ QueueUrl: pipeline.queues.high, MessageBody: '{"hello":"world"}' }),
    );
    await drainQueue();
    const [invalid] = await drain(sqs.client, pipeline.deadLetterQueues.high);
    expect(invalid && attribute(invalid, MESSAGE_ATTRIBUTES.errorClass)).toBe('invalid_message');
    expect(invalid?.Body).toBe('{"hello":"world"}');
  });

  it('retries a transient failure and succeeds on redelivery, announcing once', async () => {
    const { send, drainQueue, publisher, log } = harness();
    const reference = uniqueReference();
    publisher.failNext(1);
    await send(event('payment.succeeded', reference));
    const polls = await drainQueue();
    expect(polls.map((poll) => poll.failed)).toEqual([1, 0]);
    expect(await publisher.published()).toHaveLength(1);
    expect(log.lines.some((line) => line.message === 'event failed; will retry')).toBe(true);
    expect((await drain(sqs.client, pipeline.deadLetterQueues.high)).length).toBe(0);
  });

  it('hides a failed record for the back-off delay instead of handing it straight back', async () => {
    const { send, drainQueue, publisher } = harness('high', { realBackOff: true });
    const inFlight = async () => {
      const { Attributes } = await sqs.client.send(
        new GetQueueAttributesCommand({
          QueueUrl: pipeline.queues.high,
          AttributeNames: ['ApproximateNumberOfMessagesNotVisible'],
        }),
      );
      return Number(Attributes?.ApproximateNumberOfMessagesNotVisible);
    };
    const before = await inFlight();
    publisher.failNext(1);
    await send(event('payment.succeeded', uniqueReference()));
    const polls = await drainQueue();
    // Received once, failed, and not handed back on the next poll: it waits out its back-off.
    expect(polls).toEqual([{ received: 1, failed: 1 }]);
    expect(await inFlight()).toBe(before + 1);
    await sqs.client.send(new PurgeQueueCommand({ QueueUrl: pipeline.queues.high }));
  });

  it('keeps raw payloads in the history only where the deployment says so', async () => {
    for (const keepPayload of [false, true]) {
      const { send, drainQueue } = harness('high', { keepPayload });
      const reference = uniqueReference();
      await send(
        event('payment.succeeded', reference, { payload: '{"customer":{"email":"ada@example.com"}}' }),
      );
      await drainQueue();
      const [entry] = await store.history('paystack', reference);
      expect(entry?.payload).toBe(keepPayload ? '{"customer":{"email":"ada@example.com"}}' : undefined);
      expect(entry?.requestId).toMatch(/^req-/);
    }
  });

  it('finds a payment by its key, its merchant reference or its gateway payment id', async () => {
    const { send, drainQueue } = harness();
    const reference = uniqueReference();
    await send(event('payment.succeeded', reference, { gatewayPaymentId: `psp-${reference}` }));
    await drainQueue();
    expect((await store.find('paystack', reference))?.paymentKey).toBe(reference);
    expect((await store.find('paystack', `psp-${reference}`))?.paymentKey).toBe(reference);
    expect(await store.find('stripe', reference)).toBeUndefined();
    expect(await store.find('paystack', 'no-such-payment')).toBeUndefined();
  });

  it('converges after a crash between the payment write and the publish: one transition, one event id', async () => {
    const { send, drainQueue, publisher } = harness();
    const reference = uniqueReference();
    const succeeded = event('payment.succeeded', reference);
    // The write lands, the publish fails: the state a crash at that point leaves behind.
    publisher.failNext(1);
    await send(succeeded);
    await drainQueue();
    const payment = await store.get('paystack', reference);
    expect([payment?.status, payment?.version]).toEqual(['succeeded', 1]);
    const announced = await publisher.published();
    expect(announced.map((item) => item.id)).toEqual([
      paymentEventId('paystack', reference, { type: 'money_in', id: reference, state: 'received' }),
    ]);
    expect(announced[0]?.from).toBeNull();
    expect(await store.history('paystack', reference)).toHaveLength(1);
  });

  it('reports exactly the failed records of a batch as batch item failures, and completes the others', async () => {
    const { send, consumer, publisher } = harness();
    const good = [uniqueReference(), uniqueReference()];
    const failing = uniqueReference();
    publisher.failFor(failing);
    await send(...[...good, failing].map((reference) => event('payment.succeeded', reference)));
    const { Messages = [] } = await sqs.client.send(
      new ReceiveMessageCommand({
        QueueUrl: pipeline.queues.high,
        MaxNumberOfMessages: 10,
        AttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    const records = Messages.map((message) => toLambdaRecord(message, queueArnOf(pipeline.queues.high)));
    expect(records).toHaveLength(3);
    const failingRecord = records.find((record) => JSON.parse(record.body).reference === failing);
    const response = await consumer(
      { Records: records },
      lambdaContext('payhook-consumer-test', 30, 'batch'),
    );
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: failingRecord?.messageId }]);
    expect((await publisher.published()).map((item) => item.reference).sort()).toEqual([...good].sort());
    await drain(sqs.client, pipeline.queues.high);
  });

  it('keeps concurrent invocations of one consumer apart: each batch reports only its own failures', async () => {
    // Lambda runs one invocation per environment, but the local stack runs several pollers over one consumer; a
    // shared batch processor would hand one batch's failures to another, and a failed record would be deleted.
    const { send, consumer, publisher } = harness();
    const failing = [uniqueReference(), uniqueReference()];
    for (const reference of failing) publisher.failFor(reference);
    const references = [
      uniqueReference(),
      failing[0],
      uniqueReference(),
      uniqueReference(),
      failing[1],
      uniqueReference(),
    ];
    await send(...references.map((reference) => event('payment.succeeded', reference ?? '')));
    const records: SQSRecord[] = [];
    while (records.length < references.length) {
      const { Messages = [] } = await sqs.client.send(
        new ReceiveMessageCommand({
          QueueUrl: pipeline.queues.high,
          MaxNumberOfMessages: 10,
          AttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
      );
      records.push(...Messages.map((message) => toLambdaRecord(message, queueArnOf(pipeline.queues.high))));
    }
    const batches = [records.slice(0, 2), records.slice(2, 4), records.slice(4)];
    const responses = await Promise.all(
      batches.map((batch, index) =>
        consumer({ Records: batch }, lambdaContext('payhook-consumer-test', 30, `batch-${index}`)),
      ),
    );
    const failedIn = (batch: SQSRecord[]) =>
      batch
        .filter((record) => failing.includes(JSON.parse(record.body).reference))
        .map((record) => ({ itemIdentifier: record.messageId }));
    expect(responses.map((response) => response.batchItemFailures)).toEqual(batches.map(failedIn));
    await drain(sqs.client, pipeline.queues.high);
  });

  it('logs each outcome (applied, duplicate, unchanged) and status change, and counts failures and queue delay', async () => {
    const { send, drainQueue, publisher, metrics, log } = harness();
    const reference = uniqueReference();
    const succeeded = event('payment.succeeded', reference);
    await send(succeeded);
    await drainQueue();
    await send(succeeded, event('payment.pending', reference, { priority: 'high' }));
    await drainQueue();
    publisher.failNext(1);
    await send(event('payment.succeeded', uniqueReference()));
    await drainQueue();
    // Counted from the "event processed" lines (the dashboard's log queries), not as metrics billed every month.
    const processed = log.lines
      .filter((line) => line.message === 'event processed')
      .map(({ fields }) => [fields.outcome, fields.from, fields.to]);
    // A pending after the money tells nothing new: unchanged, and no status change.
    expect(processed).toEqual([
      ['applied', null, 'succeeded'],
      ['duplicate', undefined, undefined],
      ['unchanged', undefined, undefined],
      ['applied', null, 'succeeded'],
    ]);
    expect(metrics.added.map((entry) => entry.name)).not.toContain('EventsProcessed');
    expect(metrics.total(METRICS.processingFailures, 'aws_5xx')).toBe(1);
    // One delay per delivery (five records, one of them delivered twice), every one measured from the send.
    const delays = metrics.added.filter((entry) => entry.name === METRICS.queueDelay.name);
    expect(delays).toHaveLength(5);
    expect(delays.every((entry) => entry.gateway === 'paystack' && entry.value >= 0)).toBe(true);
    expect(metrics.flushes).toBeGreaterThanOrEqual(3);
  });

  it('dead-letters a transient failure itself on the last allowed receive, with retries_exhausted', async () => {
    const { send, drainQueue, publisher } = harness('high', { maxReceiveCount: 2 });
    publisher.failNext(5);
    const succeeded = event('payment.succeeded', uniqueReference());
    await send(succeeded);
    await drainQueue();
    const [exhausted] = await drain(sqs.client, pipeline.deadLetterQueues.high);
    expect(exhausted && attribute(exhausted, MESSAGE_ATTRIBUTES.errorClass)).toBe('retries_exhausted');
    expect(exhausted && attribute(exhausted, MESSAGE_ATTRIBUTES.errorMessage)).toBe(
      'InternalException: EventBridge unavailable',
    );
    expect(exhausted && attribute(exhausted, MESSAGE_ATTRIBUTES.receiveCount)).toBe('2');
    expect((await drain(sqs.client, pipeline.queues.high)).length).toBe(0);
  });

  it("keeps each gateway's own dedupe window on its idempotency records", async () => {
    // Powertools keeps one configuration per persistence layer: one layer shared by the gateways would give every
    // gateway the first gateway's window.
    const windowTables = await dynamo.createTables('consumer-windows');
    const windows = { ...DEDUPE_WINDOW_SECONDS, paystack: 1_000, stripe: 500_000 };
    const consumer = createConsumer({
      apply: {
        store,
        unmatched,
        publisher: new FlakyPublisher(join(eventsDir, `${randomUUID()}.jsonl`)),
        now: () => new Date(),
        keepPayload: false,
      },
      newIdempotencyStore: () => eventRecords(windowTables.payments),
      dedupeWindows: windows,
      sqs: sqs.client,
      queueUrl: pipeline.queues.high,
      deadLetterQueueUrl: pipeline.deadLetterQueues.high,
      maxReceiveCount: 5,
      log: recordingLog(),
    });
    const queue = new SqsEventQueue(sqs.client, {
      queues: pipeline.queues,
      parking: pipeline.deadLetterQueues.low,
    });
    await queue.enqueue([
      event('payment.succeeded', uniqueReference()),
      event('payment.succeeded', uniqueReference(), {
        gateway: 'stripe',
        gatewayPaymentId: `pi_${randomUUID()}`,
      }),
    ]);
    const before = Math.floor(Date.now() / 1000);
    const result = await pollOnce(sqs.client, pipeline.queues.high, consumer, {
      batchSize: 10,
      context: (id) => lambdaContext('payhook-consumer-test', 30, id),
    });
    expect(result).toEqual({ received: 2, failed: 0 });
    const { Items = [] } = await dynamo.client.send(new ScanCommand({ TableName: windowTables.payments }));
    const records = Items.filter((item) => item[EVENT_RECORD_ATTRIBUTES.status] !== undefined);
    const lifetimes = records
      .map((item) => Number(item[EVENT_RECORD_ATTRIBUTES.dedupeUntil]?.N) - before)
      .sort((a, b) => a - b);
    expect(lifetimes).toHaveLength(2);
    expect(lifetimes[0]).toBeGreaterThanOrEqual(1_000);
    expect(lifetimes[0]).toBeLessThan(1_010);
    expect(lifetimes[1]).toBeGreaterThanOrEqual(500_000);
    expect(lifetimes[1]).toBeLessThan(500_010);
  });

  it('follows one webhook in the logs: every line carries gateway, event id, reference and request id', async () => {
    const { send, drainQueue, publisher, log } = harness();
    const reference = uniqueReference();
    const succeeded = event('payment.succeeded', reference);
    publisher.failNext(1);
    await send(succeeded);
    await drainQueue();
    const lines = log.lines.filter((line) => line.fields.eventId === succeeded.eventId);
    expect(lines.map((line) => line.message)).toEqual(['event failed; will retry', 'event processed']);
    for (const line of lines) {
      expect(line.fields).toMatchObject({
        gateway: 'paystack',
        eventId: succeeded.eventId,
        reference,
        requestId: succeeded.requestId,
      });
    }
    // The processed line names the payment events it published: the link to downstream consumers.
    const published = await publisher.published();
    expect(published).toHaveLength(1);
    expect(lines[1]?.fields.paymentEventIds).toEqual(published.map((item) => item.id));
  });

  it('forwards the original webhook to the original destination once it is first applied: a failed send retries the record, a duplicate sends nothing', async () => {
    const { QueueUrl } = await sqs.client.send(
      new CreateQueueCommand({ QueueName: `originals-${randomUUID()}` }),
    );
    const queueUrl = QueueUrl ?? '';
    const real = new SqsOriginalQueue(sqs.client);
    let failures = 1;
    const flaky: OriginalQueue = {
      send: async (url, body, attributes) => {
        if (failures > 0) {
          failures -= 1;
          throw Object.assign(new Error('SQS unavailable'), { name: 'ServiceUnavailable' });
        }
        await real.send(url, body, attributes);
      },
    };
    const originals = new OriginalForwarding({
      destinations: [{ name: 'legacy', queueUrl }],
      queue: flaky,
      claims: new DynamoClaimOriginals(createDocumentClient(dynamo.client), tables.payments),
      log: recordingLog(),
    });
    const { sendWithOriginal, drainQueue, publisher } = harness('high', { originals });
    const reference = uniqueReference();
    const succeeded = event('payment.succeeded', reference, { payload: `{"ref":"${reference}"}` });
    const original: OriginalWebhook = {
      body: Buffer.from(succeeded.payload),
      headers: { 'content-type': 'application/json', 'x-paystack-signature': 'abc' },
    };
    await sendWithOriginal(original, succeeded);
    await drainQueue();
    // The gateway retries: the same webhook again, deduplicated before anything is forwarded.
    await sendWithOriginal(original, succeeded);
    await drainQueue();

    const received = await sqs.client.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    expect(failures).toBe(0);
    expect(received.Messages ?? []).toHaveLength(1);
    expect(readOriginalDelivery(received.Messages?.[0]?.Body ?? '')).toEqual({
      gateway: 'paystack',
      eventId: succeeded.eventId,
      receivedAt: succeeded.receivedAt,
      original,
    });
    // The failed send failed the record, which the retry found applied: the same payment event published again with
    // its id (at least once, as any failure after the publish), one transition, one history item.
    const published = (await publisher.published()).filter((item) => item.reference === reference);
    expect(new Set(published.map((item) => item.id)).size).toBe(1);
    expect(await store.history('paystack', reference)).toHaveLength(1);
    expect(await store.get('paystack', reference)).toMatchObject({ status: 'succeeded', version: 1 });
  });

  describe('an event held in progress elsewhere while its receives run out', () => {
    /** A real DynamoDB persistence layer whose first `times` claims meet an in-progress record of someone else. */
    class HeldElsewhere extends DynamoEventRecords {
      constructor(private times: number) {
        super(createDocumentClient(dynamo.client), { tableName: tables.payments, historyRetentionDays: 30 });
      }
      override async saveInProgress(data: JSONValue, remainingTimeInMillis?: number): Promise<void> {
        if (this.times > 0) {
          this.times -= 1;
          throw new IdempotencyItemAlreadyExistsError(
            'held by another invocation',
            new IdempotencyRecord({
              idempotencyKey: 'held',
              status: IdempotencyRecordStatus.INPROGRESS,
              expiryTimestamp: Math.floor(Date.now() / 1000) + 3600,
              inProgressExpiryTimestamp: Date.now() + 60_000,
            }),
          );
        }
        return super.saveInProgress(data, remainingTimeInMillis);
      }
      // The other invocation's record carries no payload hash to validate against: take it as it is.
      override processExistingRecord(record: IdempotencyRecord, data: JSONValue): IdempotencyRecord {
        return record.idempotencyKey === 'held' ? record : super.processExistingRecord(record, data);
      }
    }

    function heldHarness(times: number) {
      const publisher = new FlakyPublisher(join(eventsDir, `${randomUUID()}.jsonl`));
      const log = recordingLog();
      const held = new HeldElsewhere(times);
      const consumer = createConsumer({
        apply: { store, unmatched, publisher, now: () => new Date(), keepPayload: false },
        newIdempotencyStore: () => held,
        dedupeWindows: DEDUPE_WINDOW_SECONDS,
        sqs: sqs.client,
        queueUrl: pipeline.queues.normal,
        deadLetterQueueUrl: pipeline.deadLetterQueues.normal,
        maxReceiveCount: 2,
        log,
        retryDelay: () => 0,
        inProgressRetrySeconds: 0,
      });
      const drainNormal = async () => {
        for (let poll = 0; poll < 20; poll += 1) {
          const result = await pollOnce(sqs.client, pipeline.queues.normal, consumer, {
            batchSize: 10,
            context: (id) => lambdaContext('payhook-consumer-test', 30, id),
          });
          if (result.received === 0) return;
        }
      };
      return { publisher, log, drainNormal };
    }

    // A normal-priority event that announces something, so "applied once" is seen downstream.
    const failed = (reference: string) => event('payment.failed', reference, { priority: 'normal' });
    const queue = () =>
      new SqsEventQueue(sqs.client, { queues: pipeline.queues, parking: pipeline.deadLetterQueues.low });

    it('sends it back with fresh receives instead of letting SQS dead-letter it without a reason, and applies it once', async () => {
      const { publisher, log, drainNormal } = heldHarness(3);
      const reference = uniqueReference();
      await queue().enqueue([failed(reference)]);
      await drainNormal();
      expect(
        log.lines.filter(
          (line) => line.message === 'event in progress elsewhere; requeued with fresh receives',
        ),
      ).not.toHaveLength(0);
      expect((await publisher.published()).map((published) => published.reference)).toEqual([reference]);
      expect((await drain(sqs.client, pipeline.deadLetterQueues.normal)).length).toBe(0);
      expect((await store.get('paystack', reference))?.status).toBe('failed');
    });

    it('dead-letters it as in_progress_exhausted, with its reason, once the requeues are spent', async () => {
      const { publisher, drainNormal } = heldHarness(100);
      await queue().enqueue([failed(uniqueReference())]);
      await drainNormal();
      const letters = await drain(sqs.client, pipeline.deadLetterQueues.normal);
      expect(letters.map((letter) => attribute(letter, MESSAGE_ATTRIBUTES.errorClass))).toEqual([
        'in_progress_exhausted',
      ]);
      expect(letters[0] && attribute(letters[0], MESSAGE_ATTRIBUTES.errorMessage)).toMatch(
        /after 3 requeues/,
      );
      expect(await publisher.published()).toEqual([]);
      expect((await drain(sqs.client, pipeline.queues.normal)).length).toBe(0);
    });
  });

  describe('events that name no payment', () => {
    it('keeps a history-only event without a payment as unmatched: no payment item, nothing published or dead-lettered', async () => {
      const { send, drainQueue, publisher, log } = harness('low');
      const { reference: _reference, ...subscription } = event('other', 'unused', {
        eventType: 'subscription.expiring_cards',
        priority: defaultPriority('other'),
        money: undefined,
      });
      await send(subscription);
      await drainQueue();
      expect(await publisher.published()).toEqual([]);
      expect(log.lines.find((line) => line.message === 'event processed')?.fields).toMatchObject({
        eventId: subscription.eventId,
        outcome: 'unmatched',
      });
      expect(await store.get('paystack', 'unused')).toBeUndefined();
      expect((await drain(sqs.client, pipeline.deadLetterQueues.low)).length).toBe(0);
      const { items } = await unmatched.list({ gateway: 'paystack', since: new Date(Date.now() - 60_000) });
      const kept = items.find((item) => item.eventId === subscription.eventId);
      expect(kept).toEqual({
        gateway: 'paystack',
        eventId: subscription.eventId,
        eventType: 'subscription.expiring_cards',
        kind: 'other',
        receivedAt: subscription.receivedAt,
        requestId: subscription.requestId,
      });
    });

    it('keeps a status-affecting event without a reference or payment id as unmatched, not as impossible_event', async () => {
      const { send, drainQueue, publisher, log, metrics } = harness('normal', { keepPayload: true });
      const payload = '{"event":"invoice.payment_failed","data":{"invoice_code":"INV_x","amount":500000}}';
      const { reference: _reference, ...failed } = event('payment.failed', 'unused', {
        eventType: 'invoice.payment_failed',
        priority: 'normal',
        occurredAt: '2026-11-20T12:00:00.000Z',
        payload,
      });
      await send(failed);
      await drainQueue();
      // A gateway retry inside the dedupe window is a duplicate: counted as such, and still one item.
      await send({ ...failed, requestId: 'req-gateway-retry' });
      await drainQueue();

      expect(await publisher.published()).toEqual([]);
      expect((await drain(sqs.client, pipeline.deadLetterQueues.normal)).length).toBe(0);
      expect(metrics.total(METRICS.deadLettered)).toBe(0);
      expect(
        log.lines.filter((line) => line.message === 'event processed').map((line) => line.fields.outcome),
      ).toEqual(['unmatched', 'duplicate']);
      expect(await store.find('paystack', failed.eventId)).toBeUndefined();
      const { items } = await unmatched.list({ gateway: 'paystack', since: new Date(Date.now() - 60_000) });
      expect(items.filter((item) => item.eventId === failed.eventId)).toEqual([
        {
          gateway: 'paystack',
          eventId: failed.eventId,
          eventType: 'invoice.payment_failed',
          kind: 'payment.failed',
          receivedAt: failed.receivedAt,
          occurredAt: '2026-11-20T12:00:00.000Z',
          requestId: failed.requestId,
          money: moneyFromMinor('250000', 'NGN'),
        },
      ]);
      // Where the deployment keeps payloads, the item keeps it too (the listing never reads it).
      const { Item } = await dynamo.client.send(
        new GetItemCommand({
          TableName: tables.payments,
          Key: {
            pk: { S: unmatchedPartitionKey('paystack') },
            sk: { S: `${failed.receivedAt}#${failed.eventId}` },
          },
        }),
      );
      expect(Item?.payload?.S).toBe(payload);
    });
  });
});
