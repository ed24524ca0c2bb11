/**
 * The consumers' idempotency records, kept in the payments table on the event's history item: one item per event says
 * both "this event was applied (or is being applied), remember it for the dedupe window" and "this is what it did".
 *
 * Why (issue #20): Powertools' own DynamoDB layer keeps its records in a table of their own, so every new event cost
 * an in-progress write and a completion write there, plus the history item's write here. Here the completion write
 * is the history write, one write unit less for every event, with Powertools' idempotency lifecycle unchanged: the
 * same conditional in-progress write, expiry of orphaned in-progress records, payload validation and answers for
 * duplicates from the stored result.
 *
 * The record of an event that names a payment lives in that payment's partition under the event's history key
 * (`PAYMENT#<gateway>#<payment key>` / `EVENT#<event id>`), where `history` reads it; one that names none has an item
 * of its own (`EVENT#<gateway>#<event id>` / `RECORD`), outside every payment partition and every index.
 */
import {
  IdempotencyItemAlreadyExistsError,
  IdempotencyItemNotFoundError,
  IdempotencyKeyError,
  IdempotencyRecordStatus,
} from '@aws-lambda-powertools/idempotency';
import { BasePersistenceLayer, IdempotencyRecord } from '@aws-lambda-powertools/idempotency/persistence';
import type { IdempotencyRecordStatusValue } from '@aws-lambda-powertools/idempotency/types';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { paymentKeyOf } from '../domain/payment.js';
import type { WebhookEvent } from '../domain/webhook-event.js';
import type { HistoryEntry } from '../ports/payment-store.js';
import {
  type HistoryAttributes,
  historyAttributes,
  historySortKey,
  paymentPartitionKey,
} from './history-items.js';

/** Where an event's record is: its keys in the payments table. */
export interface EventRecordKey {
  readonly pk: string;
  readonly sk: string;
}

/** The sort key of the record of an event that names no payment (its partition is its own). */
export const UNMATCHED_EVENT_RECORD_SORT_KEY = 'RECORD';

/**
 * The key of an event's record: its history item's in the partition its identifiers name today (`paymentKeyOf`), or
 * an item of its own when it names no payment. Only signed content chooses it: the gateway, the event id and the
 * payment's identifiers, all read from the verified body.
 */
export function eventRecordKey(
  event: Pick<WebhookEvent, 'gateway' | 'eventId' | 'reference' | 'gatewayPaymentId'>,
): EventRecordKey {
  const paymentKey = paymentKeyOf(event);
  return paymentKey === undefined
    ? { pk: `EVENT#${event.gateway}#${event.eventId}`, sk: UNMATCHED_EVENT_RECORD_SORT_KEY }
    : { pk: paymentPartitionKey(event.gateway, paymentKey), sk: historySortKey(event.eventId) };
}

/**
 * The record's attributes beside the history's. Named for what they mean here, not Powertools' defaults (`status`,
 * `expiration`): a payment item's `status` is the payment's, and the item outlives the dedupe window as history.
 */
export const EVENT_RECORD_ATTRIBUTES = {
  /** `INPROGRESS` or `COMPLETED` (Powertools' statuses). */
  status: 'applyStatus',
  /** The end of the dedupe window, epoch seconds: a record past it no longer stops a duplicate. */
  dedupeUntil: 'dedupeUntil',
  /** An in-progress record older than this (epoch milliseconds: the consumer's timeout) was left by a crash. */
  inProgressUntil: 'inProgressUntil',
  /** The hash of the event's money: the same event id with other money is refused. */
  moneyHash: 'moneyHash',
  /** What applying the event did (without its history entry, which is the item's own attributes). */
  result: 'result',
} as const;

/** The record's attributes as expression names (some, such as `result`, are reserved words in expressions). */
const RECORD_NAMES = {
  '#status': EVENT_RECORD_ATTRIBUTES.status,
  '#dedupeUntil': EVENT_RECORD_ATTRIBUTES.dedupeUntil,
  '#inProgressUntil': EVENT_RECORD_ATTRIBUTES.inProgressUntil,
  '#moneyHash': EVENT_RECORD_ATTRIBUTES.moneyHash,
  '#result': EVENT_RECORD_ATTRIBUTES.result,
  '#expiresAt': 'expiresAt',
};

const REMOVE_RECORD = 'REMOVE #status, #dedupeUntil, #inProgressUntil, #moneyHash, #result';

const A = EVENT_RECORD_ATTRIBUTES;

/** The names an expression uses, of those given: DynamoDB refuses a name an expression does not use. */
function namesUsed(
  names: Readonly<Record<string, string>>,
  ...expressions: string[]
): Record<string, string> {
  const text = expressions.join(' ');
  return Object.fromEntries(
    Object.entries(names).filter(([placeholder]) => usePattern(placeholder).test(text)),
  );
}

const usePatterns = new Map<string, RegExp>();

/** A placeholder as a whole word (`#money` is not used by `#moneyHash`), compiled once. */
function usePattern(placeholder: string): RegExp {
  let pattern = usePatterns.get(placeholder);
  if (pattern === undefined) {
    pattern = new RegExp(`${placeholder}(?!\\w)`);
    usePatterns.set(placeholder, pattern);
  }
  return pattern;
}

/** What the idempotent function returns: any result, with the event's history entry where it has one. */
interface ResultWithHistory {
  readonly history?: HistoryEntry;
  readonly [field: string]: unknown;
}

/** History attributes that an event may or may not have: a rewrite removes the ones the new entry lacks. */
const OPTIONAL_HISTORY_ATTRIBUTES = [
  'occurredAt',
  'money',
  'transition',
  'announced',
  'note',
  'payload',
] as const satisfies readonly (keyof HistoryAttributes)[];

export interface DynamoEventRecordsOptions {
  readonly tableName: string;
  /** How long history is kept, in days (the history items' retention). */
  readonly historyRetentionDays: number;
}

/**
 * A Powertools persistence layer (`BasePersistenceLayer`, its documented extension point) over the payments table.
 * The idempotent input must carry the `event` (its record is keyed by {@link eventRecordKey}); the result may carry
 * `history`, which the completion writes as the item's history attributes.
 */
export class DynamoEventRecords extends BasePersistenceLayer {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly options: DynamoEventRecordsOptions,
  ) {
    super();
  }

  /**
   * The record's keys ({@link eventRecordKey} of the input's `event`), as JSON: readable in Powertools' messages, never a
   * hash that hides which event it is.
   */
  protected override getHashedIdempotencyKey(data: unknown): string {
    const event = (data as { event?: Partial<WebhookEvent> } | null)?.event;
    if (typeof event?.gateway !== 'string' || typeof event.eventId !== 'string') {
      throw new IdempotencyKeyError(
        'the idempotent input has no event (gateway and event id) to key its record by',
      );
    }
    const { pk, sk } = eventRecordKey(event as WebhookEvent);
    return JSON.stringify([pk, sk]);
  }

  private keyOf(idempotencyKey: string): EventRecordKey {
    const [pk, sk] = JSON.parse(idempotencyKey) as [string, string];
    return { pk, sk };
  }

  private recordOf(idempotencyKey: string, item: Record<string, unknown>): IdempotencyRecord {
    return new IdempotencyRecord({
      idempotencyKey,
      status: item[A.status] as IdempotencyRecordStatusValue,
      expiryTimestamp: item[A.dedupeUntil] as number | undefined,
      inProgressExpiryTimestamp: item[A.inProgressUntil] as number | undefined,
      responseData: item[A.result] as IdempotencyRecord['responseData'],
      payloadHash: item[A.moneyHash] as string | undefined,
    });
  }

  protected async _getRecord(idempotencyKey: string): Promise<IdempotencyRecord> {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.options.tableName,
        Key: this.keyOf(idempotencyKey),
        ConsistentRead: true,
      }),
    );
    // A history item without a record (written before records moved here) is no record.
    if (!Item || Item[A.status] === undefined) throw new IdempotencyItemNotFoundError();
    return this.recordOf(idempotencyKey, Item);
  }

  /**
   * The in-progress record: an update, so that a history item already there (a duplicate past the dedupe window, or
   * one written before records moved here) keeps its history. It succeeds where Powertools' own layer would: no
   * record, an expired one, or an in-progress one whose consumer timed out.
   */
  protected async _putRecord(record: IdempotencyRecord): Promise<void> {
    const now = Date.now();
    const values: Record<string, unknown> = {
      ':status': record.getStatus(),
      ':until': record.expiryTimestamp,
      ':now': now / 1000,
      ':nowMillis': now,
      ':inProgress': IdempotencyRecordStatus.INPROGRESS,
    };
    const set = [
      '#status = :status',
      '#dedupeUntil = :until',
      // A new record expires with its dedupe window; a history item keeps its retention.
      '#expiresAt = if_not_exists(#expiresAt, :until)',
    ];
    // As Powertools' own layer replaces the whole record: nothing of an earlier run's record stays (its result, its
    // holder's time), only the history an item may hold.
    const remove = ['#result'];
    if (record.inProgressExpiryTimestamp !== undefined) {
      set.push('#inProgressUntil = :inProgressUntil');
      values[':inProgressUntil'] = record.inProgressExpiryTimestamp;
    } else {
      remove.push('#inProgressUntil');
    }
    if (this.isPayloadValidationEnabled() && record.payloadHash !== undefined) {
      set.push('#moneyHash = :moneyHash');
      values[':moneyHash'] = record.payloadHash;
    }
    const update = `SET ${set.join(', ')} REMOVE ${remove.join(', ')}`;
    const condition = [
      'attribute_not_exists(pk)',
      'attribute_not_exists(#status)',
      '#dedupeUntil < :now',
      '(#status = :inProgress AND attribute_exists(#inProgressUntil) AND #inProgressUntil < :nowMillis)',
    ].join(' OR ');
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.options.tableName,
          Key: this.keyOf(record.idempotencyKey),
          UpdateExpression: update,
          ConditionExpression: condition,
          ExpressionAttributeNames: namesUsed(RECORD_NAMES, update, condition),
          ExpressionAttributeValues: values,
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        // The document client translates outputs, not errors: the refused item is still in attribute-value form.
        const existing = error.Item && this.recordOf(record.idempotencyKey, unmarshall(error.Item));
        throw new IdempotencyItemAlreadyExistsError(
          `event record ${record.idempotencyKey} already exists`,
          existing,
        );
      }
      throw error;
    }
  }

  /**
   * The completion: the record's status and result, and the event's history as the item's own attributes (kept for
   * the history retention). A payment stored under another key than its events' (written by an earlier release)
   * keeps its history in its own partition: there the history item is written on its own.
   */
  protected async _updateRecord(record: IdempotencyRecord): Promise<void> {
    const key = this.keyOf(record.idempotencyKey);
    const { history, ...result } = (record.responseData ?? {}) as ResultWithHistory;
    const names: Record<string, string> = { ...RECORD_NAMES };
    const values: Record<string, unknown> = {
      ':status': record.getStatus(),
      ':until': record.expiryTimestamp,
      ':result': result,
    };
    const set = ['#status = :status', '#dedupeUntil = :until', '#result = :result'];
    const remove: string[] = [];
    if (this.isPayloadValidationEnabled() && record.payloadHash !== undefined) {
      set.push('#moneyHash = :moneyHash');
      values[':moneyHash'] = record.payloadHash;
    }
    const here = history && paymentPartitionKey(history.gateway, history.paymentKey) === key.pk;
    if (history && here) {
      const attributes = historyAttributes(history, this.options.historyRetentionDays);
      for (const [name, value] of Object.entries(attributes)) {
        if (name === 'expiresAt') continue;
        names[`#h_${name}`] = name;
        values[`:h_${name}`] = value;
        set.push(`#h_${name} = :h_${name}`);
      }
      for (const name of OPTIONAL_HISTORY_ATTRIBUTES) {
        if (attributes[name] !== undefined) continue;
        names[`#h_${name}`] = name;
        remove.push(`#h_${name}`);
      }
      // Kept for the history retention, and never before the dedupe window ends.
      values[':expiresAt'] = Math.max(attributes.expiresAt, record.expiryTimestamp ?? 0);
      set.push('#expiresAt = :expiresAt');
    } else if (history || key.sk === UNMATCHED_EVENT_RECORD_SORT_KEY) {
      // A record-only item (an event that names no payment, or one whose history is in another partition) lives as long
      // as its dedupe window, whatever an earlier run's record left as its expiry.
      set.push('#expiresAt = :until');
    }
    // Otherwise a completion with no history to write leaves the item's own (a duplicate of an event the previous
    // release completed: its history item stays as that release wrote it, and so does its retention).
    if (history && !here) {
      await this.client.send(
        new PutCommand({
          TableName: this.options.tableName,
          Item: {
            pk: paymentPartitionKey(history.gateway, history.paymentKey),
            sk: historySortKey(history.eventId),
            ...historyAttributes(history, this.options.historyRetentionDays),
          },
        }),
      );
    }
    const update = `SET ${set.join(', ')}${remove.length > 0 ? ` REMOVE ${remove.join(', ')}` : ''}`;
    await this.client.send(
      new UpdateCommand({
        TableName: this.options.tableName,
        Key: key,
        UpdateExpression: update,
        ExpressionAttributeNames: namesUsed(names, update),
        ExpressionAttributeValues: values,
      }),
    );
  }

  /**
   * After a failure, the record goes so the retry can run; a history item it sat on (an earlier run's) stays, without
   * the record's attributes.
   */
  protected async _deleteRecord(record: IdempotencyRecord): Promise<void> {
    const key = this.keyOf(record.idempotencyKey);
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.options.tableName,
          Key: key,
          ConditionExpression: 'attribute_not_exists(eventType)',
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      await this.client.send(
        new UpdateCommand({
          TableName: this.options.tableName,
          Key: key,
          UpdateExpression: REMOVE_RECORD,
          ExpressionAttributeNames: namesUsed(RECORD_NAMES, REMOVE_RECORD),
        }),
      );
    }
  }
}
