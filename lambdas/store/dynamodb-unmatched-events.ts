import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { PAYMENTS_TABLE } from '../definitions.js';
import { type MoneyJson, moneyFromJson, moneyToJson } from '../domain/money.js';
import { type EventKind, GATEWAYS, type GatewayName } from '../domain/webhook-event.js';
import type {
  UnmatchedEvent,
  UnmatchedEventPage,
  UnmatchedEventQuery,
  UnmatchedEventStore,
  UnmatchedEventSummary,
} from '../ports/unmatched-events.js';
import { newestFirstPerPartition } from './newest-first.js';

const UNMATCHED_PREFIX = 'UNMATCHED#';

/** One partition per gateway, apart from every `PAYMENT#...` partition: no payment key can name it. */
export function unmatchedPartitionKey(gateway: GatewayName): string {
  return `${UNMATCHED_PREFIX}${gateway}`;
}

/**
 * The item's attributes. It never carries the pending or lookup index keys (`pendingGateway`, `pendingSince`,
 * `referenceKey`, `gatewayPaymentIdKey`), so it is in none of the table's sparse indexes: the reconciler and the
 * payment lookups never see it.
 */
interface UnmatchedItem {
  readonly pk: string;
  /** `<receivedAt>#<eventId>`: newest last, and `--since` is a key condition. */
  readonly sk: string;
  readonly gateway: GatewayName;
  readonly eventId: string;
  readonly eventType: string;
  readonly kind: EventKind;
  readonly receivedAt: string;
  readonly occurredAt?: string;
  readonly requestId: string;
  readonly money?: MoneyJson;
  readonly payload?: string;
  /** The history retention, as for history items (epoch seconds; the table's TTL attribute). */
  readonly expiresAt: number;
}

/** What a listing reads: everything but the payload (up to the largest body accepted) and the keys. */
const LISTED_ATTRIBUTES = [
  'gateway',
  'eventId',
  'eventType',
  'kind',
  'receivedAt',
  'occurredAt',
  'requestId',
  'money',
] as const;

export interface DynamoUnmatchedEventStoreOptions {
  readonly tableName: string;
  /** How long unmatched events are kept, in days: the history retention. */
  readonly historyRetentionDays: number;
}

/**
 * Unmatched events in the payments table, under their own partition per gateway (`UNMATCHED#<gateway>`), sorted by
 * the time they were received; they expire with the history retention. Keyed by the event, so a retry after a crash
 * rewrites the same item.
 */
export class DynamoUnmatchedEventStore implements UnmatchedEventStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly options: DynamoUnmatchedEventStoreOptions,
  ) {}

  async record(event: UnmatchedEvent): Promise<void> {
    const { money, ...rest } = event;
    const receivedSeconds = Math.floor(Date.parse(event.receivedAt) / 1000);
    const item: UnmatchedItem = {
      ...rest,
      pk: unmatchedPartitionKey(event.gateway),
      sk: `${event.receivedAt}#${event.eventId}`,
      ...(money && { money: moneyToJson(money) }),
      expiresAt: receivedSeconds + this.options.historyRetentionDays * 86_400,
    };
    await this.client.send(new PutCommand({ TableName: this.options.tableName, Item: item }));
  }

  /**
   * Unmatched events since `since`, newest first, at most `limitPerGateway` per gateway: a gateway sending a flood
   * of them shows its newest, and `truncated` says where older ones were left out.
   */
  async list(query: UnmatchedEventQuery): Promise<UnmatchedEventPage> {
    const gateways: readonly GatewayName[] = query.gateway ? [query.gateway] : GATEWAYS;
    const names = Object.fromEntries(LISTED_ATTRIBUTES.map((name, index) => [`#a${index}`, name]));
    const page = await newestFirstPerPartition(
      this.client,
      gateways,
      query.limitPerGateway ?? 1000,
      (gateway, stillWanted) => ({
        TableName: this.options.tableName,
        KeyConditionExpression: '#pk = :pk AND #sk >= :since',
        ProjectionExpression: Object.keys(names).join(', '),
        ExpressionAttributeNames: {
          '#pk': PAYMENTS_TABLE.partitionKey,
          '#sk': PAYMENTS_TABLE.sortKey,
          ...names,
        },
        ExpressionAttributeValues: {
          ':pk': unmatchedPartitionKey(gateway),
          ':since': query.since.toISOString(),
        },
        ScanIndexForward: false,
        // One more than wanted, so a full partition is seen to be cut.
        Limit: stillWanted + 1,
      }),
    );
    const items: UnmatchedEventSummary[] = (
      page.items as Omit<UnmatchedItem, 'pk' | 'sk' | 'expiresAt' | 'payload'>[]
    ).map(({ money, ...rest }) => ({ ...rest, ...(money && { money: moneyFromJson(money) }) }));
    items.sort((a, b) => b.receivedAt.localeCompare(a.receivedAt) || b.eventId.localeCompare(a.eventId));
    return { items, truncated: page.truncated };
  }
}
