import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { PAYMENTS_TABLE } from '../definitions.js';
import { type Money, type MoneyJson, moneyFromJson, moneyToJson } from '../domain/money.js';
import {
  type Announcement,
  type AttemptFact,
  type AttemptState,
  announceable,
  awaitingConfirmation,
  type DisputeFact,
  type DisputeState,
  deriveStatus,
  type FactRef,
  factKey,
  type MoneyInFact,
  PAYMENT_STATUSES,
  type Payment,
  type PaymentStatus,
  type RefundFact,
} from '../domain/payment.js';
import type { EventMode, GatewayName } from '../domain/webhook-event.js';
import {
  type HistoryEntry,
  type PaymentStore,
  type PendingPayments,
  StaleWriteError,
} from '../ports/payment-store.js';
import {
  HISTORY_PREFIX,
  type HistoryAttributes,
  historyEntryOf,
  holdsHistory,
  paymentPartitionKey,
} from './history-items.js';
import { readWaiting } from './pending-index.js';

const PAYMENT_SORT_KEY = 'PAYMENT';

export { RECONCILER_PROGRESS_PREFIX } from './pending-index.js';

/**
 * The pending index's partition for a gateway's payments awaiting confirmation of an unverified claim. At most one
 * entry per payment (its own item), so at most one confirmation is outstanding per payment however many claims came.
 * Items written before this partition existed stay in the gateway's own one, where the pending pass asks about them.
 */
function confirmationPartition(gateway: GatewayName): string {
  return `${gateway}#confirm`;
}

const partitionKey = paymentPartitionKey;

/**
 * The payment item's format. 2 holds the payment's facts (money in, refunds, disputes, attempts); an item without a
 * format was written by the previous release (a status, a paid amount and a refunded total) and is read by
 * {@link fromLegacyItem}, then written in format 2 on its first change.
 */
export const PAYMENT_ITEM_FORMAT = 2;

/** A fact as stored: its money as a {@link MoneyJson} (exact decimal strings). */
type FactItem<F> = Omit<F, 'money'> & { readonly money?: MoneyJson };

interface AnnouncementItem {
  readonly fact: FactRef;
  readonly to: PaymentStatus;
  readonly money?: MoneyJson;
}

interface RecentEventItem {
  readonly eventId: string;
  readonly from: PaymentStatus | null;
  readonly to: PaymentStatus;
  readonly announced?: readonly AnnouncementItem[];
  readonly paid?: MoneyJson;
  readonly refundedMinor?: string;
  readonly occurredAt?: string;
  readonly reference?: string;
  readonly gatewayPaymentId?: string;
}

interface PaymentItem {
  readonly pk: string;
  readonly sk: string;
  readonly format: typeof PAYMENT_ITEM_FORMAT;
  readonly gateway: GatewayName;
  readonly paymentKey: string;
  readonly reference?: string;
  readonly gatewayPaymentId?: string;
  readonly status: PaymentStatus;
  readonly version: number;
  readonly mode: EventMode;
  readonly expected?: MoneyJson;
  readonly moneyIn: readonly FactItem<MoneyInFact>[];
  readonly refunds: readonly FactItem<RefundFact>[];
  readonly disputes: readonly FactItem<DisputeFact>[];
  readonly attempts: readonly FactItem<AttemptFact>[];
  readonly refundedFloor?: MoneyJson;
  readonly pendingGateway?: string;
  readonly pendingSince?: string;
  readonly expiresAt?: string;
  readonly referenceKey?: string;
  readonly gatewayPaymentIdKey?: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly recentEvents: readonly RecentEventItem[];
  readonly announced: readonly FactRef[];
}

/** What the previous release wrote: a status with a paid amount and a refunded total, and no facts. */
export interface LegacyPaymentItem {
  readonly pk: string;
  readonly sk: string;
  readonly gateway: GatewayName;
  readonly paymentKey: string;
  readonly reference?: string;
  readonly gatewayPaymentId?: string;
  readonly status: PaymentStatus;
  readonly version: number;
  readonly mode: EventMode;
  readonly expected?: MoneyJson;
  readonly amount?: MoneyJson;
  readonly paid?: MoneyJson;
  readonly refundedMinor: string;
  readonly pendingGateway?: string;
  readonly pendingSince?: string;
  readonly expiresAt?: string;
  readonly awaitingConfirmation?: boolean;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly recentEvents: readonly {
    readonly eventId: string;
    readonly from: PaymentStatus | null;
    readonly to: PaymentStatus;
  }[];
}

function factToItem<F extends { readonly money?: Money }>(fact: F): FactItem<F> {
  const { money, ...rest } = fact;
  return { ...rest, ...(money && { money: moneyToJson(money) }) };
}

function factFromItem<F extends { readonly money?: Money }>(item: FactItem<F>): F {
  const { money, ...rest } = item;
  return { ...rest, ...(money && { money: moneyFromJson(money) }) } as unknown as F;
}

function toItem(payment: Payment): PaymentItem {
  const {
    expected,
    refundedFloor,
    pendingSince,
    moneyIn,
    refunds,
    disputes,
    attempts,
    recentEvents,
    ...rest
  } = payment;
  return {
    ...rest,
    pk: partitionKey(payment.gateway, payment.paymentKey),
    sk: PAYMENT_SORT_KEY,
    format: PAYMENT_ITEM_FORMAT,
    ...(expected && { expected: moneyToJson(expected) }),
    ...(refundedFloor && { refundedFloor: moneyToJson(refundedFloor) }),
    moneyIn: moneyIn.map(factToItem),
    refunds: refunds.map(factToItem),
    disputes: disputes.map(factToItem),
    attempts: attempts.map(factToItem),
    recentEvents: recentEvents.map(({ announced, paid, refundedMinor, ...event }) => ({
      ...event,
      announced: announced.map(factToItem),
      ...(paid && { paid: moneyToJson(paid) }),
      ...(refundedMinor !== undefined && { refundedMinor: refundedMinor.toString() }),
    })),
    // The pending index is sparse: its keys exist only while the payment is pending or awaiting confirmation, and a
    // claim awaiting confirmation has a partition of its own, which the reconciler works off first and without grace.
    ...(pendingSince &&
      (awaitingConfirmation(payment)
        ? { pendingGateway: confirmationPartition(payment.gateway), pendingSince }
        : payment.status === 'pending' && { pendingGateway: payment.gateway, pendingSince })),
    // A lookup key only where it adds a way to find the payment: one keyed by its reference (or its gateway payment
    // id) is found by that value with one GetItem (`find` tries the key first), so an index entry for it would only
    // cost a write on every new payment (issue #20).
    ...(payment.reference !== undefined &&
      payment.reference !== payment.paymentKey && {
        referenceKey: `${payment.gateway}#${payment.reference}`,
      }),
    ...(payment.gatewayPaymentId !== undefined &&
      payment.gatewayPaymentId !== payment.paymentKey && {
        gatewayPaymentIdKey: `${payment.gateway}#${payment.gatewayPaymentId}`,
      }),
  };
}

function fromItem(item: PaymentItem | LegacyPaymentItem): Payment {
  if (!('format' in item) || item.format !== PAYMENT_ITEM_FORMAT)
    return fromLegacyItem(item as LegacyPaymentItem);
  const {
    pk: _pk,
    sk: _sk,
    format: _format,
    pendingGateway: _pendingGateway,
    referenceKey: _referenceKey,
    gatewayPaymentIdKey: _gatewayPaymentIdKey,
    expected,
    refundedFloor,
    moneyIn,
    refunds,
    disputes,
    attempts,
    recentEvents,
    ...rest
  } = item;
  return {
    ...rest,
    ...(expected && { expected: moneyFromJson(expected) }),
    ...(refundedFloor && { refundedFloor: moneyFromJson(refundedFloor) }),
    moneyIn: moneyIn.map((fact) => factFromItem<MoneyInFact>(fact)),
    refunds: refunds.map((fact) => factFromItem<RefundFact>(fact)),
    disputes: disputes.map((fact) => factFromItem<DisputeFact>(fact)),
    attempts: attempts.map((fact) => factFromItem<AttemptFact>(fact)),
    recentEvents: recentEvents.map(({ announced, paid, refundedMinor, ...event }) => ({
      ...event,
      announced: (announced ?? []).map((announcement) => factFromItem<Announcement>(announcement)),
      ...(paid && { paid: moneyFromJson(paid) }),
      ...(refundedMinor !== undefined && { refundedMinor: BigInt(refundedMinor) }),
    })),
  };
}

const UPGRADED_ID = 'upgraded';

/** Statuses of the previous release that meant money had arrived. */
const LEGACY_PAID_STATUSES: readonly PaymentStatus[] = PAYMENT_STATUSES.filter(
  (status) => !['pending', 'authorized', 'failed', 'expired'].includes(status),
);

const LEGACY_DISPUTE_STATES: Partial<Record<PaymentStatus, DisputeState>> = {
  disputed: 'opened',
  dispute_won: 'won',
  dispute_lost: 'lost',
};

const LEGACY_ATTEMPT_STATES: Partial<Record<PaymentStatus, AttemptState>> = {
  authorized: 'authorized',
  failed: 'failed',
  expired: 'expired',
};

/** The facts an item of the previous release stands for, each marked `upgraded`. */
function legacyFacts(item: LegacyPaymentItem) {
  const paid = item.paid ? moneyFromJson(item.paid) : undefined;
  const amount = item.amount ? moneyFromJson(item.amount) : undefined;
  const refundedMinor = BigInt(item.refundedMinor ?? '0');
  const { status } = item;
  const factId = item.gatewayPaymentId ?? item.paymentKey;
  const moneyIn: MoneyInFact[] =
    // A refund seen before its payment left a refunded record with no paid amount: that payment is still to come.
    paid || (LEGACY_PAID_STATUSES.includes(status) && status !== 'partially_refunded')
      ? [{ id: factId, ...(paid && { money: paid }), eventIds: [], upgraded: true }]
      : [];
  const refundCurrency = paid ?? amount;
  const refunds: RefundFact[] =
    refundedMinor > 0n
      ? [
          {
            id: UPGRADED_ID,
            ...(refundCurrency && { money: { ...refundCurrency, amountMinor: refundedMinor } }),
            states: ['succeeded'],
            eventIds: [],
            upgraded: true,
          },
        ]
      : [];
  const disputeState = LEGACY_DISPUTE_STATES[status];
  const disputes: DisputeFact[] = disputeState
    ? [{ id: UPGRADED_ID, states: [disputeState], eventIds: [], upgraded: true }]
    : [];
  const attemptState = LEGACY_ATTEMPT_STATES[status];
  const attempts: AttemptFact[] = attemptState
    ? [
        {
          id: factId,
          ...(amount && { money: amount }),
          states: [attemptState],
          ...(item.awaitingConfirmation && { claim: true as const }),
          eventIds: [],
          upgraded: true,
        },
      ]
    : [];
  return {
    moneyIn,
    refunds,
    disputes,
    attempts,
    ...(item.expected && { expected: moneyFromJson(item.expected) }),
  };
}

/**
 * A payment item of the previous release, as facts. Its status, paid amount and refunded total become facts marked
 * `upgraded`, and everything they stand for counts as announced (that release announced it). Ids it did not keep are
 * stood in for: the payment's for money in and attempts, `upgraded` for the refunded total and a dispute; the first
 * real money in (with the same money) or dispute takes the stand-in's place (see `absorbUpgraded`). Its recent events
 * keep their ids (a retry still recognises itself) with nothing left to announce.
 */
export function fromLegacyItem(item: LegacyPaymentItem): Payment {
  const facts = legacyFacts(item);
  const payment: Payment = {
    gateway: item.gateway,
    paymentKey: item.paymentKey,
    ...(item.reference !== undefined && { reference: item.reference }),
    ...(item.gatewayPaymentId !== undefined && { gatewayPaymentId: item.gatewayPaymentId }),
    version: item.version,
    mode: item.mode,
    ...facts,
    // Derived again: a refund seen before its payment (no paid amount) now reads as pending until the payment comes.
    status: deriveStatus(facts),
    ...(item.pendingSince !== undefined && { pendingSince: item.pendingSince }),
    ...(item.expiresAt !== undefined && { expiresAt: item.expiresAt }),
    createdAt: item.createdAt,
    updatedAt: item.updatedAt,
    recentEvents: (item.recentEvents ?? []).map((event) => ({
      eventId: event.eventId,
      from: event.from,
      to: event.to,
      announced: [],
    })),
    announced: [],
  };
  // Everything the previous release announced: what the facts announce now, and a refund it announced before any
  // money had arrived (a refund seen first), which announces only once money is in.
  const announced = announceable(payment).map((announcement) => announcement.fact);
  const early = facts.refunds.map((fact) => ({ type: 'refund' as const, id: fact.id, state: 'succeeded' }));
  return {
    ...payment,
    announced: [
      ...announced,
      ...early.filter((fact) => !announced.some((known) => factKey(known) === factKey(fact))),
    ],
  };
}

export interface DynamoPaymentStoreOptions {
  readonly tableName: string;
  /** How long history items are kept, in days. */
  readonly historyRetentionDays: number;
}

/** Payments and their histories in one DynamoDB table: a payment item plus one history item per event. */
export class DynamoPaymentStore implements PaymentStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly options: DynamoPaymentStoreOptions,
  ) {}

  async get(gateway: GatewayName, paymentKey: string): Promise<Payment | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.options.tableName,
        Key: { pk: partitionKey(gateway, paymentKey), sk: PAYMENT_SORT_KEY },
        ConsistentRead: true,
      }),
    );
    return Item ? fromItem(Item as PaymentItem | LegacyPaymentItem) : undefined;
  }

  async find(gateway: GatewayName, identifier: string): Promise<Payment | undefined> {
    const byKey = await this.get(gateway, identifier);
    if (byKey) return byKey;
    for (const index of [PAYMENTS_TABLE.referenceIndex, PAYMENTS_TABLE.gatewayPaymentIdIndex]) {
      const { Items = [] } = await this.client.send(
        new QueryCommand({
          TableName: this.options.tableName,
          IndexName: index.name,
          KeyConditionExpression: '#key = :value',
          ExpressionAttributeNames: { '#key': index.partitionKey },
          ExpressionAttributeValues: { ':value': `${gateway}#${identifier}` },
          Limit: 1,
        }),
      );
      // The lookup indexes hold keys only; the payment itself is read from the table.
      const [item] = Items;
      if (item) {
        const { Item } = await this.client.send(
          new GetCommand({
            TableName: this.options.tableName,
            Key: { pk: item.pk, sk: item.sk },
            ConsistentRead: true,
          }),
        );
        if (Item) return fromItem(Item as PaymentItem | LegacyPaymentItem);
      }
    }
    return undefined;
  }

  pendingPayments(gateway: GatewayName, before: string, limit: number): Promise<PendingPayments> {
    return this.waitingIn(gateway, gateway, before, limit);
  }

  confirmationsDue(gateway: GatewayName, before: string, limit: number): Promise<PendingPayments> {
    return this.waitingIn(gateway, confirmationPartition(gateway), before, limit);
  }

  /** The payments of one partition of the pending index, in asking order (see `pending-index.ts`). */
  private async waitingIn(
    gateway: GatewayName,
    partition: string,
    before: string,
    limit: number,
  ): Promise<PendingPayments> {
    const waiting = await readWaiting<PaymentItem | LegacyPaymentItem>(
      this.client,
      this.options.tableName,
      { gateway, partition, before },
      limit,
    );
    return Object.assign(waiting.items.map(fromItem), { asked: waiting.asked });
  }

  async save(next: Payment): Promise<void> {
    const firstWrite = next.version === 1;
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.options.tableName,
          Item: toItem(next),
          ConditionExpression: firstWrite ? 'attribute_not_exists(pk)' : '#version = :previous',
          ...(firstWrite
            ? {}
            : {
                ExpressionAttributeNames: { '#version': 'version' },
                ExpressionAttributeValues: { ':previous': next.version - 1 },
              }),
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new StaleWriteError(`payment ${next.gateway}#${next.paymentKey} changed since it was read`);
      }
      throw error;
    }
  }

  async history(gateway: GatewayName, paymentKey: string): Promise<HistoryEntry[]> {
    const items: HistoryAttributes[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.options.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :history)',
          ExpressionAttributeValues: { ':pk': partitionKey(gateway, paymentKey), ':history': HISTORY_PREFIX },
          ExclusiveStartKey: startKey,
        }),
      );
      // An event record whose event is still being applied (or failed) has no history yet.
      items.push(...((page.Items ?? []).filter(holdsHistory) as HistoryAttributes[]));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return items
      .map(historyEntryOf)
      .sort((a, b) => a.receivedAt.localeCompare(b.receivedAt) || a.eventId.localeCompare(b.eventId));
  }
}
