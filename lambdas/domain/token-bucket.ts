/**
 * A token bucket: how many deliveries a destination may take now, at `ratePerSecond` on average with at most one
 * second of burst. Pure (the caller passes the time and keeps the state), so one bucket can be shared by concurrent
 * invocations through any store that offers compare-and-set (`lambdas/store/dynamodb-rate-limiter.ts`).
 *
 * It lives in the domain, not in `lambdas/delivery/`, because the store adapter that keeps it must reach it and the
 * import rules let `store/` import `domain/` but not `delivery/`.
 *
 * Exact arithmetic: the bucket holds integer milli-tokens (thousandths of a token). A rate in tokens per second is
 * then milli-tokens per millisecond, so a refill over a whole number of milliseconds at a whole-number rate (what
 * `rateLimitPerSecond` is) adds an exact integer: no float drift however many refills a bucket sees. A fractional
 * rate is floored to whole milli-tokens per refill, which can only ever grant less, never more.
 */

/** Milli-tokens in one token: one delivery costs this much. */
export const MILLI_TOKENS_PER_TOKEN = 1000;

export interface BucketState {
  /**
   * What the bucket holds, in milli-tokens: an integer up to {@link capacityMilliTokens}, below 0 while tokens are
   * reserved ahead (down to {@link debtLimitMilliTokens}).
   */
  readonly milliTokens: number;
  /** The time (epoch ms) the bucket was last refilled to; never moves backwards. */
  readonly updatedAtMs: number;
  /** The store's compare-and-set version; carried through unchanged here (the store counts it up on a write). */
  readonly version: number;
}

export interface TakeResult {
  /** Whole tokens granted, 0 to `wanted`. */
  readonly granted: number;
  /** 0 when all were granted; otherwise whole seconds (at least 1) until the rest could have been refilled. */
  readonly waitSeconds: number;
  /** The bucket after the refill and the grant, to be written back. */
  readonly next: BucketState;
}

export class InvalidRateError extends RangeError {
  override readonly name = 'InvalidRateError';
}

function checkRate(ratePerSecond: number): void {
  if (!Number.isFinite(ratePerSecond) || ratePerSecond <= 0) {
    throw new InvalidRateError(`a rate must be a positive number of tokens per second, not ${ratePerSecond}`);
  }
}

/**
 * The furthest ahead a token may be reserved: SQS's longest message delay, so a record holding a reservation can wait
 * for it as a delayed copy.
 */
export const MAX_RESERVATION_SECONDS = 900;

/** How far below 0 reservations may take the bucket: {@link MAX_RESERVATION_SECONDS} of the rate. */
export function debtLimitMilliTokens(ratePerSecond: number): number {
  checkRate(ratePerSecond);
  return Math.floor(ratePerSecond * MAX_RESERVATION_SECONDS * MILLI_TOKENS_PER_TOKEN);
}

/** At most one second of burst, and at least one token: a rate below 1/s must still let a delivery through. */
export function capacityMilliTokens(ratePerSecond: number): number {
  checkRate(ratePerSecond);
  return Math.floor(Math.max(1, ratePerSecond) * MILLI_TOKENS_PER_TOKEN);
}

/**
 * The bucket at `nowMs`: what has dripped in since it was last refilled, capped at its capacity. No state yet is a
 * full bucket (a destination nothing was sent to for a while may take its burst at once). A clock behind the bucket's
 * time (another invocation's clock ahead of ours) counts as no time passed, and the bucket keeps its later time: were
 * it moved back, the same interval would be counted again when the clock caught up, granting it twice.
 */
export function refill(state: BucketState | undefined, ratePerSecond: number, nowMs: number): BucketState {
  const capacity = capacityMilliTokens(ratePerSecond);
  if (!Number.isFinite(nowMs)) throw new RangeError(`the time must be a finite number of ms, not ${nowMs}`);
  if (state === undefined) return { milliTokens: capacity, updatedAtMs: nowMs, version: 0 };
  const elapsedMs = Math.max(0, nowMs - state.updatedAtMs);
  // A stored value out of range (the rate was lowered since it was written; a hand-edited item) is brought into it.
  const held = Math.min(
    capacity,
    Math.max(-debtLimitMilliTokens(ratePerSecond), Math.floor(state.milliTokens)),
  );
  // Past a full refill the product may lose precision; it is then far above the capacity, which is all that counts.
  const dripped = Math.floor(ratePerSecond * elapsedMs);
  return {
    milliTokens: Math.min(capacity, held + dripped),
    updatedAtMs: Math.max(state.updatedAtMs, nowMs),
    version: state.version,
  };
}

/**
 * Takes up to `wanted` whole tokens at `nowMs`. What it cannot grant waits: `waitSeconds` is how long until the rest
 * could have dripped in at the rate (rounded up to whole seconds, at least 1), so a caller that hides those records
 * that long does not come back before they could be granted. More than a bucket's capacity is never there at once: a
 * caller spreading a large rest over the wait (rather than bringing it all back together) loses no time.
 */
export function take(
  state: BucketState | undefined,
  ratePerSecond: number,
  wanted: number,
  nowMs: number,
): TakeResult {
  if (!Number.isSafeInteger(wanted) || wanted < 0) {
    throw new RangeError(`wanted must be a whole number of tokens, 0 or more, not ${wanted}`);
  }
  const refilled = refill(state, ratePerSecond, nowMs);
  const granted = Math.max(0, Math.min(wanted, Math.floor(refilled.milliTokens / MILLI_TOKENS_PER_TOKEN)));
  const next = { ...refilled, milliTokens: refilled.milliTokens - granted * MILLI_TOKENS_PER_TOKEN };
  const rest = wanted - granted;
  if (rest === 0) return { granted, waitSeconds: 0, next };
  return {
    granted,
    waitSeconds: secondsToDrip(rest * MILLI_TOKENS_PER_TOKEN - next.milliTokens, ratePerSecond),
    next,
  };
}

export interface ReserveResult {
  /** Whole tokens granted now, 0 to `wanted`. */
  readonly granted: number;
  /**
   * For each of the next records that could not be granted now, in order, the whole seconds (1 to
   * {@link MAX_RESERVATION_SECONDS}) after which its reserved token has dripped in. Records past the reservations (the
   * bucket's debt at its limit) get none.
   */
  readonly reservedDelaySeconds: readonly number[];
  /** The bucket after the grant and the reservations, to be written back. */
  readonly next: BucketState;
}

/**
 * Takes up to `wanted` tokens now and reserves the next ones ahead, each at the time it drips in (the bucket goes
 * below 0 by what is reserved, at most {@link MAX_RESERVATION_SECONDS} of the rate). A record that waits for its
 * reservation (a delayed copy) is then let through without asking again, so a backlog over the rate waits once,
 * rather than coming back every second to be refused; and no more is ever let through than the bucket allows: every
 * reserved token is one the rate will have dripped in by its time, and a fresh take stands behind the reservations.
 */
export function takeOrReserve(
  state: BucketState | undefined,
  ratePerSecond: number,
  wanted: number,
  nowMs: number,
): ReserveResult {
  const { granted, next: taken } = take(state, ratePerSecond, wanted, nowMs);
  const limit = -debtLimitMilliTokens(ratePerSecond);
  const reservedDelaySeconds: number[] = [];
  let balance = taken.milliTokens;
  for (let index = granted; index < wanted && balance - MILLI_TOKENS_PER_TOKEN >= limit; index += 1) {
    // This token is there once the balance has dripped back up to a whole token.
    reservedDelaySeconds.push(secondsToDrip(MILLI_TOKENS_PER_TOKEN - balance, ratePerSecond));
    balance -= MILLI_TOKENS_PER_TOKEN;
  }
  return { granted, reservedDelaySeconds, next: { ...taken, milliTokens: balance } };
}

/** Whole seconds (at least 1) until a refill adds `milliTokens`, computed as {@link refill} floors its drip. */
function secondsToDrip(milliTokens: number, ratePerSecond: number): number {
  let seconds = Math.max(1, Math.ceil(milliTokens / (ratePerSecond * MILLI_TOKENS_PER_TOKEN)));
  // The quotient is exact for a whole-number rate; a fractional one (1/3) can fall a hair short once floored.
  while (Math.floor(ratePerSecond * seconds * MILLI_TOKENS_PER_TOKEN) < milliTokens) seconds += 1;
  return seconds;
}
