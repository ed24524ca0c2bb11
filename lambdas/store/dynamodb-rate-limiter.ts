import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { type BucketState, MAX_RESERVATION_SECONDS, takeOrReserve } from '../domain/token-bucket.js';
import type { RateGrant, RateLimiter } from '../ports/deliveries.js';
import { DESTINATION_STATE_PREFIX } from './dynamodb-destination-states.js';

export type { RateGrant, RateLimiter } from '../ports/deliveries.js';

export interface RateLimiterOptions {
  /** Writes retried after losing a race to another invocation, before giving up; default 5. */
  readonly maxRetries?: number;
  /** The clock, epoch ms; default `Date.now`. */
  readonly now?: () => number;
}

const RATE_SORT_KEY = 'RATE';
const DEFAULT_MAX_RETRIES = 5;
/** After every retry lost: nothing granted, the batch comes back in a second. */
const GAVE_UP: RateGrant = { granted: 0, waitSeconds: 1 };
/** A bucket nobody touched for a day is full anyway, which is what a missing item reads as: let TTL remove it. */
const BUCKET_TTL_SECONDS = 24 * 60 * 60;
/** Upper bound of the random pause before retry n (doubling from this), so racing invocations spread out. */
const RETRY_JITTER_BASE_MS = 5;

export class MalformedRateBucketError extends Error {
  override readonly name = 'MalformedRateBucketError';
}

/**
 * Destination rate limits as token buckets in the payments table (`DESTINATION#<name>`, `RATE`), one small item per
 * rate-limited destination. The delivery function may only get and put `DESTINATION#` items (no UpdateItem), so a
 * take is a consistent read, the pure {@link take}, and a put conditioned on the version read (optimistic
 * concurrency): a put that lost a race to another invocation is retried from a fresh read, never applied on top of
 * a bucket it did not see. Fails safe: when every retry loses, nothing is granted (an event waits, never gets dropped,
 * and the limit is never exceeded).
 */
export class DynamoRateLimiter implements RateLimiter {
  private readonly maxRetries: number;
  private readonly now: () => number;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    options: RateLimiterOptions = {},
  ) {
    this.maxRetries = options.maxRetries ?? DEFAULT_MAX_RETRIES;
    this.now = options.now ?? Date.now;
  }

  private key(destination: string) {
    return { pk: `${DESTINATION_STATE_PREFIX}${destination}`, sk: RATE_SORT_KEY };
  }

  async acquire(destination: string, ratePerSecond: number, wanted: number): Promise<RateGrant> {
    for (let attempt = 0; attempt <= this.maxRetries; attempt += 1) {
      if (attempt > 0) await pause(attempt);
      const state = await this.read(destination);
      const { granted, reservedDelaySeconds, next } = takeOrReserve(state, ratePerSecond, wanted, this.now());
      const reserved = reservedDelaySeconds.length;
      // The records past the reservations (the bucket's debt at its limit) wait as long as the furthest reservation.
      const waitSeconds = granted + reserved === wanted ? 0 : MAX_RESERVATION_SECONDS;
      const grant = { granted, waitSeconds, reservedDelaySeconds };
      // Nothing taken or reserved, nothing to write: a later refill from the stored bucket gives the same tokens.
      if (granted === 0 && reserved === 0) return grant;
      if (await this.write(destination, next, state)) return grant;
    }
    return GAVE_UP;
  }

  /** The bucket as stored (`undefined`: no item yet, a full bucket), with the version a write is conditioned on. */
  private async read(destination: string): Promise<BucketState | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: this.key(destination), ConsistentRead: true }),
    );
    if (Item === undefined) return undefined;
    const { milliTokens, updatedAtMs, version } = Item;
    // milliTokens is below 0 while tokens are reserved ahead.
    if (!Number.isSafeInteger(milliTokens) || !isWholeNumber(updatedAtMs) || !isWholeNumber(version)) {
      throw new MalformedRateBucketError(
        `the rate bucket of destination ${destination} is not in the stored shape`,
      );
    }
    return { milliTokens, updatedAtMs, version };
  }

  /** Writes `next` if the bucket is still as `read`; false when another invocation wrote it first. */
  private async write(
    destination: string,
    next: BucketState,
    read: BucketState | undefined,
  ): Promise<boolean> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...this.key(destination),
            milliTokens: next.milliTokens,
            updatedAtMs: next.updatedAtMs,
            version: next.version + 1,
            expiresAt: Math.ceil(next.updatedAtMs / 1000) + BUCKET_TTL_SECONDS,
          },
          ...(read === undefined
            ? { ConditionExpression: 'attribute_not_exists(pk)' }
            : {
                ConditionExpression: '#version = :version',
                ExpressionAttributeNames: { '#version': 'version' },
                ExpressionAttributeValues: { ':version': read.version },
              }),
        }),
      );
      return true;
    } catch (error) {
      if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
      return false;
    }
  }
}

function isWholeNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** A random pause before retry `attempt` (full jitter, doubling): racers that met once rarely meet again. */
function pause(attempt: number): Promise<void> {
  const ms = Math.random() * RETRY_JITTER_BASE_MS * 2 ** (attempt - 1);
  return new Promise((resolve) => setTimeout(resolve, ms));
}
