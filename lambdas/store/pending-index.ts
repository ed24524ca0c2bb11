import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { PAYMENTS_TABLE } from '../definitions.js';
import type { GatewayName } from '../domain/webhook-event.js';

/**
 * The reconciler's progress through one partition of the pending index: one item per partition,
 * `RECONCILER#<gateway>` (pending payments) and `RECONCILER#<gateway>#confirm` (claims awaiting confirmation), sort key
 * `PROGRESS`. It carries none of the index attributes (so no index holds it), and no payment's key (`PAYMENT#...`)
 * can equal it; the reconciler's IAM allows it to write only keys starting `RECONCILER#`, never a payment.
 */
export const RECONCILER_PROGRESS_PREFIX = 'RECONCILER#';
const RECONCILER_PROGRESS_SORT_KEY = 'PROGRESS';

/** A place in the pending index: its keys, enough to continue a query after it (even once that payment left). */
interface IndexPosition {
  readonly pendingSince: string;
  readonly pk: string;
  readonly sk: string;
}

/**
 * Why a stored position, not an "asked at" on each payment: the reconciler never writes a payment (the consumers'
 * version-conditional writes own them; its own writes would race them). `frontier` is the last payment asked about
 * in index order: those after it were never asked about, so they come first. (One that enters the index behind it,
 * with a `pendingSince` older than a payment already asked about, as after a consumer backlog longer than the grace
 * period, waits for the round-robin.) `cursor` is where the round-robin over the payments up to the frontier
 * stopped, so each of them is asked about once per round, the least recently asked first.
 */
interface ReconcilerProgressItem {
  readonly pk: string;
  readonly sk: string;
  readonly gateway: GatewayName;
  readonly frontier?: IndexPosition;
  readonly cursor?: IndexPosition;
  readonly version: number;
  readonly updatedAt: string;
}

/** A key condition on `pendingSince`. */
interface SinceRange {
  readonly operator: '<' | '<=';
  readonly value: string;
}

/** What the index holds of an item: its table keys and its place. */
export interface IndexedItem {
  readonly pk: string;
  readonly sk: string;
  readonly pendingSince?: string;
}

function withinRange(range: SinceRange, since: string): boolean {
  return range.operator === '<' ? since < range.value : since <= range.value;
}

function positionOf(item: IndexedItem): IndexPosition {
  return { pendingSince: item.pendingSince ?? '', pk: item.pk, sk: item.sk };
}

interface Entry<T> {
  readonly item: T;
  /** Never asked about (after the frontier), as opposed to taken in the round-robin. */
  readonly fresh: boolean;
}

/** Pages through one partition of the pending index, collecting up to `limit` distinct items. */
class IndexPager<T extends IndexedItem> {
  readonly entries: Entry<T>[] = [];
  private readonly seen = new Set<string>();

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly partition: string,
    readonly limit: number,
  ) {}

  get full(): boolean {
    return this.entries.length >= this.limit;
  }

  /** From just after `start`, skipping what it already holds (or stopping at the first of them). */
  async take(range: SinceRange, start: IndexPosition | undefined, fresh: boolean, stopAtSeen: boolean) {
    const { pendingIndex } = PAYMENTS_TABLE;
    // What it holds and the range covers, to read past; none when it stops at the first of them.
    const skippable = stopAtSeen
      ? 0
      : this.entries.filter(({ item }) => withinRange(range, positionOf(item).pendingSince)).length;
    let startKey: Record<string, unknown> | undefined = start && { pendingGateway: this.partition, ...start };
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: pendingIndex.name,
          KeyConditionExpression: `#gateway = :gateway AND #since ${range.operator} :bound`,
          ExpressionAttributeNames: { '#gateway': pendingIndex.partitionKey, '#since': pendingIndex.sortKey },
          ExpressionAttributeValues: { ':gateway': this.partition, ':bound': range.value },
          ScanIndexForward: true,
          Limit: this.limit - this.entries.length + skippable,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of (page.Items ?? []) as T[]) {
        if (this.seen.has(item.pk)) {
          if (stopAtSeen) return;
          continue;
        }
        this.seen.add(item.pk);
        this.entries.push({ item, fresh });
        if (this.full) return;
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }
}

/** Never asked first (after the frontier, oldest first), then round-robin from the cursor, wrapping around once. */
async function takeInAskingOrder<T extends IndexedItem>(
  pager: IndexPager<T>,
  progress: ReconcilerProgressItem | undefined,
  before: string,
): Promise<void> {
  const { frontier, cursor } = progress ?? {};
  if (pager.limit <= 0) return;
  if (!frontier || frontier.pendingSince < before) {
    await pager.take({ operator: '<', value: before }, frontier, true, false);
  }
  if (!frontier || pager.full) return;
  const range: SinceRange =
    frontier.pendingSince < before
      ? { operator: '<=', value: frontier.pendingSince }
      : { operator: '<', value: before };
  // A query may only start inside its range (a cursor past it, left by an overlapping run, starts a round).
  const from = cursor && withinRange(range, cursor.pendingSince) ? cursor : undefined;
  await pager.take(range, from, false, false);
  if (from && !pager.full) await pager.take(range, undefined, false, true);
}

/** Records that the first `count` entries were asked about: they go behind the others next time. */
async function recordAsked<T extends IndexedItem>(
  client: DynamoDBDocumentClient,
  tableName: string,
  gateway: GatewayName,
  progressKey: { readonly pk: string; readonly sk: string },
  progress: ReconcilerProgressItem | undefined,
  entries: readonly Entry<T>[],
  count: number,
): Promise<void> {
  const done = entries.slice(0, Math.max(0, count));
  const lastFresh = done.findLast((entry) => entry.fresh);
  const lastRound = done.findLast((entry) => !entry.fresh);
  if (!lastFresh && !lastRound) return;
  const nextFrontier = lastFresh ? positionOf(lastFresh.item) : progress?.frontier;
  const nextCursor = lastRound ? positionOf(lastRound.item) : progress?.cursor;
  const next: ReconcilerProgressItem = {
    ...progressKey,
    gateway,
    ...(nextFrontier && { frontier: nextFrontier }),
    ...(nextCursor && { cursor: nextCursor }),
    version: (progress?.version ?? 0) + 1,
    updatedAt: new Date().toISOString(),
  };
  try {
    await client.send(
      new PutCommand({
        TableName: tableName,
        Item: next,
        ConditionExpression: progress ? '#version = :previous' : 'attribute_not_exists(pk)',
        ...(progress && {
          ExpressionAttributeNames: { '#version': 'version' },
          ExpressionAttributeValues: { ':previous': progress.version },
        }),
      }),
    );
  } catch (error) {
    // An overlapping run moved the progress since this one read it: its progress stands. These payments are then
    // asked about again, never skipped.
    if (!(error instanceof ConditionalCheckFailedException)) throw error;
  }
}

/** Up to `limit` items of one partition of the pending index, in asking order, and how to record the asking. */
export async function readWaiting<T extends IndexedItem>(
  client: DynamoDBDocumentClient,
  tableName: string,
  where: { readonly gateway: GatewayName; readonly partition: string; readonly before: string },
  limit: number,
): Promise<{ readonly items: readonly T[]; asked(count: number): Promise<void> }> {
  const progressKey = {
    pk: `${RECONCILER_PROGRESS_PREFIX}${where.partition}`,
    sk: RECONCILER_PROGRESS_SORT_KEY,
  };
  const { Item } = await client.send(
    new GetCommand({ TableName: tableName, Key: progressKey, ConsistentRead: true }),
  );
  const progress = Item as ReconcilerProgressItem | undefined;
  const pager = new IndexPager<T>(client, tableName, where.partition, limit);
  await takeInAskingOrder(pager, progress, where.before);
  return {
    items: pager.entries.map((entry) => entry.item),
    asked: (count) =>
      recordAsked(client, tableName, where.gateway, progressKey, progress, pager.entries, count),
  };
}
