/**
 * Pure statistics of a destination's delivery arrival times (epoch ms, as the merchant's endpoint saw them), for the
 * `deliveries` section: deliveries per 1-second window, against the destination's token bucket (`rateLimitPerSecond`
 * with one second of burst, `lambdas/domain/token-bucket.ts`), and which webhook-ids arrived.
 */

export interface RateStatistics {
  readonly deliveries: number;
  /** First arrival to last, seconds. */
  readonly spanSeconds: number;
  /** Arrivals after the first per second of span: the mean rate of the whole run. */
  readonly meanPerSecond: number;
  /** Arrivals per fixed 1-second window, the first window starting at the first arrival. */
  readonly windows: readonly number[];
  /**
   * The windows the steady-state figures are taken over: all but the first (which holds the bucket's burst and the
   * ramp-up) and the last (partial); all of them when there are fewer than three.
   */
  readonly steadyWindows: number;
  readonly steadyMeanPerSecond: number;
  /** Nearest-rank 95th percentile of the steady windows' counts. */
  readonly steadyP95PerSecond: number;
  /** The fullest fixed window, the first included. */
  readonly maxWindow: number;
  /** The most arrivals in any 1-second interval [t, t + 1 s), wherever it starts. */
  readonly maxSlidingWindow: number;
}

export interface BucketCheck {
  readonly ratePerSecond: number;
  /** The bucket's capacity in whole deliveries: what it may let through at once after a quiet spell. */
  readonly burst: number;
  /** The most a 1-second interval may hold: the burst plus one second of refill. */
  readonly allowancePerSecond: number;
  /** Fixed windows over the allowance. */
  readonly windowsOverAllowance: number;
  /** Whether some 1-second interval, wherever it starts, held more than the allowance. */
  readonly slidingOverAllowance: boolean;
  /**
   * The most deliveries any interval [t_i, t_j] held beyond what the bucket could have granted in it
   * (burst + rate × length), 0 when none did. Arrival times trail grant times by the POST's latency, which varies,
   * so a delivery or two of excess is jitter, not a leak.
   */
  readonly maxExcessOverBucket: number;
}

/** Nearest-rank percentile of unsorted values; 0 for none. */
export function nearestRank(values: readonly number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

const ascending = (times: readonly number[]) => [...times].sort((a, b) => a - b);

/** Arrivals per fixed window of `windowMs` from `startMs`; arrivals before `startMs` are left out. */
export function perWindowCounts(times: readonly number[], startMs: number, windowMs = 1000): number[] {
  const counts: number[] = [];
  for (const time of times) {
    if (time < startMs) continue;
    const index = Math.floor((time - startMs) / windowMs);
    while (counts.length <= index) counts.push(0);
    counts[index] = (counts[index] as number) + 1;
  }
  return counts;
}

/** The most arrivals in any half-open interval [t, t + windowMs). */
export function maxInSlidingWindow(times: readonly number[], windowMs = 1000): number {
  const sorted = ascending(times);
  let best = 0;
  let end = 0;
  for (let start = 0; start < sorted.length; start += 1) {
    while (end < sorted.length && (sorted[end] as number) < (sorted[start] as number) + windowMs) end += 1;
    best = Math.max(best, end - start);
  }
  return best;
}

/**
 * The largest `(j - i + 1) - burst - rate × (t_j - t_i)` over arrivals i <= j (sorted): how far the arrivals ever ran
 * ahead of a token bucket of `burst` tokens refilled at `ratePerSecond`, which can grant at most
 * `burst + rate × length` in any interval. 0 when they never did. Linear: for each j, the best i is the one maximising
 * `rate × t_i - i`, kept as a running maximum.
 */
export function maxExcessOverBucket(times: readonly number[], ratePerSecond: number, burst: number): number {
  const sorted = ascending(times);
  let bestStart = Number.NEGATIVE_INFINITY;
  let excess = 0;
  for (let j = 0; j < sorted.length; j += 1) {
    const refilled = (ratePerSecond * (sorted[j] as number)) / 1000;
    bestStart = Math.max(bestStart, refilled - j);
    excess = Math.max(excess, j + 1 - burst - refilled + bestStart);
  }
  return excess;
}

export function rateStatistics(times: readonly number[]): RateStatistics {
  const sorted = ascending(times);
  const first = sorted[0];
  const last = sorted.at(-1);
  if (first === undefined || last === undefined) {
    return {
      deliveries: 0,
      spanSeconds: 0,
      meanPerSecond: 0,
      windows: [],
      steadyWindows: 0,
      steadyMeanPerSecond: 0,
      steadyP95PerSecond: 0,
      maxWindow: 0,
      maxSlidingWindow: 0,
    };
  }
  const windows = perWindowCounts(sorted, first);
  const steady = windows.length >= 3 ? windows.slice(1, -1) : windows;
  const spanSeconds = (last - first) / 1000;
  return {
    deliveries: sorted.length,
    spanSeconds,
    meanPerSecond: spanSeconds > 0 ? (sorted.length - 1) / spanSeconds : 0,
    windows,
    steadyWindows: steady.length,
    steadyMeanPerSecond: steady.reduce((sum, count) => sum + count, 0) / steady.length,
    steadyP95PerSecond: nearestRank(steady, 0.95),
    maxWindow: Math.max(...windows),
    maxSlidingWindow: maxInSlidingWindow(sorted),
  };
}

/** The arrivals against a bucket of `burst` tokens refilled at `ratePerSecond`. */
export function checkAgainstBucket(
  times: readonly number[],
  ratePerSecond: number,
  burst: number,
): BucketCheck {
  const allowancePerSecond = burst + ratePerSecond;
  const sorted = ascending(times);
  const first = sorted[0];
  const windows = first === undefined ? [] : perWindowCounts(sorted, first);
  return {
    ratePerSecond,
    burst,
    allowancePerSecond,
    windowsOverAllowance: windows.filter((count) => count > allowancePerSecond).length,
    slidingOverAllowance: maxInSlidingWindow(sorted) > allowancePerSecond,
    maxExcessOverBucket: maxExcessOverBucket(sorted, ratePerSecond, burst),
  };
}

export interface DeliveryAccounting {
  /** Webhook-ids the destination should have received: one per payment event it wants. */
  readonly expected: number;
  /** Of those, how many arrived at least once. */
  readonly delivered: number;
  readonly missing: number;
  /** Arrivals of an expected id beyond its first (at-least-once delivery: a receiver dedupes on `webhook-id`). */
  readonly duplicates: number;
  /** Arrivals whose id was not expected (none should be). */
  readonly unexpected: number;
}

/** Which expected webhook-ids arrived, how many twice, and what arrived that was not expected. */
export function accountDeliveries(
  expected: ReadonlySet<string>,
  arrived: readonly string[],
): DeliveryAccounting {
  const seen = new Set<string>();
  let duplicates = 0;
  let unexpected = 0;
  for (const id of arrived) {
    if (!expected.has(id)) unexpected += 1;
    else if (seen.has(id)) duplicates += 1;
    else seen.add(id);
  }
  return {
    expected: expected.size,
    delivered: seen.size,
    missing: expected.size - seen.size,
    duplicates,
    unexpected,
  };
}

/** One successful write of a token bucket (`DESTINATION#<name>`, `RATE`): the state it stored. */
export interface BucketWrite {
  readonly version: number;
  readonly milliTokens: number;
  readonly updatedAtMs: number;
}

/**
 * When each token the bucket gave out may be used, read back from its successful writes: a write of version v
 * replaced version v - 1 (the conditional put saw to that), so it took what `refill` gave v - 1 by the write's time,
 * less what it left. What it took beyond the whole tokens it held was reserved ahead (`takeOrReserve`), each for the
 * whole second its token drips in, counted from the write: a reserved copy comes back no sooner (its delay starts when
 * it is sent, after the write), so these times are the earliest each token can be used, and checking them against the
 * ideal bucket checks the bucket itself. Version 1 replaced no item: a full bucket. A write whose predecessor was not
 * seen cannot be read (`unread`). `refillTo` is the bucket's own refill (milli-tokens held at a time).
 */
export function grantsFromBucketWrites(
  writes: readonly BucketWrite[],
  refillTo: (previous: BucketWrite | undefined, nowMs: number) => number,
  ratePerSecond: number,
): { readonly times: number[]; readonly unread: number; readonly reserved: number } {
  const byVersion = new Map(writes.map((write) => [write.version, write]));
  const times: number[] = [];
  let unread = 0;
  let reserved = 0;
  for (const write of [...byVersion.values()].sort((a, b) => a.version - b.version)) {
    const previous = byVersion.get(write.version - 1);
    if (write.version > 1 && previous === undefined) {
      unread += 1;
      continue;
    }
    const held = refillTo(previous, write.updatedAtMs);
    const taken = Math.round((held - write.milliTokens) / 1000);
    const now = Math.max(0, Math.min(taken, Math.floor(held / 1000)));
    for (let i = 0; i < now; i += 1) times.push(write.updatedAtMs);
    for (let j = 0; j < taken - now; j += 1) {
      const balance = held - (now + j) * 1000;
      const seconds = Math.max(1, Math.ceil((1000 - balance) / (ratePerSecond * 1000)));
      times.push(write.updatedAtMs + seconds * 1000);
      reserved += 1;
    }
  }
  return { times, unread, reserved };
}
