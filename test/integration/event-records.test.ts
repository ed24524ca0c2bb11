import { randomUUID } from 'node:crypto';
import {
  IdempotencyAlreadyInProgressError,
  IdempotencyConfig,
  IdempotencyValidationError,
  makeIdempotent,
} from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../lambdas/common/aws-clients.js';
import { type MoneyJson, moneyToJson } from '../../lambdas/domain/money.js';
import type { PaymentEvent } from '../../lambdas/domain/payment-event.js';
import type { WebhookEvent } from '../../lambdas/domain/webhook-event.js';
import type { PaymentEventPublisher } from '../../lambdas/ports/payment-event-publisher.js';
import type { ApplyDependencies } from '../../lambdas/processing/apply-event.js';
import {
  DynamoEventRecords,
  EVENT_RECORD_ATTRIBUTES,
  eventRecordKey,
} from '../../lambdas/store/dynamodb-event-records.js';
import { DynamoPaymentStore } from '../../lambdas/store/dynamodb-payment-store.js';
import { DynamoUnmatchedEventStore } from '../../lambdas/store/dynamodb-unmatched-events.js';
import { DynamoPreviousCompletions } from '../../lambdas/store/previous-idempotency-records.js';
import { lambdaContext } from '../../local/lambda-context.js';
import type { TableNames } from '../../local/tables.js';
import { type DynamoEmulator, startDynamoEmulator } from '../support/dynamodb-emulator.js';
import { idempotentApply } from '../support/event-records.js';
import { domainEvent, FOLD_NOW, usd } from '../support/payment-fold.js';

const RETENTION_DAYS = 30;
const A = EVENT_RECORD_ATTRIBUTES;

let dynamo: DynamoEmulator;
let tables: TableNames;
let store: DynamoPaymentStore;
let unmatched: DynamoUnmatchedEventStore;

beforeAll(async () => {
  dynamo = await startDynamoEmulator();
  tables = await dynamo.createTables('event-records-test');
  const options = { tableName: tables.payments, historyRetentionDays: RETENTION_DAYS };
  store = new DynamoPaymentStore(createDocumentClient(dynamo.client), options);
  unmatched = new DynamoUnmatchedEventStore(createDocumentClient(dynamo.client), options);
});

afterAll(async () => {
  await dynamo?.stop();
});

const documents = () => createDocumentClient(dynamo.client);

class Publisher implements PaymentEventPublisher {
  readonly published: PaymentEvent[] = [];
  failures = 0;
  async publish(event: PaymentEvent): Promise<void> {
    if (this.failures > 0) {
      this.failures -= 1;
      throw new Error('EventBridge unavailable');
    }
    this.published.push(event);
  }
}

function harness(options: { previous?: DynamoPreviousCompletions; records?: DynamoEventRecords } = {}) {
  const publisher = new Publisher();
  const deps: ApplyDependencies = {
    store,
    unmatched,
    publisher,
    now: () => FOLD_NOW,
    keepPayload: false,
    ...(options.previous && { previousCompletions: options.previous }),
  };
  const records =
    options.records ??
    new DynamoEventRecords(documents(), { tableName: tables.payments, historyRetentionDays: RETENTION_DAYS });
  return { publisher, deps, apply: idempotentApply(records, deps) };
}

/** A fresh payment's succeeded event (its own PaymentIntent, so its own partition). */
function paid(overrides: Partial<WebhookEvent> = {}): WebhookEvent {
  return domainEvent('payment.succeeded', `evt_${randomUUID()}`, {
    gatewayPaymentId: `pi_${randomUUID()}`,
    money: usd(10_000),
    factId: 'ch_1',
    priority: 'high',
    ...overrides,
  });
}

async function itemOf(event: WebhookEvent): Promise<Record<string, unknown> | undefined> {
  const { Item } = await documents().send(
    new GetCommand({ TableName: tables.payments, Key: eventRecordKey(event) }),
  );
  return Item;
}

/** The item as the previous release left it: its history item, with no record (that was in a table of its own). */
async function leftByPreviousRelease(event: WebhookEvent): Promise<void> {
  await documents().send(
    new UpdateCommand({
      TableName: tables.payments,
      Key: eventRecordKey(event),
      UpdateExpression: `REMOVE ${Object.keys(A)
        .map((name) => `#${name}`)
        .join(', ')}`,
      ExpressionAttributeNames: Object.fromEntries(
        Object.entries(A).map(([name, value]) => [`#${name}`, value]),
      ),
    }),
  );
}

async function setRecord(event: WebhookEvent, values: Record<string, unknown>): Promise<void> {
  const names = Object.keys(values);
  await documents().send(
    new UpdateCommand({
      TableName: tables.payments,
      Key: eventRecordKey(event),
      UpdateExpression: `SET ${names.map((_, i) => `#n${i} = :v${i}`).join(', ')}`,
      ExpressionAttributeNames: Object.fromEntries(names.map((name, i) => [`#n${i}`, name])),
      ExpressionAttributeValues: Object.fromEntries(names.map((name, i) => [`:v${i}`, values[name]])),
    }),
  );
}

describe('Event records: Powertools idempotency on the history items (dynalite)', () => {
  it("keeps an applied event's record and its history in one item of the payment's partition", async () => {
    const { apply, publisher } = harness();
    const event = paid();
    const before = Math.floor(Date.now() / 1000);
    const result = await apply(event);

    const key = eventRecordKey(event);
    expect(key).toEqual({ pk: `PAYMENT#stripe#${event.gatewayPaymentId}`, sk: `EVENT#${event.eventId}` });
    const { Items = [] } = await documents().send(
      new QueryCommand({
        TableName: tables.payments,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': key.pk },
      }),
    );
    // The payment item and one item for the event: no idempotency item anywhere else.
    expect(Items.map((item) => item.sk).sort()).toEqual([key.sk, 'PAYMENT']);
    const item = await itemOf(event);
    expect(item).toMatchObject({
      [A.status]: 'COMPLETED',
      eventId: event.eventId,
      eventType: 'payment.succeeded',
      transition: { from: null, to: 'succeeded' },
      money: { amountMinor: '10000', currency: 'USD', exponent: 2 },
    });
    // The stored result is the result without its history entry (that is the item's own attributes).
    const { history: _history, ...stored } = result;
    expect(item?.[A.result]).toEqual(stored);
    expect(Number(item?.[A.dedupeUntil]) - before).toBeGreaterThanOrEqual(3600);
    expect(Number(item?.[A.dedupeUntil]) - before).toBeLessThan(3610);
    // Kept for the history retention from when the event was received.
    expect(item?.expiresAt).toBe(Math.floor(FOLD_NOW.getTime() / 1000) + RETENTION_DAYS * 86_400);
    expect(await store.history('stripe', event.gatewayPaymentId ?? '')).toEqual([result.history]);
    expect(publisher.published).toHaveLength(1);
  });

  it('answers a duplicate from the record, without applying or publishing it again', async () => {
    const { apply, publisher } = harness();
    const event = paid();
    const first = await apply(event);
    expect(apply.executed).toBe(true);
    const again = await apply({ ...event, requestId: 'req-gateway-retry' });
    expect(apply.executed).toBe(false);
    const { history: _history, ...stored } = first;
    expect(again).toEqual(stored);
    expect(publisher.published).toHaveLength(1);
    expect(await store.history('stripe', event.gatewayPaymentId ?? '')).toHaveLength(1);
  });

  it('refuses the same event id with other money', async () => {
    const { apply } = harness();
    const event = paid();
    await apply(event);
    await expect(apply({ ...event, money: usd(1) })).rejects.toBeInstanceOf(IdempotencyValidationError);
  });

  it('refuses an event whose record another consumer holds in progress, and takes over one left by a crash', async () => {
    const { apply } = harness();
    const event = paid();
    await apply(event);
    // Another consumer's record: in progress, and its holder still within its time.
    await setRecord(event, {
      [A.status]: 'INPROGRESS',
      [A.dedupeUntil]: Math.floor(Date.now() / 1000) + 3600,
      [A.inProgressUntil]: Date.now() + 60_000,
    });
    await expect(apply(event)).rejects.toBeInstanceOf(IdempotencyAlreadyInProgressError);
    // The holder's time ran out: the consumer crashed or timed out, and its record is orphaned.
    await setRecord(event, { [A.inProgressUntil]: Date.now() - 1 });
    const result = await apply(event);
    expect(apply.executed).toBe(true);
    expect(result.outcome).toBe('applied');
    expect(await itemOf(event)).toMatchObject({ [A.status]: 'COMPLETED', eventType: 'payment.succeeded' });
  });

  it("deletes a failed new event's record, so the retry runs, and writes no history for it yet", async () => {
    const { apply, publisher } = harness();
    const event = paid();
    publisher.failures = 1;
    await expect(apply(event)).rejects.toThrow();
    expect(await itemOf(event)).toBeUndefined();
    const result = await apply(event);
    expect(result.outcome).toBe('applied');
    expect(publisher.published).toHaveLength(1);
    expect(await store.history('stripe', event.gatewayPaymentId ?? '')).toHaveLength(1);
  });

  it('past the dedupe window, runs the event again: the history is rewritten, and a failed rerun leaves it', async () => {
    const { apply, publisher } = harness();
    const event = paid();
    await apply(event);
    await setRecord(event, { [A.dedupeUntil]: Math.floor(Date.now() / 1000) - 1 });

    // A failed rerun: the earlier history stays, without a record, so the next delivery runs again.
    publisher.failures = 1;
    await expect(apply(event)).rejects.toThrow();
    const kept = await itemOf(event);
    expect(kept).toMatchObject({
      eventType: 'payment.succeeded',
      transition: { from: null, to: 'succeeded' },
    });
    expect(kept?.[A.status]).toBeUndefined();
    expect(kept?.[A.result]).toBeUndefined();

    // The payment recognises it among its recent events: the same transition, the same payment event id again.
    const rerun = await apply(event);
    expect(apply.executed).toBe(true);
    expect(rerun.transition).toEqual({ from: null, to: 'succeeded' });
    expect(new Set(publisher.published.map((item) => item.id)).size).toBe(1);
    expect(await store.history('stripe', event.gatewayPaymentId ?? '')).toHaveLength(1);
  });

  it('removes history attributes the rewritten entry no longer has', async () => {
    const { apply } = harness();
    const event = paid();
    await apply(event);
    // Fallen out of the recent events long ago: the rerun only notes that nothing is new.
    const payment = await store.get('stripe', event.gatewayPaymentId ?? '');
    if (!payment) throw new Error('no payment');
    await documents().send(
      new UpdateCommand({
        TableName: tables.payments,
        Key: { pk: `PAYMENT#stripe#${payment.paymentKey}`, sk: 'PAYMENT' },
        UpdateExpression: 'SET recentEvents = :none',
        ExpressionAttributeValues: { ':none': [] },
      }),
    );
    await setRecord(event, { [A.dedupeUntil]: Math.floor(Date.now() / 1000) - 1 });
    const rerun = await apply(event);
    expect(rerun.outcome).toBe('unchanged');
    const item = await itemOf(event);
    expect(item?.note).toBe('nothing new: every fact in it is already recorded');
    expect(item).not.toHaveProperty('transition');
    expect(item).not.toHaveProperty('announced');
  });

  it('takes a history item written before records moved here for no record: the event runs again', async () => {
    const { apply, publisher } = harness();
    const event = paid();
    await apply(event);
    // What the previous release left: the history item alone (its record was in a table of its own).
    await leftByPreviousRelease(event);
    await apply(event);
    expect(apply.executed).toBe(true);
    expect(await itemOf(event)).toMatchObject({ [A.status]: 'COMPLETED', eventType: 'payment.succeeded' });
    // Re-published with the same id: without the previous release's record, it is taken for a retry.
    expect(publisher.published.map((item) => item.id)).toEqual([
      publisher.published[0]?.id,
      publisher.published[0]?.id,
    ]);
  });

  it('keeps the record of an event that names no payment in an item of its own, outside every payment', async () => {
    const { apply } = harness();
    const event = paid({ reference: undefined, gatewayPaymentId: undefined });
    const result = await apply(event);
    expect(result.outcome).toBe('unmatched');
    expect(eventRecordKey(event)).toEqual({ pk: `EVENT#stripe#${event.eventId}`, sk: 'RECORD' });
    const item = await itemOf(event);
    expect(item).toMatchObject({ [A.status]: 'COMPLETED' });
    expect(item).not.toHaveProperty('eventType');
    // It expires with its dedupe window: there is no history to keep.
    expect(item?.expiresAt).toBe(item?.[A.dedupeUntil]);
  });
});

describe('Event records: a completion that fails', () => {
  /** The records, with the next completion's write failing as a throttled or lost DynamoDB call would. */
  class FailingCompletion extends DynamoEventRecords {
    failures = 1;
    protected override async _updateRecord(record: Parameters<DynamoEventRecords['_updateRecord']>[0]) {
      if (this.failures > 0) {
        this.failures -= 1;
        throw Object.assign(new Error('Throughput exceeds the current capacity'), {
          name: 'ProvisionedThroughputExceededException',
        });
      }
      return super._updateRecord(record);
    }
  }

  it('leaves the record in progress until its holder would have timed out, then finishes the event once more', async () => {
    const records = new FailingCompletion(documents(), {
      tableName: tables.payments,
      historyRetentionDays: RETENTION_DAYS,
    });
    const { apply, publisher } = harness({ records });
    const event = paid();
    await expect(apply(event)).rejects.toThrow();
    // Applied and announced, but not completed: no history yet, and the record holds the event.
    expect(publisher.published).toHaveLength(1);
    const held = await itemOf(event);
    expect(held).toMatchObject({ [A.status]: 'INPROGRESS' });
    expect(held).not.toHaveProperty('eventType');
    await expect(apply(event)).rejects.toBeInstanceOf(IdempotencyAlreadyInProgressError);
    // Past the holder's time: taken over, recognised among the payment's recent events, finished.
    await setRecord(event, { [A.inProgressUntil]: Date.now() - 1 });
    const result = await apply(event);
    expect(apply.executed).toBe(true);
    expect(result.transition).toEqual({ from: null, to: 'succeeded' });
    expect(new Set(publisher.published.map((item) => item.id)).size).toBe(1);
    expect(await store.history('stripe', event.gatewayPaymentId ?? '')).toHaveLength(1);
    expect(await itemOf(event)).toMatchObject({ [A.status]: 'COMPLETED', eventType: 'payment.succeeded' });
  });
});

describe('Event records: what a record-only item keeps', () => {
  it('gives a record-only item run again past its window the new window as its expiry, not the old one', async () => {
    const { apply } = harness();
    const event = paid({ reference: undefined, gatewayPaymentId: undefined });
    await apply(event);
    // Past its window, and past the expiry it had then (TTL deletes lazily: the item can still be there).
    const past = Math.floor(Date.now() / 1000) - 10;
    await setRecord(event, { [A.dedupeUntil]: past, expiresAt: past });
    await apply(event);
    expect(apply.executed).toBe(true);
    const item = await itemOf(event);
    expect(Number(item?.[A.dedupeUntil])).toBeGreaterThan(Date.now() / 1000);
    expect(item?.expiresAt).toBe(item?.[A.dedupeUntil]);
  });

  it("drops an earlier run's result when a record is taken again", async () => {
    const { apply, publisher } = harness();
    const event = paid();
    await apply(event);
    await setRecord(event, { [A.dedupeUntil]: Math.floor(Date.now() / 1000) - 1 });
    // Seen between the rerun's in-progress write and its end: the first run's result must not be there.
    let during: Record<string, unknown> | undefined;
    const publish = publisher.publish.bind(publisher);
    publisher.publish = async (published) => {
      during = await itemOf(event);
      return publish(published);
    };
    await apply(event);
    expect(during).toMatchObject({ [A.status]: 'INPROGRESS', eventType: 'payment.succeeded' });
    expect(during).not.toHaveProperty(A.result);
    expect(await itemOf(event)).toMatchObject({
      [A.status]: 'COMPLETED',
      [A.result]: { outcome: 'applied' },
    });
  });
});

describe("The previous release's idempotency records", () => {
  const FUNCTION_NAME = 'payhook-test-high-consumer';

  /** A record as the previous release's consumer wrote it: Powertools' own DynamoDB layer, its key and config. */
  async function completedByPreviousRelease(event: WebhookEvent, expiresAfterSeconds = 3600): Promise<void> {
    const previous = process.env.AWS_LAMBDA_FUNCTION_NAME;
    process.env.AWS_LAMBDA_FUNCTION_NAME = FUNCTION_NAME;
    try {
      const layer = new DynamoDBPersistenceLayer({
        tableName: tables.idempotency,
        awsSdkV3Client: dynamo.client,
      });
      const config = new IdempotencyConfig({
        eventKeyJmesPath: 'idempotencyKey',
        payloadValidationJmesPath: 'money',
        expiresAfterSeconds,
        throwOnNoIdempotencyKey: true,
      });
      config.registerLambdaContext(lambdaContext(FUNCTION_NAME, 30, 'previous-release'));
      const run = makeIdempotent(
        async (_input: { idempotencyKey: string; money: MoneyJson | null }) => ({ outcome: 'applied' }),
        { persistenceStore: layer, config },
      );
      // As the previous consumer keyed and hashed it: the event's money, as exact strings.
      await run({
        idempotencyKey: `${event.gateway}#${event.eventId}`,
        money: event.money ? moneyToJson(event.money) : null,
      });
    } finally {
      if (previous === undefined) delete process.env.AWS_LAMBDA_FUNCTION_NAME;
      else process.env.AWS_LAMBDA_FUNCTION_NAME = previous;
    }
  }

  function previousCompletions(): DynamoPreviousCompletions {
    process.env.AWS_LAMBDA_FUNCTION_NAME = FUNCTION_NAME;
    try {
      return new DynamoPreviousCompletions(dynamo.client, tables.idempotency);
    } finally {
      delete process.env.AWS_LAMBDA_FUNCTION_NAME;
    }
  }

  it('finds a record the previous release completed, under the key it wrote it with, and no other', async () => {
    const previous = previousCompletions();
    const event = paid();
    expect(await previous.completed(event)).toBe(false);
    await completedByPreviousRelease(event);
    expect(await previous.completed(event)).toBe(true);
    expect(await previous.completed({ ...event, eventId: `${event.eventId}-other` })).toBe(false);
  });

  it('does not count a record past its window as completed', async () => {
    const event = paid();
    await completedByPreviousRelease(event, 1);
    const previous = previousCompletions();
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    expect(await previous.completed(event)).toBe(false);
  });

  it('does not announce again a duplicate of an event the previous release completed', async () => {
    const { apply, publisher } = harness({ previous: previousCompletions() });
    const event = paid();
    // Applied by the previous release: the payment and its history item written, its record in the old table.
    await apply(event);
    await leftByPreviousRelease(event);
    await completedByPreviousRelease(event);
    expect(publisher.published).toHaveLength(1);

    const duplicate = await apply({ ...event, requestId: 'req-after-upgrade' });
    expect(apply.executed).toBe(true);
    expect(publisher.published).toHaveLength(1);
    expect(duplicate).toMatchObject({ outcome: 'applied', transition: { from: null, to: 'succeeded' } });
    expect(duplicate).not.toHaveProperty('announced');
    // The previous release's history item is left as it wrote it: this delivery's request id is not the event's.
    const history = await store.history('stripe', event.gatewayPaymentId ?? '');
    expect(history.map((entry) => entry.requestId)).toEqual([event.requestId]);
  });

  it('refuses a duplicate of an event the previous release completed that comes with other money', async () => {
    const { apply, publisher } = harness({ previous: previousCompletions() });
    const event = paid();
    await apply(event);
    await leftByPreviousRelease(event);
    await completedByPreviousRelease(event);
    await expect(apply({ ...event, money: usd(1) })).rejects.toBeInstanceOf(IdempotencyValidationError);
    expect(publisher.published).toHaveLength(1);
    // The failed run's record is gone: the item is the previous release's history item, as it was.
    const item = await itemOf(event);
    expect(item).toMatchObject({ eventType: 'payment.succeeded', requestId: event.requestId });
    expect(item).not.toHaveProperty(A.status);
  });
});
