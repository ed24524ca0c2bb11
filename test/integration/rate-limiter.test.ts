import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../lambdas/common/aws-clients.js';
import { DynamoDestinationStates } from '../../lambdas/store/dynamodb-destination-states.js';
import {
  DynamoRateLimiter,
  MalformedRateBucketError,
  type RateLimiterOptions,
} from '../../lambdas/store/dynamodb-rate-limiter.js';
import { type DynamoEmulator, startDynamoEmulator } from '../support/dynamodb-emulator.js';

// The shared rate limit (lambdas/store/dynamodb-rate-limiter.ts) against dynalite: several limiters, each on a client
// of its own as concurrent invocations of the delivery function would be, taking from one bucket item. Races are real
// (conditional puts losing to another limiter's write), made deterministic where a test needs an exact count by
// having the other limiter write just before a put is sent.

const T0 = Date.parse('2026-11-30T10:00:00Z');
const fixedClock = () => T0;

let dynamo: DynamoEmulator;
let table: string;
const baseClients: DynamoDBClient[] = [];

beforeAll(async () => {
  dynamo = await startDynamoEmulator();
  table = (await dynamo.createTables('rate-limiter-test')).payments;
});

afterAll(async () => {
  for (const client of baseClients) client.destroy();
  await dynamo?.stop();
});

interface Invocation {
  readonly limiter: DynamoRateLimiter;
  readonly documents: DynamoDBDocumentClient;
  /** Conditional puts that lost to another writer. */
  conflicts: number;
  puts: number;
}

/**
 * A limiter on a DynamoDB client of its own (a document client shares its base client's middleware stack), counting
 * its puts and lost races; `beforePut` runs just before each put is sent, to let another writer in first.
 */
function invocation(options: RateLimiterOptions = {}, beforePut?: () => Promise<void>): Invocation {
  const base = new DynamoDBClient({ endpoint: dynamo.endpoint });
  baseClients.push(base);
  const documents = createDocumentClient(base);
  const result: Invocation = {
    limiter: new DynamoRateLimiter(documents, table, options),
    documents,
    conflicts: 0,
    puts: 0,
  };
  base.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== 'PutItemCommand') return next(args);
      result.puts += 1;
      await beforePut?.();
      try {
        return await next(args);
      } catch (error) {
        if ((error as Error).name === 'ConditionalCheckFailedException') result.conflicts += 1;
        throw error;
      }
    },
    { step: 'initialize', name: 'countPuts' },
  );
  return result;
}

async function storedBucket(destination: string) {
  const { Item } = await invocation().documents.send(
    new GetCommand({
      TableName: table,
      Key: { pk: `DESTINATION#${destination}`, sk: 'RATE' },
      ConsistentRead: true,
    }),
  );
  return Item;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('DynamoRateLimiter', () => {
  it('holds the rate across 4 concurrent invocations: every grant and reservation falls within the burst plus the rate', async () => {
    const rate = 20;
    // Each limiter's clock, as it read it last: the time a grant or reservation was made from.
    const clocks: number[] = [];
    const invocations = Array.from({ length: 4 }, (_, index) =>
      invocation({
        now: () => {
          clocks[index] = Date.now();
          return clocks[index];
        },
      }),
    );
    const start = Date.now();
    const end = start + 2000;
    // When each delivery may go: at once for a grant, after its delay for a reservation.
    const admissions: number[] = [];
    await Promise.all(
      invocations.map(async ({ limiter }, index) => {
        while (Date.now() < end) {
          const result = await limiter.acquire('concurrent', rate, 3);
          const at = clocks[index] ?? 0;
          for (let count = 0; count < result.granted; count += 1) admissions.push(at);
          for (const delay of result.reservedDelaySeconds ?? []) admissions.push(at + delay * 1000);
          await sleep(20);
        }
      }),
    );
    admissions.sort((a, b) => a - b);
    // The promise of the limit: by any time, at most the burst (one second's worth) plus the rate since the start.
    admissions.forEach((at, index) => {
      expect(index + 1).toBeLessThanOrEqual(rate + (rate * (at - start)) / 1000 + 1e-9);
    });
    // And a limit, not a stop: the first 3 s are all but fully used (60 + the burst of 20).
    const withinThreeSeconds = admissions.filter((at) => at <= start + 3000).length;
    expect(withinThreeSeconds).toBeGreaterThanOrEqual(0.7 * (rate * 3 + rate));
    // The invocations did race (all four start on a missing item), and each lost race was retried, not granted.
    expect(invocations.reduce((sum, { conflicts }) => sum + conflicts, 0)).toBeGreaterThan(0);
  });

  it('retries a put that lost the race from a fresh read, granting only what the winner left', async () => {
    const other = invocation({ now: fixedClock });
    let otherGot = 0;
    let first = true;
    const racing = invocation({ now: fixedClock }, async () => {
      if (!first) return;
      first = false;
      otherGot = (await other.limiter.acquire('race', 10, 7)).granted;
    });
    // Read a full bucket (10), planned to take 5, lost to the other taking 7: 3 are left, the other 2 reserved.
    expect(await racing.limiter.acquire('race', 10, 5)).toEqual({
      granted: 3,
      waitSeconds: 0,
      reservedDelaySeconds: [1, 1],
    });
    expect(otherGot).toBe(7);
    expect(racing.conflicts).toBe(1);
    expect(await storedBucket('race')).toMatchObject({ milliTokens: -2000, version: 2 });
  });

  it('grants nothing and asks for a second once every retry is lost, never taking from a bucket it did not see', async () => {
    const other = invocation({ now: fixedClock });
    let otherGot = 0;
    const losing = invocation({ now: fixedClock, maxRetries: 2 }, async () => {
      otherGot += (await other.limiter.acquire('always-beaten', 10, 1)).granted;
    });
    expect(await losing.limiter.acquire('always-beaten', 10, 1)).toEqual({ granted: 0, waitSeconds: 1 });
    // The first try and 2 retries, each beaten by the other's write.
    expect(losing.puts).toBe(3);
    expect(losing.conflicts).toBe(3);
    expect(otherGot).toBe(3);
    expect(await storedBucket('always-beaten')).toMatchObject({ milliTokens: 7000, version: 3 });
  });

  it('keeps a second destination’s bucket apart from the first, and from its stop state', async () => {
    const { limiter } = invocation({ now: fixedClock });
    const grant = (granted: number, reservedDelaySeconds: number[] = []) => ({
      granted,
      waitSeconds: 0,
      reservedDelaySeconds,
    });
    expect(await limiter.acquire('first', 5, 5)).toEqual(grant(5));
    expect(await limiter.acquire('first', 5, 1)).toEqual(grant(0, [1]));
    expect(await limiter.acquire('second', 5, 5)).toEqual(grant(5));
    // The RATE item sits beside the destination's STATE item, which still reads as running.
    const states = new DynamoDestinationStates(invocation().documents, table);
    expect(await states.get('first')).toEqual({ stopped: false });
  });

  it('refills from the stored time, so a later invocation gets what dripped in meanwhile', async () => {
    await invocation({ now: fixedClock }).limiter.acquire('refilled', 10, 10);
    const later = invocation({ now: () => T0 + 500 });
    // 5 dripped in; the other 5 are reserved at 100 ms apart, all within the next second.
    expect(await later.limiter.acquire('refilled', 10, 10)).toEqual({
      granted: 5,
      waitSeconds: 0,
      reservedDelaySeconds: [1, 1, 1, 1, 1],
    });
    // Reserved ahead: the next ask stands behind them (its token drips in at 600 ms).
    expect(await later.limiter.acquire('refilled', 10, 1)).toEqual({
      granted: 0,
      waitSeconds: 0,
      reservedDelaySeconds: [1],
    });
    expect(await storedBucket('refilled')).toMatchObject({ milliTokens: -6000 });
  });

  it('writes only where the delivery function’s grant reaches (DESTINATION#<name>, RATE), with a TTL', async () => {
    await invocation({ now: fixedClock }).limiter.acquire('stored', 4, 1);
    expect(await storedBucket('stored')).toEqual({
      pk: 'DESTINATION#stored',
      sk: 'RATE',
      milliTokens: 3000,
      updatedAtMs: T0,
      version: 1,
      expiresAt: T0 / 1000 + 86_400,
    });
  });

  it('reserves past its limit nothing: the debt is at most 900 s of the rate, and a full debt costs a read, not a write', async () => {
    const { documents } = invocation({ now: fixedClock });
    await documents.send(
      new PutCommand({
        TableName: table,
        Item: {
          pk: 'DESTINATION#indebted',
          sk: 'RATE',
          milliTokens: -2 * 900 * 1000,
          updatedAtMs: T0,
          version: 4,
        },
      }),
    );
    const reader = invocation({ now: fixedClock });
    expect(await reader.limiter.acquire('indebted', 2, 3)).toEqual({
      granted: 0,
      waitSeconds: 900,
      reservedDelaySeconds: [],
    });
    expect(reader.puts).toBe(0);
    // Half a second later one token has dripped back: one reservation, at the far end.
    const later = invocation({ now: () => T0 + 500 });
    expect(await later.limiter.acquire('indebted', 2, 3)).toEqual({
      granted: 0,
      waitSeconds: 900,
      reservedDelaySeconds: [900],
    });
    expect(later.puts).toBe(1);
  });

  it('refuses a bucket item not in the stored shape rather than guessing a version', async () => {
    const { documents, limiter } = invocation({ now: fixedClock });
    await documents.send(
      new PutCommand({
        TableName: table,
        Item: { pk: 'DESTINATION#mangled', sk: 'RATE', milliTokens: 'lots', updatedAtMs: T0, version: 1 },
      }),
    );
    await expect(limiter.acquire('mangled', 5, 1)).rejects.toThrow(MalformedRateBucketError);
  });
});
