import { GetItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../lambdas/common/aws-clients.js';
import { PAYMENTS_TABLE } from '../../lambdas/definitions.js';
import { moneyFromMinor } from '../../lambdas/domain/money.js';
import type { PaymentEvent } from '../../lambdas/domain/payment-event.js';
import type { EventKind, GatewayName, WebhookEvent } from '../../lambdas/domain/webhook-event.js';
import type { UnmatchedEvent } from '../../lambdas/ports/unmatched-events.js';
import { applyEvent } from '../../lambdas/processing/apply-event.js';
import { DynamoPaymentStore } from '../../lambdas/store/dynamodb-payment-store.js';
import {
  DynamoUnmatchedEventStore,
  unmatchedPartitionKey,
} from '../../lambdas/store/dynamodb-unmatched-events.js';
import type { TableNames } from '../../local/tables.js';
import { type DynamoEmulator, startDynamoEmulator } from '../support/dynamodb-emulator.js';

const RETENTION_DAYS = 30;
let dynamo: DynamoEmulator;

beforeAll(async () => {
  dynamo = await startDynamoEmulator();
});

afterAll(async () => {
  await dynamo?.stop();
});

async function freshTables(): Promise<{
  tables: TableNames;
  store: DynamoPaymentStore;
  unmatched: DynamoUnmatchedEventStore;
}> {
  const tables = await dynamo.createTables(`unmatched-${Math.random().toString(36).slice(2, 10)}`);
  const options = { tableName: tables.payments, historyRetentionDays: RETENTION_DAYS };
  const documents = createDocumentClient(dynamo.client);
  return {
    tables,
    store: new DynamoPaymentStore(documents, options),
    unmatched: new DynamoUnmatchedEventStore(documents, options),
  };
}

const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();

function unmatchedEvent(
  gateway: GatewayName,
  eventId: string,
  receivedAt: string,
  overrides: Partial<UnmatchedEvent> = {},
): UnmatchedEvent {
  return {
    gateway,
    eventId,
    eventType: 'subscription.expiring_cards',
    kind: 'other',
    receivedAt,
    requestId: `req-${eventId}`,
    ...overrides,
  };
}

async function rawItem(tableName: string, event: Pick<UnmatchedEvent, 'gateway' | 'receivedAt' | 'eventId'>) {
  const { Item } = await dynamo.client.send(
    new GetItemCommand({
      TableName: tableName,
      Key: {
        pk: { S: unmatchedPartitionKey(event.gateway) },
        sk: { S: `${event.receivedAt}#${event.eventId}` },
      },
    }),
  );
  return Item;
}

describe('DynamoUnmatchedEventStore against dynalite', () => {
  it('keeps an event under its own partition with the history retention, and lists it back without the payload', async () => {
    const { tables, unmatched } = await freshTables();
    const event = unmatchedEvent('paystack', 'invoice.payment_failed:INV_1:abcd', minutesAgo(5), {
      eventType: 'invoice.payment_failed',
      kind: 'payment.failed',
      occurredAt: '2026-11-20T12:00:00.000Z',
      money: moneyFromMinor('500000', 'NGN'),
      payload: '{"event":"invoice.payment_failed","data":{"customer":{"email":"ada@example.com"}}}',
    });
    await unmatched.record(event);
    // A retry after a crash rewrites the same item.
    await unmatched.record(event);

    const item = await rawItem(tables.payments, event);
    expect(item?.pk?.S).toBe('UNMATCHED#paystack');
    expect(item?.money?.M).toEqual({
      amountMinor: { S: '500000' },
      currency: { S: 'NGN' },
      exponent: { N: '2' },
    });
    expect(Number(item?.expiresAt?.N)).toBe(
      Math.floor(Date.parse(event.receivedAt) / 1000) + RETENTION_DAYS * 86_400,
    );
    expect(item?.payload?.S).toBe(event.payload);

    const { payload: _payload, ...listed } = event;
    expect(await unmatched.list({ since: new Date(Date.now() - 3_600_000) })).toEqual({
      items: [listed],
      truncated: [],
    });
  });

  it('lists newest first across gateways, from --since, for one gateway or all, and says which gateways were cut', async () => {
    const { unmatched } = await freshTables();
    const events = [
      unmatchedEvent('paystack', 'p-old', minutesAgo(90)),
      unmatchedEvent('paystack', 'p-1', minutesAgo(30)),
      unmatchedEvent('stripe', 's-1', minutesAgo(20)),
      unmatchedEvent('paystack', 'p-2', minutesAgo(10)),
      unmatchedEvent('oxapay', 'o-1', minutesAgo(5), { eventType: 'payout.confirmed' }),
      unmatchedEvent('paystack', 'p-3', minutesAgo(1)),
    ];
    for (const event of events) await unmatched.record(event);
    const ids = (page: { items: { eventId: string }[] }) => page.items.map((item) => item.eventId);
    const anHourAgo = new Date(Date.now() - 3_600_000);

    expect(ids(await unmatched.list({ since: anHourAgo }))).toEqual(['p-3', 'o-1', 'p-2', 's-1', 'p-1']);
    expect(ids(await unmatched.list({ since: new Date(Date.now() - 2 * 3_600_000) }))).toContain('p-old');
    expect(ids(await unmatched.list({ since: anHourAgo, gateway: 'stripe' }))).toEqual(['s-1']);
    expect(await unmatched.list({ since: anHourAgo, gateway: 'razorpay' })).toEqual({
      items: [],
      truncated: [],
    });

    const cut = await unmatched.list({ since: anHourAgo, limitPerGateway: 2 });
    expect(ids(cut)).toEqual(['p-3', 'o-1', 'p-2', 's-1']);
    expect(cut.truncated).toEqual(['paystack']);
    // Exactly as many as the limit is not a cut.
    expect((await unmatched.list({ since: anHourAgo, limitPerGateway: 3 })).truncated).toEqual([]);
  });

  it('keeps its items out of every index the reconciler and the payment lookups read, and out of payment partitions', async () => {
    const { tables, store, unmatched } = await freshTables();
    await unmatched.record(
      unmatchedEvent('paystack', 'ORDER-1', minutesAgo(1), {
        kind: 'payment.pending',
        money: moneyFromMinor('100', 'NGN'),
      }),
    );
    const indexes = [
      PAYMENTS_TABLE.pendingIndex.name,
      PAYMENTS_TABLE.referenceIndex.name,
      PAYMENTS_TABLE.gatewayPaymentIdIndex.name,
    ];
    for (const index of indexes) {
      const { Items = [] } = await dynamo.client.send(
        new ScanCommand({ TableName: tables.payments, IndexName: index }),
      );
      expect(Items, index).toEqual([]);
    }
    // Not a payment, by key or by an identifier it carries, and no payment's history.
    expect(await store.find('paystack', 'ORDER-1')).toBeUndefined();
    expect(await store.history('paystack', 'ORDER-1')).toEqual([]);
  });
});

describe('applyEvent with an event that names no payment', () => {
  let counter = 0;
  function noPayment(kind: EventKind, overrides: Partial<WebhookEvent> = {}): WebhookEvent {
    counter += 1;
    return {
      gateway: 'paystack',
      eventId: `no-payment-${counter}`,
      eventType: kind === 'other' ? 'subscription.expiring_cards' : 'invoice.payment_failed',
      kind,
      mode: 'test',
      receivedAt: new Date(Date.now() - counter * 1000).toISOString(),
      priority: 'normal',
      requestId: `req-no-payment-${counter}`,
      payload: '{"event":"invoice.payment_failed","data":{}}',
      ...overrides,
    };
  }

  it.each<EventKind>([
    'other',
    'dispute.updated',
    'payment.failed',
    'payment.succeeded',
    'refund.succeeded',
    'dispute.opened',
  ])('keeps a %s event as unmatched: outcome unmatched, no payment, nothing published', async (kind) => {
    const { tables, store, unmatched } = await freshTables();
    const published: PaymentEvent[] = [];
    const deps = {
      store,
      unmatched,
      publisher: { publish: async (event: PaymentEvent) => void published.push(event) },
      now: () => new Date(),
      keepPayload: false,
    };
    const event = noPayment(kind, { money: moneyFromMinor('500000', 'NGN') });
    const result = await applyEvent(event, deps);
    expect(result).toEqual({
      outcome: 'unmatched',
      note: `${event.eventType} names no payment (no reference, no payment id)`,
    });
    // Applied again (a retry after a crash): the same item, the same answer.
    expect(await applyEvent(event, deps)).toEqual(result);
    expect(published).toEqual([]);

    const { items } = await unmatched.list({ since: new Date(Date.now() - 3_600_000) });
    expect(items).toEqual([
      {
        gateway: 'paystack',
        eventId: event.eventId,
        eventType: event.eventType,
        kind,
        receivedAt: event.receivedAt,
        requestId: event.requestId,
        money: moneyFromMinor('500000', 'NGN'),
      },
    ]);
    // No payload unless the deployment keeps payloads; nothing else in the table.
    expect((await rawItem(tables.payments, event))?.payload).toBeUndefined();
    const { Items = [] } = await dynamo.client.send(new ScanCommand({ TableName: tables.payments }));
    expect(Items.map((item) => item.pk?.S)).toEqual(['UNMATCHED#paystack']);
  });

  it('keeps the payload where the deployment keeps payloads', async () => {
    const { tables, store, unmatched } = await freshTables();
    const event = noPayment('payment.failed');
    await applyEvent(event, {
      store,
      unmatched,
      publisher: { publish: async () => undefined },
      now: () => new Date(),
      keepPayload: true,
    });
    expect((await rawItem(tables.payments, event))?.payload?.S).toBe(event.payload);
  });
});
