import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../lambdas/common/aws-clients.js';
import { moneyFromMinor } from '../../lambdas/domain/money.js';
import { factsOf, type Payment, paidTotal, refundedTotalMinor } from '../../lambdas/domain/payment.js';
import type { PaymentEvent } from '../../lambdas/domain/payment-event.js';
import type { GatewayName } from '../../lambdas/domain/webhook-event.js';
import type { PaymentEventPublisher } from '../../lambdas/ports/payment-event-publisher.js';
import type { PaymentStore } from '../../lambdas/ports/payment-store.js';
import { StaleWriteError } from '../../lambdas/ports/payment-store.js';
import { applyEvent } from '../../lambdas/processing/apply-event.js';
import { DynamoEventRecords } from '../../lambdas/store/dynamodb-event-records.js';
import {
  DynamoPaymentStore,
  type LegacyPaymentItem,
  PAYMENT_ITEM_FORMAT,
} from '../../lambdas/store/dynamodb-payment-store.js';
import { DynamoUnmatchedEventStore } from '../../lambdas/store/dynamodb-unmatched-events.js';
import type { TableNames } from '../../local/tables.js';
import { type DynamoEmulator, startDynamoEmulator } from '../support/dynamodb-emulator.js';
import { idempotentApply } from '../support/event-records.js';
import { domainEvent, FOLD_NOW, foldAll, usd } from '../support/payment-fold.js';

let dynamo: DynamoEmulator;
let tables: TableNames;
let store: DynamoPaymentStore;
let unmatched: DynamoUnmatchedEventStore;

beforeAll(async () => {
  dynamo = await startDynamoEmulator();
  tables = await dynamo.createTables('payment-record-test');
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
  await dynamo?.stop();
});

class CollectingPublisher implements PaymentEventPublisher {
  readonly events: PaymentEvent[] = [];
  async publish(event: PaymentEvent): Promise<void> {
    this.events.push(event);
  }
}

/** The store, with every `get` held until `readers` calls have read: both racers see the same version. */
class BarrierStore implements PaymentStore {
  staleWrites = 0;
  private waiting: (() => void)[] = [];
  private held = true;
  constructor(
    private readonly inner: PaymentStore,
    private readonly readers: number,
  ) {}
  async get(gateway: GatewayName, key: string): Promise<Payment | undefined> {
    const payment = await this.inner.get(gateway, key);
    if (this.held) {
      await new Promise<void>((resolve) => {
        this.waiting.push(resolve);
        if (this.waiting.length >= this.readers) {
          this.held = false;
          for (const release of this.waiting) release();
        }
      });
    }
    return payment;
  }
  async save(next: Payment): Promise<void> {
    try {
      await this.inner.save(next);
    } catch (error) {
      if (error instanceof StaleWriteError) this.staleWrites += 1;
      throw error;
    }
  }
  find(gateway: GatewayName, identifier: string) {
    return this.inner.find(gateway, identifier);
  }
  pendingPayments(gateway: GatewayName, before: string, limit: number) {
    return this.inner.pendingPayments(gateway, before, limit);
  }
  confirmationsDue(gateway: GatewayName, before: string, limit: number) {
    return this.inner.confirmationsDue(gateway, before, limit);
  }
  history(gateway: GatewayName, key: string) {
    return this.inner.history(gateway, key);
  }
}

describe('Payment record on DynamoDB (dynalite)', () => {
  it('stores every fact exactly, bigints and 18-decimal amounts included, and reads it back equal', async () => {
    const eth = (minor: string) => moneyFromMinor(minor, 'ETH');
    const { payment } = foldAll([
      domainEvent('payment.succeeded', 'e1', {
        gateway: 'oxapay',
        reference: 'STORE-1',
        gatewayPaymentId: 'track_store',
        factId: 'ch_1',
        money: eth('123456789012345678901'),
      }),
      domainEvent('refund.succeeded', 'e2', {
        gateway: 'oxapay',
        reference: 'STORE-1',
        gatewayPaymentId: 'track_store',
        factId: 're_1',
        money: eth('1'),
      }),
      domainEvent('refund.succeeded', 'e3', {
        gateway: 'oxapay',
        reference: 'STORE-1',
        gatewayPaymentId: 'track_store',
        refundedTotal: eth('5'),
        money: eth('5'),
      }),
      domainEvent('dispute.opened', 'e4', {
        gateway: 'oxapay',
        reference: 'STORE-1',
        gatewayPaymentId: 'track_store',
        factId: 'dp_1',
      }),
    ]);
    if (!payment) throw new Error('no payment');
    const first = { ...payment, version: 1 };
    await store.save(first);
    const read = await store.get('oxapay', 'STORE-1');
    expect(read).toEqual(first);
    expect(read && refundedTotalMinor(read)).toBe(5n);
  });

  it('makes two different events racing on one payment fail the version check, re-read, and keep both facts', async () => {
    const racing = new BarrierStore(store, 2);
    const publisher = new CollectingPublisher();
    const deps = { store: racing, unmatched, publisher, now: () => FOLD_NOW, keepPayload: false };
    const base = { gatewayPaymentId: 'pi_race' };
    await applyEvent(
      domainEvent('payment.succeeded', 'race_paid', { ...base, factId: 'pi_race', money: usd(10_000) }),
      {
        ...deps,
        store,
      },
    );
    publisher.events.length = 0;
    const [refund, dispute] = await Promise.all([
      applyEvent(
        domainEvent('refund.succeeded', 'race_refund', { ...base, factId: 're_race', money: usd(3000) }),
        deps,
      ),
      applyEvent(
        domainEvent('dispute.opened', 'race_dispute', { ...base, factId: 'dp_race', priority: 'high' }),
        deps,
      ),
    ]);
    expect(racing.staleWrites).toBe(1);
    expect(refund.outcome).toBe('applied');
    expect(dispute.outcome).toBe('applied');
    const final = await store.get('stripe', 'pi_race');
    expect(final?.status).toBe('disputed');
    expect(final && refundedTotalMinor(final)).toBe(3000n);
    expect(final?.version).toBe(3);
    expect(publisher.events.map((event) => `${event.fact.type}:${event.fact.id}`).sort()).toEqual([
      'dispute:dp_race',
      'refund:re_race',
    ]);
  });
});

describe('Lookup index entries only where they add a way to find a payment (issue #20)', () => {
  it('writes no by-reference entry for a payment keyed by its reference, and finds it by either identifier', async () => {
    const payment: Payment = {
      gateway: 'paystack',
      paymentKey: 'ORDER-IDX-1',
      reference: 'ORDER-IDX-1',
      gatewayPaymentId: '7000001',
      status: 'succeeded',
      version: 1,
      mode: 'test',
      moneyIn: [{ id: '7000001', money: moneyFromMinor('250000', 'NGN'), eventIds: ['evt-idx-1'] }],
      refunds: [],
      disputes: [],
      attempts: [],
      createdAt: '2026-11-24T00:00:00.000Z',
      updatedAt: '2026-11-24T00:00:00.000Z',
      recentEvents: [],
      announced: [],
    };
    await store.save(payment);
    const { Item } = await createDocumentClient(dynamo.client).send(
      new GetCommand({
        TableName: tables.payments,
        Key: { pk: 'PAYMENT#paystack#ORDER-IDX-1', sk: 'PAYMENT' },
      }),
    );
    expect(Item).toBeDefined();
    expect(Item).not.toHaveProperty('referenceKey');
    expect(Item?.gatewayPaymentIdKey).toBe('paystack#7000001');
    expect((await store.find('paystack', 'ORDER-IDX-1'))?.paymentKey).toBe('ORDER-IDX-1');
    expect((await store.find('paystack', '7000001'))?.paymentKey).toBe('ORDER-IDX-1');
  });
});

describe('Payment keys: a reference and a gateway id never name the same record', () => {
  it('keeps a Paystack payment with reference 4975361 apart from an event naming only transaction 4975361', async () => {
    const publisher = new CollectingPublisher();
    const deps = { store, unmatched, publisher, now: () => FOLD_NOW, keepPayload: false };
    const ngn = (minor: number) => moneyFromMinor(String(minor), 'NGN');
    await applyEvent(
      domainEvent('payment.succeeded', 'ps_numeric_paid', {
        gateway: 'paystack',
        reference: '4975361',
        gatewayPaymentId: '111',
        factId: '111',
        money: ngn(500_000),
      }),
      deps,
    );
    // Transaction 4975361 is another payment; this refund of it names no reference.
    const refund = await applyEvent(
      domainEvent('refund.succeeded', 'ps_other_refund', {
        gateway: 'paystack',
        reference: undefined,
        gatewayPaymentId: '4975361',
        factId: 'rf_1',
        money: ngn(100),
      }),
      deps,
    );
    expect(refund.paymentKey).toBe('@id:4975361');
    const paid = await store.get('paystack', '4975361');
    expect([paid?.status, paid && refundedTotalMinor(paid)]).toEqual(['succeeded', 0n]);
    expect((await store.get('paystack', '@id:4975361'))?.refunds.map((fact) => fact.id)).toEqual(['rf_1']);
  });
});

describe('Upgrading: payment items written by the previous release', () => {
  it("finds a Stripe session an earlier release keyed by its reference, by the session's id, and not by the reference alone", async () => {
    const publisher = new CollectingPublisher();
    const deps = { store, unmatched, publisher, now: () => FOLD_NOW, keepPayload: false };
    // As written before sessions were keyed by Stripe's id: the key was the reference, and no gateway id was kept.
    const written = foldAll([
      domainEvent('payment.succeeded', 'evt_old_session', {
        gatewayPaymentId: 'cs_old_1',
        reference: 'ORDER-S1',
        factId: 'cs_old_1',
        money: usd(2500),
      }),
    ]).payment;
    if (!written) throw new Error('nothing folded');
    const { gatewayPaymentId: _notKept, ...withoutId } = written;
    await store.save({ ...withoutId, paymentKey: 'ORDER-S1' });
    const session = { gatewayPaymentId: 'cs_old_1', reference: 'ORDER-S1', factId: 'cs_old_1' };
    const again = await applyEvent(
      domainEvent('payment.succeeded', 'evt_session_again', { ...session, money: usd(2500) }),
      deps,
    );
    expect(again.paymentKey).toBe('ORDER-S1');
    expect(again.transition?.from).toBe(again.transition?.to);
    expect(await store.get('stripe', 'cs_old_1')).toBeUndefined();
    // Another session whose payer chose the same client_reference_id is its own payment.
    const other = await applyEvent(
      domainEvent('payment.succeeded', 'evt_payer_session', {
        gatewayPaymentId: 'cs_payer_2',
        reference: 'ORDER-S1',
        factId: 'cs_payer_2',
        money: usd(100),
      }),
      deps,
    );
    expect(other.paymentKey).toBe('cs_payer_2');
    expect((await store.get('stripe', 'ORDER-S1'))?.moneyIn.map((fact) => fact.id)).toEqual(['cs_old_1']);
  });

  it('finds a record the previous release keyed by a bare gateway id, and keeps it under that key', async () => {
    await putLegacy(
      legacy('777001', {
        gateway: 'paystack',
        pk: 'PAYMENT#paystack#777001',
        reference: undefined,
        gatewayPaymentId: '777001',
        status: 'succeeded',
        paid: { amountMinor: '250000', currency: 'NGN', exponent: 2 },
      }),
    );
    const publisher = new CollectingPublisher();
    const deps = { store, unmatched, publisher, now: () => FOLD_NOW, keepPayload: false };
    // As the consumer runs it: the history is written when the event's record completes, and a payment kept under an
    // earlier release's key keeps its history in its own partition, not in the one the event's record is in.
    const apply = idempotentApply(
      new DynamoEventRecords(documents(), { tableName: tables.payments, historyRetentionDays: 30 }),
      deps,
    );
    const refund = domainEvent('refund.succeeded', 'ps_legacy_refund', {
      gateway: 'paystack',
      reference: undefined,
      gatewayPaymentId: '777001',
      factId: 'rf_legacy',
      money: moneyFromMinor('1000', 'NGN'),
    });
    const result = await apply(refund);
    expect(result.paymentKey).toBe('777001');
    const updated = await store.get('paystack', '777001');
    expect([updated?.status, updated && refundedTotalMinor(updated)]).toEqual(['partially_refunded', 1000n]);
    expect(await store.get('paystack', '@id:777001')).toBeUndefined();
    expect((await store.history('paystack', '777001')).map((entry) => entry.eventId)).toEqual([
      'ps_legacy_refund',
    ]);
    // Its record is in the partition the event names today: a duplicate is answered from it, applying nothing.
    const published = publisher.events.length;
    await apply({ ...refund, requestId: 'req-gateway-retry' });
    expect(apply.executed).toBe(false);
    expect(publisher.events).toHaveLength(published);
    expect(await store.history('paystack', '777001')).toHaveLength(1);
  });

  const documents = () => createDocumentClient(dynamo.client);
  const legacy = (key: string, fields: Partial<LegacyPaymentItem>): LegacyPaymentItem => ({
    pk: `PAYMENT#stripe#${key}`,
    sk: 'PAYMENT',
    gateway: 'stripe',
    paymentKey: key,
    gatewayPaymentId: key,
    reference: `REF-${key}`,
    status: 'pending',
    version: 4,
    mode: 'live',
    refundedMinor: '0',
    createdAt: '2026-11-20T10:00:00.000Z',
    updatedAt: '2026-11-20T10:05:00.000Z',
    recentEvents: [{ eventId: 'evt_old', from: null, to: 'succeeded' }],
    ...fields,
  });
  const putLegacy = (item: LegacyPaymentItem) =>
    documents().send(new PutCommand({ TableName: tables.payments, Item: item }));

  it('reads a partially refunded item as upgraded facts, and writes it in the new format on its next change', async () => {
    await putLegacy(
      legacy('pi_old_refund', {
        status: 'partially_refunded',
        paid: { amountMinor: '10000', currency: 'USD', exponent: 2 },
        refundedMinor: '2000',
      }),
    );
    const read = await store.get('stripe', 'pi_old_refund');
    expect(read?.status).toBe('partially_refunded');
    expect(read && paidTotal(read)).toEqual(usd(10_000));
    expect(read && refundedTotalMinor(read)).toBe(2000n);

    const publisher = new CollectingPublisher();
    const deps = { store, unmatched, publisher, now: () => FOLD_NOW, keepPayload: false };
    // The old release announced the payment and its first refund; a new refund adds to it and only it is announced.
    await applyEvent(
      domainEvent('refund.succeeded', 'evt_new_refund', {
        gatewayPaymentId: 'pi_old_refund',
        factId: 're_2',
        money: usd(3000),
      }),
      deps,
    );
    // A late duplicate of the payment (past the dedupe window) takes the upgraded money's place, unannounced.
    await applyEvent(
      domainEvent('payment.succeeded', 'evt_late_dup', {
        gatewayPaymentId: 'pi_old_refund',
        factId: 'pi_old_refund',
        money: usd(10_000),
      }),
      deps,
    );
    const after = await store.get('stripe', 'pi_old_refund');
    expect(after && refundedTotalMinor(after)).toBe(5000n);
    expect(after?.version).toBe(6);
    expect(
      publisher.events.map((event) => `${event.fact.type}:${event.fact.id}:${event.fact.state}`),
    ).toEqual(['refund:re_2:succeeded']);
    expect(publisher.events[0]).toMatchObject({
      from: 'partially_refunded',
      status: 'partially_refunded',
      paid: '10000',
      refunded: '5000',
    });
    const raw = await documents().send(
      new (await import('@aws-sdk/lib-dynamodb')).GetCommand({
        TableName: tables.payments,
        Key: { pk: 'PAYMENT#stripe#pi_old_refund', sk: 'PAYMENT' },
      }),
    );
    expect(raw.Item?.format).toBe(PAYMENT_ITEM_FORMAT);
    expect(raw.Item?.refundedMinor).toBeUndefined();
  });

  it('reads a refund seen before its payment (no paid amount) so that the payment, when it comes, is counted and announced', async () => {
    await putLegacy(
      legacy('pi_old_early', {
        status: 'partially_refunded',
        amount: { amountMinor: '2500', currency: 'USD', exponent: 2 },
        refundedMinor: '2500',
      }),
    );
    const publisher = new CollectingPublisher();
    await applyEvent(
      domainEvent('payment.succeeded', 'evt_finally_paid', {
        gatewayPaymentId: 'pi_old_early',
        factId: 'pi_old_early',
        money: usd(10_000),
      }),
      { store, unmatched, publisher, now: () => FOLD_NOW, keepPayload: false },
    );
    const after = await store.get('stripe', 'pi_old_early');
    expect(after?.status).toBe('partially_refunded');
    expect(after && paidTotal(after)).toEqual(usd(10_000));
    expect(publisher.events.map((event) => event.to)).toEqual(['succeeded']);
  });

  it('lets the first real dispute take the place of an old one, so winning it ends the dispute and announces only the win', async () => {
    await putLegacy(
      legacy('pi_old_disputed', {
        status: 'disputed',
        paid: { amountMinor: '900', currency: 'USD', exponent: 2 },
      }),
    );
    const publisher = new CollectingPublisher();
    await applyEvent(
      domainEvent('dispute.won', 'evt_won', { gatewayPaymentId: 'pi_old_disputed', factId: 'du_1' }),
      { store, unmatched, publisher, now: () => FOLD_NOW, keepPayload: false },
    );
    const after = await store.get('stripe', 'pi_old_disputed');
    expect(after?.status).toBe('dispute_won');
    expect(after?.disputes.map((fact) => [fact.id, fact.states])).toEqual([['du_1', ['opened', 'won']]]);
    expect(
      publisher.events.map((event) => `${event.fact.type}:${event.fact.id}:${event.fact.state}`),
    ).toEqual(['dispute:du_1:won']);
  });

  it('keeps an old amount when the money it stood for is told again without one', async () => {
    await putLegacy(
      legacy('pi_old_amount', {
        status: 'succeeded',
        paid: { amountMinor: '4200', currency: 'USD', exponent: 2 },
      }),
    );
    const publisher = new CollectingPublisher();
    await applyEvent(
      domainEvent('payment.succeeded', 'evt_no_amount', {
        gatewayPaymentId: 'pi_old_amount',
        factId: 'ch_real',
      }),
      { store, unmatched, publisher, now: () => FOLD_NOW, keepPayload: false },
    );
    const after = await store.get('stripe', 'pi_old_amount');
    expect(after?.moneyIn).toEqual([{ id: 'ch_real', money: usd(4200), eventIds: ['evt_no_amount'] }]);
    expect(publisher.events).toEqual([]);
  });

  it('keeps an old disputed or awaiting-confirmation payment as it was, the latter still in the pending index', async () => {
    await putLegacy(
      legacy('pi_old_dispute', {
        status: 'disputed',
        paid: { amountMinor: '500', currency: 'USD', exponent: 2 },
      }),
    );
    await putLegacy(
      legacy('pi_old_claim', {
        status: 'authorized',
        amount: { amountMinor: '700', currency: 'USD', exponent: 2 },
        awaitingConfirmation: true,
        // The previous release kept a payment awaiting confirmation in its gateway's pending partition.
        pendingGateway: 'stripe',
        pendingSince: '2026-11-20T10:00:00.000Z',
      }),
    );
    expect((await store.get('stripe', 'pi_old_dispute'))?.status).toBe('disputed');
    const claim = await store.get('stripe', 'pi_old_claim');
    expect(claim?.status).toBe('authorized');
    expect(claim && factsOf(claim).attempts).toEqual([
      {
        id: 'pi_old_claim',
        money: usd(700),
        states: ['authorized'],
        claim: true,
        eventIds: [],
        upgraded: true,
      },
    ]);
    // As written by the previous release, the reconciler's pending pass asks about it (it checks claims too)...
    const before = await store.pendingPayments('stripe', '2026-11-21T00:00:00.000Z', 10);
    expect(before.map((payment) => payment.paymentKey)).toContain('pi_old_claim');
    // ...and written back in the new format, it moves to the confirmations, until the claim is confirmed.
    if (claim) await store.save({ ...claim, version: claim.version + 1 });
    const due = await store.confirmationsDue('stripe', '2026-11-21T00:00:00.000Z', 10);
    expect(due.map((payment) => payment.paymentKey)).toContain('pi_old_claim');
    const pending = await store.pendingPayments('stripe', '2026-11-21T00:00:00.000Z', 10);
    expect(pending.map((payment) => payment.paymentKey)).not.toContain('pi_old_claim');
  });
});
