import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { PAYMENTS_TABLE } from '../definitions.js';
import { type MoneyJson, moneyFromJson, moneyToJson } from '../domain/money.js';
import type { AppliedEvent, Payment, PaymentStatus } from '../domain/payment.js';
import type { EventKind, EventMode, GatewayName } from '../domain/webhook-event.js';
import { type HistoryEntry, type PaymentStore, StaleWriteError } from '../processing/ports.js';

const PAYMENT_SORT_KEY = 'PAYMENT';
const HISTORY_PREFIX = 'EVENT#';

function partitionKey(gateway: GatewayName, paymentKey: string): string {
  return `PAYMENT#${gateway}#${paymentKey}`;
}

interface PaymentItem {
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
  /** A decimal string: DynamoDB numbers would come back as doubles through the document client. */
  readonly refundedMinor: string;
  readonly pendingGateway?: string;
  readonly pendingSince?: string;
  readonly referenceKey?: string;
  readonly gatewayPaymentIdKey?: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly recentEvents: readonly AppliedEvent[];
}

interface HistoryItem {
  readonly pk: string;
  readonly sk: string;
  readonly gateway: GatewayName;
  readonly paymentKey: string;
  readonly eventId: string;
  readonly eventType: string;
  readonly kind: EventKind;
  readonly receivedAt: string;
  readonly occurredAt?: string;
  readonly requestId: string;
  readonly money?: MoneyJson;
  readonly transition?: AppliedEvent;
  readonly note?: string;
  readonly payload?: string;
  readonly expiresAt: number;
}

function toItem(payment: Payment): PaymentItem {
  const { expected, amount, paid, refundedMinor, pendingSince, ...rest } = payment;
  return {
    ...rest,
    pk: partitionKey(payment.gateway, payment.paymentKey),
    sk: PAYMENT_SORT_KEY,
    ...(expected && { expected: moneyToJson(expected) }),
    ...(amount && { amount: moneyToJson(amount) }),
    ...(paid && { paid: moneyToJson(paid) }),
    refundedMinor: refundedMinor.toString(),
    // The pending index is sparse: its keys exist only while the payment is pending.
    ...((payment.status === 'pending' || payment.awaitingConfirmation) &&
      pendingSince && { pendingGateway: payment.gateway, pendingSince }),
    ...(payment.reference !== undefined && { referenceKey: `${payment.gateway}#${payment.reference}` }),
    ...(payment.gatewayPaymentId !== undefined && {
      gatewayPaymentIdKey: `${payment.gateway}#${payment.gatewayPaymentId}`,
    }),
  };
}

function fromItem(item: PaymentItem): Payment {
  const {
    pk: _pk,
    sk: _sk,
    pendingGateway: _pendingGateway,
    referenceKey: _referenceKey,
    gatewayPaymentIdKey: _gatewayPaymentIdKey,
    expected,
    amount,
    paid,
    refundedMinor,
    ...rest
  } = item;
  return {
    ...rest,
    ...(expected && { expected: moneyFromJson(expected) }),
    ...(amount && { amount: moneyFromJson(amount) }),
    ...(paid && { paid: moneyFromJson(paid) }),
    refundedMinor: BigInt(refundedMinor),
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
    return Item ? fromItem(Item as PaymentItem) : undefined;
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
        if (Item) return fromItem(Item as PaymentItem);
      }
    }
    return undefined;
  }

  async pendingPayments(gateway: GatewayName, before: string, limit: number): Promise<Payment[]> {
    const { pendingIndex } = PAYMENTS_TABLE;
    const payments: Payment[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.options.tableName,
          IndexName: pendingIndex.name,
          KeyConditionExpression: '#gateway = :gateway AND #since < :before',
          ExpressionAttributeNames: { '#gateway': pendingIndex.partitionKey, '#since': pendingIndex.sortKey },
          ExpressionAttributeValues: { ':gateway': gateway, ':before': before },
          ScanIndexForward: true,
          Limit: limit - payments.length,
          ExclusiveStartKey: startKey,
        }),
      );
      payments.push(...((page.Items ?? []) as PaymentItem[]).map(fromItem));
      startKey = page.LastEvaluatedKey;
    } while (startKey && payments.length < limit);
    return payments;
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

  async recordHistory(entry: HistoryEntry): Promise<void> {
    const { money, ...rest } = entry;
    const receivedSeconds = Math.floor(Date.parse(entry.receivedAt) / 1000);
    const item: HistoryItem = {
      ...rest,
      pk: partitionKey(entry.gateway, entry.paymentKey),
      sk: `${HISTORY_PREFIX}${entry.eventId}`,
      ...(money && { money: moneyToJson(money) }),
      expiresAt: receivedSeconds + this.options.historyRetentionDays * 86_400,
    };
    await this.client.send(new PutCommand({ TableName: this.options.tableName, Item: item }));
  }

  async history(gateway: GatewayName, paymentKey: string): Promise<HistoryEntry[]> {
    const items: HistoryItem[] = [];
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
      items.push(...((page.Items ?? []) as HistoryItem[]));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return items
      .map(({ pk: _pk, sk: _sk, expiresAt: _expiresAt, money, ...rest }) => ({
        ...rest,
        ...(money && { money: moneyFromJson(money) }),
      }))
      .sort((a, b) => a.receivedAt.localeCompare(b.receivedAt) || a.eventId.localeCompare(b.eventId));
  }
}
