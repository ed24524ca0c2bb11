import { describe, expect, it } from 'vitest';
import { emptyUsage, mergeUsage } from '../../../bench/aws-usage.js';
import { deliveryCostPerMillion, PRICES } from '../../../bench/cost.js';
import type { DeliveriesResults, DestinationFigures } from '../../../bench/deliveries.js';
import {
  accountDeliveries,
  checkAgainstBucket,
  grantsFromBucketWrites,
  maxExcessOverBucket,
  maxInSlidingWindow,
  nearestRank,
  perWindowCounts,
  rateStatistics,
} from '../../../bench/delivery-rates.js';
import { type BenchResults, keepSections, markdown } from '../../../bench/report.js';
import { refill } from '../../../lambdas/domain/token-bucket.js';

/** `count` arrivals evenly spaced over [startMs, startMs + 1000). */
const second = (startMs: number, count: number) =>
  Array.from({ length: count }, (_, i) => startMs + (i * 1000) / count);

describe('perWindowCounts', () => {
  it('counts arrivals per fixed window from the start, empty windows included, earlier ones left out', () => {
    expect(perWindowCounts([1000, 1999, 2000, 4500, 500], 1000)).toEqual([2, 1, 0, 1]);
    expect(perWindowCounts([], 0)).toEqual([]);
  });
});

describe('maxInSlidingWindow', () => {
  it('finds the fullest 1-second interval wherever it starts, not only on window boundaries', () => {
    // 10 at the end of one fixed window and 10 at the start of the next: fixed windows see 10 each, the sliding 20.
    const times = Array.from({ length: 20 }, (_, i) => 1900 + i * 10);
    expect(perWindowCounts(times, 0)).toEqual([0, 10, 10]);
    expect(maxInSlidingWindow(times)).toBe(20);
  });

  it('treats the interval as half-open: an arrival exactly a second later starts the next one', () => {
    expect(maxInSlidingWindow([0, 1000])).toBe(1);
    expect(maxInSlidingWindow([0, 999.9])).toBe(2);
    expect(maxInSlidingWindow([])).toBe(0);
  });
});

describe('maxExcessOverBucket', () => {
  it('is 0 for arrivals at the rate after a full burst', () => {
    // A burst of 20 at t=0, then one every 50 ms (20/s): exactly what a bucket of 20 at 20/s allows.
    const times = [
      ...Array.from({ length: 20 }, () => 0),
      ...Array.from({ length: 100 }, (_, i) => (i + 1) * 50),
    ];
    expect(maxExcessOverBucket(times, 20, 20)).toBe(0);
  });

  it('counts how far a sustained overrun ran ahead of the bucket, not just the worst second', () => {
    // 30/s for 10 s against 20/s with a burst of 20: after 10 s, 300 arrived where at most 20 + 20·~10 could.
    const times = Array.from({ length: 300 }, (_, i) => (i * 1000) / 30);
    const excess = maxExcessOverBucket(times, 20, 20);
    expect(excess).toBeGreaterThan(75);
    expect(excess).toBeLessThan(85);
  });

  it('finds an overrun in the middle of the run, whatever came before', () => {
    const quiet = Array.from({ length: 20 }, (_, i) => i * 1000);
    const burst = Array.from({ length: 50 }, () => 30_000);
    expect(maxExcessOverBucket([...quiet, ...burst], 20, 20)).toBe(30);
  });
});

describe('rateStatistics', () => {
  it('takes the steady state over the middle windows, leaving out the burst and the partial last second', () => {
    const times = [...second(0, 40), ...second(1000, 20), ...second(2000, 18), ...second(3000, 22), 4000];
    const stats = rateStatistics(times);
    expect(stats.windows).toEqual([40, 20, 18, 22, 1]);
    expect(stats.steadyWindows).toBe(3);
    expect(stats.steadyMeanPerSecond).toBe(20);
    expect(stats.steadyP95PerSecond).toBe(22);
    expect(stats.maxWindow).toBe(40);
    expect(stats.deliveries).toBe(101);
    expect(stats.meanPerSecond).toBe(25);
  });

  it('uses every window when there are fewer than three, and nothing for no arrivals', () => {
    expect(rateStatistics([0, 100, 1500]).steadyMeanPerSecond).toBe(1.5);
    expect(rateStatistics([])).toMatchObject({ deliveries: 0, meanPerSecond: 0, windows: [] });
  });
});

describe('checkAgainstBucket', () => {
  it('allows the burst plus one second of refill in a second, and flags more', () => {
    const within = [...second(0, 40), ...second(1000, 20)];
    expect(checkAgainstBucket(within, 20, 20)).toMatchObject({
      allowancePerSecond: 40,
      windowsOverAllowance: 0,
      slidingOverAllowance: false,
    });
    const over = [...second(0, 20), ...second(1000, 41)];
    expect(checkAgainstBucket(over, 20, 20)).toMatchObject({
      windowsOverAllowance: 1,
      slidingOverAllowance: true,
    });
  });
});

describe('grantsFromBucketWrites', () => {
  const refillAt20 = (previous: Parameters<typeof refill>[0], nowMs: number) =>
    refill(previous, 20, nowMs).milliTokens;

  it('reads how many tokens each write took from the state it replaced, version by version', () => {
    const writes = [
      // Out of order, as concurrent invocations may finish: sorted by version before reading.
      { version: 2, milliTokens: 5000, updatedAtMs: 1500 },
      // The first write replaced no item: a full bucket of 20 tokens, 15 left.
      { version: 1, milliTokens: 15_000, updatedAtMs: 1000 },
      // 0.5 s later the 15 left had grown to 20 (capped): 15 granted. Then 100 ms more: 5 + 2 = 7, all taken.
      { version: 3, milliTokens: 0, updatedAtMs: 1600 },
    ];
    const { times, unread, reserved } = grantsFromBucketWrites(writes, refillAt20, 20);
    expect(unread).toBe(0);
    expect(reserved).toBe(0);
    expect(times.filter((t) => t === 1000)).toHaveLength(5);
    expect(times.filter((t) => t === 1500)).toHaveLength(15);
    expect(times.filter((t) => t === 1600)).toHaveLength(7);
  });

  it('cannot read a write whose predecessor it never saw', () => {
    const { times, unread } = grantsFromBucketWrites(
      [
        { version: 1, milliTokens: 19_000, updatedAtMs: 0 },
        { version: 3, milliTokens: 0, updatedAtMs: 100 },
      ],
      refillAt20,
      20,
    );
    expect(times).toEqual([0]);
    expect(unread).toBe(1);
  });

  it('counts what a write took beyond its whole tokens as reserved, each usable at the second its token drips in', () => {
    // A full bucket of 20 at t = 1000; the write took 20 and reserved 21 more: 20 due within a second, one in two.
    const { times, reserved } = grantsFromBucketWrites(
      [{ version: 1, milliTokens: -21_000, updatedAtMs: 1000 }],
      refillAt20,
      20,
    );
    expect(reserved).toBe(21);
    expect(times.filter((t) => t === 1000)).toHaveLength(20);
    expect(times.filter((t) => t === 2000)).toHaveLength(20);
    expect(times.filter((t) => t === 3000)).toHaveLength(1);
    // Read so, the bucket's own schedule never runs ahead of the ideal bucket.
    expect(checkAgainstBucket(times, 20, 20).maxExcessOverBucket).toBe(0);
  });
});

describe('nearestRank', () => {
  it('picks the nearest-rank percentile', () => {
    expect(nearestRank([5, 1, 4, 2, 3], 0.95)).toBe(5);
    expect(nearestRank([5, 1, 4, 2, 3], 0.5)).toBe(3);
    expect(nearestRank([], 0.95)).toBe(0);
  });
});

describe('accountDeliveries', () => {
  it('counts each expected webhook-id once, and the repeats and strangers apart', () => {
    const expected = new Set(['a', 'b', 'c']);
    expect(accountDeliveries(expected, ['a', 'b', 'a', 'x', 'a'])).toEqual({
      expected: 3,
      delivered: 2,
      missing: 1,
      duplicates: 2,
      unexpected: 1,
    });
  });
});

describe('deliveryCostPerMillion', () => {
  const pipeline = {
    ...emptyUsage(),
    sqsBilledRequests: { SendMessage: 1000, ReceiveMessage: 100, DeleteMessageBatch: 100 },
  };
  const usage = {
    deliveries: 1000,
    pipeline,
    delivery: {
      ...emptyUsage(),
      sqsBilledRequests: { SendMessage: 3000 },
      dynamoReadUnits: 300,
      dynamoWriteUnits: 200,
    },
    invocations: 400,
    attemptingInvocations: 100,
    billedMs: 40_000,
    logBytes: 1000 * 512,
  };

  it('prices each part per delivery: the rule, the mapping, the held copies, Lambda, DynamoDB, logs', () => {
    const cost = deliveryCostPerMillion(usage);
    const line = (prefix: string) => cost.lines.find((entry) => entry.item.startsWith(prefix));
    expect(line('EventBridge')?.dollarsPerMillionWebhooks).toBe(0);
    expect(line("SQS: the rule's")?.perWebhook).toBe(1);
    expect(line('SQS: event source')?.perWebhook).toBeCloseTo(0.2);
    expect(line('SQS: held')?.dollarsPerMillionWebhooks).toBeCloseTo(3 * PRICES.sqsRequests.perMillion);
    expect(line('Lambda invocations')?.perWebhook).toBeCloseTo(0.4);
    // 40 s at 0.5 GB over 1,000 deliveries: 0.02 GB-s each.
    expect(line('Lambda duration')?.perWebhook).toBeCloseTo(0.02);
    expect(line('DynamoDB writes')?.dollarsPerMillionWebhooks).toBeCloseTo(
      0.2 * PRICES.dynamoWriteUnits.perMillion,
    );
    expect(line('DynamoDB reads')?.perWebhook).toBeCloseTo(0.3);
    const sum = cost.lines.reduce((total, entry) => total + entry.dollarsPerMillionWebhooks, 0);
    expect(cost.dollarsPerMillionDeliveries).toBeCloseTo(sum);
  });

  it('charges endpoint latency per attempting batch, shared by the deliveries in it', () => {
    // 10 deliveries per attempting batch: 100 ms × 0.5 GB / 10 per delivery.
    expect(deliveryCostPerMillion(usage).dollarsPer100msOfEndpointLatency).toBeCloseTo(
      0.005 * PRICES.lambdaArmGbSeconds.perMillion,
    );
  });
});

describe('mergeUsage', () => {
  it('adds counts key by key', () => {
    const a = { ...emptyUsage(), sqsRequests: { SendMessage: 2 }, dynamoReadUnits: 1 };
    const b = { ...emptyUsage(), sqsRequests: { SendMessage: 3, DeleteMessageBatch: 1 }, dynamoReadUnits: 2 };
    const merged = mergeUsage(a, b);
    expect(merged.sqsRequests).toEqual({ SendMessage: 5, DeleteMessageBatch: 1 });
    expect(merged.dynamoReadUnits).toBe(3);
    expect(a.sqsRequests).toEqual({ SendMessage: 2 });
  });
});

describe('keepSections (bench --only)', () => {
  const machine = {
    cores: 2,
    model: 'x',
    node: 'v20',
    platform: 'linux',
    memoryGiB: 1,
    date: '2026-11-30T00:00:00.000Z',
    loadAverageAtStart: 0,
  };

  it("keeps the left-out sections' figures with the date of the run that measured them", () => {
    const previous = {
      machine,
      fuzz: { passed: 1 },
      cpu: { rounds: 1 },
      carriedOver: { cpu: '2026-11-01T00:00:00.000Z' },
      notRun: { fuzz: 'failed: 1 propert(ies) failed' },
    } as unknown as BenchResults;
    const kept = keepSections(previous, ['cpu', 'fuzz', 'bundles']);
    expect(kept.carried).toEqual({ cpu: { rounds: 1 }, fuzz: { passed: 1 } });
    expect(kept.carriedOver).toEqual({ cpu: '2026-11-01T00:00:00.000Z', fuzz: machine.date });
    expect(kept.notRun).toEqual({ fuzz: 'failed: 1 propert(ies) failed', bundles: 'left out with --only' });
  });

  it('keeps nothing without previous results', () => {
    expect(keepSections(undefined, ['cpu'])).toEqual({
      carried: {},
      carriedOver: {},
      notRun: { cpu: 'left out with --only' },
    });
  });
});

/** One destination's figures, small and consistent, with `over` replacing fields. */
function figures(over: Partial<DestinationFigures>): DestinationFigures {
  const times = [0, 100, 1200];
  return {
    destination: 'limited',
    fedBy: 'pipeline',
    rateLimitPerSecond: 20,
    accounting: accountDeliveries(new Set(['a', 'b', 'c']), ['a', 'b', 'c']),
    badSignatures: 0,
    rates: rateStatistics(times),
    bucket: checkAgainstBucket(times, 20, 20),
    grants: { tokens: 3, unread: 0, rates: rateStatistics(times), check: checkAgainstBucket(times, 20, 20) },
    firstSentToLastDeliveredSeconds: 1.2,
    endToEndPerSecond: 2.5,
    publishedToDeliveredMs: { p50: 1, p95: 2, p99: 3, max: 4 },
    peakQueueDepth: 3,
    invocations: 2,
    attemptingInvocations: 2,
    recordsPerInvocation: 1.5,
    billedMsPerInvocation: 10,
    recordsNotDeleted: 0,
    heldCopies: 1,
    itemCallsPerDelivery: { STATE: { GetItem: 0.5 }, BREAKER: {}, RATE: {} },
    refusedConditionalWrites: 0,
    logBytesPerDelivery: 300,
    usage: { pipeline: emptyUsage(), delivery: emptyUsage() },
    cost: deliveryCostPerMillion({
      deliveries: 3,
      pipeline: emptyUsage(),
      delivery: emptyUsage(),
      invocations: 2,
      attemptingInvocations: 2,
      billedMs: 20,
      logBytes: 900,
    }),
    ...over,
  };
}

describe('markdown of the deliveries section', () => {
  it('writes tables whose rows all have as many cells as their header', () => {
    const results: DeliveriesResults = {
      options: { deliveries: 3, ratePerSecond: 20, concurrency: 4, workersPerQueue: 2, prefilled: 3 },
      sent: 3,
      answered200: 3,
      burst: 20,
      limited: figures({}),
      unlimited: figures({ destination: 'unlimited', rateLimitPerSecond: null, bucket: null, grants: null }),
      prefilled: figures({
        destination: 'unlimited',
        fedBy: 'prefilled queue',
        rateLimitPerSecond: null,
        bucket: null,
        grants: null,
      }),
    };
    const text = markdown({
      machine: {
        cores: 2,
        model: 'x',
        node: 'v20',
        platform: 'linux',
        memoryGiB: 1,
        date: '2026-11-30T00:00:00.000Z',
        loadAverageAtStart: 0,
      },
      durationSeconds: 1,
      deliveries: results,
      carriedOver: { cpu: '2026-11-01T00:00:00.000Z' },
      notRun: {},
    });
    expect(text).toContain('## 7. Deliveries');
    expect(text).toContain('per million deliveries');
    expect(text).toContain('- `cpu`: the run of 2026-11-01T00:00:00.000Z.');
    const cells = (row: string) => row.replace(/\\\|/g, '').split('|').length;
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i += 1) {
      if (!lines[i + 1]?.startsWith('|---')) continue;
      const width = cells(lines[i] as string);
      for (let j = i + 1; lines[j]?.startsWith('|'); j += 1)
        expect(cells(lines[j] as string), lines[j]).toBe(width);
    }
  });
});
