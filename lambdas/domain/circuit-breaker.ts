/**
 * A destination's circuit breaker (#19): a destination failing continuously is paused, so its queue holds instead of
 * burning retries against an endpoint that is down, and deliveries resume through single probes once it answers.
 *
 * Pure: the caller reads the state, asks {@link admit} before delivering, folds each attempt's outcome in with
 * {@link record}, and writes the state back when it changed (both return the very same object when nothing changed,
 * so `next !== state` says whether a write is needed). What counts as a failure is the caller's: 5xx, timeouts and
 * connection errors are; a permanent 4xx or a 410 says nothing about the endpoint being down, so neither is recorded
 * as one. Times are epoch milliseconds, never `Date`s, so the state stores as plain numbers.
 */

export interface BreakerSettings {
  /** Failures in a row that open the breaker, whatever the traffic. */
  readonly consecutiveFailures: number;
  /** Length of the window the failure rate is counted over; windows are fixed, each starting at its first attempt. */
  readonly windowSeconds: number;
  /** Attempts a window needs before its failure rate may open the breaker: a few failures of a quiet hour do not. */
  readonly minimumAttempts: number;
  /** Failure rate, in whole percent (1 to 100), that opens the breaker: integers so the comparison is exact. */
  readonly failureRatePercent: number;
  /** The first pause; doubled after each failed probe up to {@link maxOpenSeconds}. */
  readonly openSeconds: number;
  readonly maxOpenSeconds: number;
  /**
   * How long a probe is in flight before another may be sent: longer than the longest delivery request (30 s), so a
   * slow probe is not doubled by a second, and short enough that a probe lost to a crashed invocation is replaced.
   */
  readonly probeTimeoutSeconds: number;
}

/**
 * Twenty failures in a row is an endpoint down rather than a few bad requests; half of at least fifty attempts in
 * five minutes catches a flapping one. A minute's first pause lets a restart finish; fifteen minutes at most keeps a
 * recovered endpoint from waiting long for its events.
 */
export const DEFAULT_BREAKER_SETTINGS: BreakerSettings = Object.freeze({
  consecutiveFailures: 20,
  windowSeconds: 300,
  minimumAttempts: 50,
  failureRatePercent: 50,
  openSeconds: 60,
  maxOpenSeconds: 900,
  probeTimeoutSeconds: 60,
});

export interface BreakerWindow {
  readonly startMs: number;
  readonly attempts: number;
  readonly failures: number;
}

export type BreakerState =
  | { readonly kind: 'closed'; readonly consecutiveFailures: number; readonly window: BreakerWindow }
  | {
      readonly kind: 'open';
      readonly openedAtMs: number;
      readonly untilMs: number;
      /** Opens in a row without a successful probe, 1 for the first: what the pause is doubled by. */
      readonly opens: number;
      /** Why it first opened (`20 consecutive failures`); kept through failed probes for the status output. */
      readonly reason: string;
    }
  | {
      readonly kind: 'half-open';
      readonly probeStartedAtMs: number;
      readonly opens: number;
      readonly reason: string;
    };

export type Outcome = 'success' | 'failure';

export interface Admission {
  /** `all`: deliver as usual; `probe`: deliver one message and hold the rest; `none`: hold everything. */
  readonly admit: 'all' | 'probe' | 'none';
  /** For `none` and `probe`: how long to hold what is not delivered (whole seconds, at least 1, for SQS). */
  readonly waitSeconds?: number;
  readonly next: BreakerState;
}

/** The state of a destination never seen: closed, with a window that the first attempt replaces. */
export const INITIAL_BREAKER_STATE: BreakerState = Object.freeze({
  kind: 'closed',
  consecutiveFailures: 0,
  window: Object.freeze({ startMs: 0, attempts: 0, failures: 0 }),
});

/** Settings that cannot work (a zero threshold, a rate over 100 %, a cap under the first pause) throw a RangeError. */
export function checkBreakerSettings(settings: BreakerSettings): BreakerSettings {
  const positive = [
    'consecutiveFailures',
    'windowSeconds',
    'minimumAttempts',
    'openSeconds',
    'maxOpenSeconds',
    'probeTimeoutSeconds',
  ] as const;
  for (const name of positive) {
    const value = settings[name];
    if (!Number.isSafeInteger(value) || value < 1)
      throw new RangeError(`${name} must be a whole number >= 1`);
  }
  const rate = settings.failureRatePercent;
  if (!Number.isSafeInteger(rate) || rate < 1 || rate > 100) {
    throw new RangeError('failureRatePercent must be a whole number from 1 to 100');
  }
  if (settings.maxOpenSeconds < settings.openSeconds) {
    throw new RangeError('maxOpenSeconds must be at least openSeconds');
  }
  return settings;
}

/** The pause of the `opens`-th open in a row: `openSeconds` doubled `opens - 1` times, never over the cap. */
export function pauseSeconds(opens: number, settings: BreakerSettings): number {
  // 2 ** a large exponent is Infinity, which the cap absorbs: no loop, no overflow.
  const doubled = settings.openSeconds * 2 ** Math.max(0, opens - 1);
  return Math.min(doubled, settings.maxOpenSeconds);
}

/** Whole seconds from now until `untilMs`, at least 1: SQS visibility is in seconds and 0 would release at once. */
function secondsUntil(untilMs: number, nowMs: number): number {
  return Math.max(1, Math.ceil((untilMs - nowMs) / 1000));
}

/**
 * Whether deliveries may go now. An open breaker past its pause turns half-open and admits one probe; the caller
 * must write `next` (conditionally, see `DynamoBreakerStates.put`) before sending it, so that of concurrent
 * invocations only the one winning the write probes. A probe that has had no answer within the probe timeout is
 * taken as lost (its invocation crashed or timed out) and another is admitted.
 */
export function admit(
  state: BreakerState,
  nowMs: number,
  settings: BreakerSettings = DEFAULT_BREAKER_SETTINGS,
): Admission {
  const probeMs = settings.probeTimeoutSeconds * 1000;
  switch (state.kind) {
    case 'closed':
      return { admit: 'all', next: state };
    case 'open': {
      if (nowMs < state.untilMs) {
        return { admit: 'none', waitSeconds: secondsUntil(state.untilMs, nowMs), next: state };
      }
      const next: BreakerState = {
        kind: 'half-open',
        probeStartedAtMs: nowMs,
        opens: state.opens,
        reason: state.reason,
      };
      return { admit: 'probe', waitSeconds: settings.probeTimeoutSeconds, next };
    }
    case 'half-open': {
      const probeEndsMs = state.probeStartedAtMs + probeMs;
      if (nowMs < probeEndsMs) {
        return { admit: 'none', waitSeconds: secondsUntil(probeEndsMs, nowMs), next: state };
      }
      return {
        admit: 'probe',
        waitSeconds: settings.probeTimeoutSeconds,
        next: { ...state, probeStartedAtMs: nowMs },
      };
    }
  }
}

function opened(nowMs: number, opens: number, reason: string, settings: BreakerSettings): BreakerState {
  return {
    kind: 'open',
    openedAtMs: nowMs,
    untilMs: nowMs + pauseSeconds(opens, settings) * 1000,
    opens,
    reason,
  };
}

/** A fresh closed state, its window starting now: after a successful probe, the past failures are forgiven. */
function closedAt(nowMs: number): BreakerState {
  return { kind: 'closed', consecutiveFailures: 0, window: { startMs: nowMs, attempts: 0, failures: 0 } };
}

function recordClosed(
  state: Extract<BreakerState, { kind: 'closed' }>,
  outcome: Outcome,
  nowMs: number,
  settings: BreakerSettings,
): BreakerState {
  // Fixed windows: one start time and two counters fit a small item, where a sliding window would need a history.
  // A clock behind the window's start (another invocation's clock) counts into the current window.
  const expired = nowMs - state.window.startMs >= settings.windowSeconds * 1000;
  const base = expired ? { startMs: nowMs, attempts: 0, failures: 0 } : state.window;
  const failed = outcome === 'failure';
  const window = {
    startMs: base.startMs,
    attempts: base.attempts + 1,
    failures: base.failures + (failed ? 1 : 0),
  };
  const consecutiveFailures = failed ? state.consecutiveFailures + 1 : 0;
  // Only a failure trips it: a success is the endpoint answering, even when it brings a window to its minimum.
  if (failed && consecutiveFailures >= settings.consecutiveFailures) {
    return opened(nowMs, 1, `${consecutiveFailures} consecutive failures`, settings);
  }
  const rateReached = window.failures * 100 >= window.attempts * settings.failureRatePercent;
  if (failed && window.attempts >= settings.minimumAttempts && rateReached) {
    const reason = `${window.failures} of ${window.attempts} attempts failed within ${settings.windowSeconds} s`;
    return opened(nowMs, 1, reason, settings);
  }
  return { kind: 'closed', consecutiveFailures, window };
}

/**
 * Folds one attempt's outcome into the state. Closed: counted, and opened when either rule is met. Open: ignored
 * (the answers of deliveries sent before it opened; the pause runs its course). Half-open: a success closes it,
 * whichever delivery it came from (the endpoint answers); a failure reopens it with the pause doubled, up to the cap.
 */
export function record(
  state: BreakerState,
  outcome: Outcome,
  nowMs: number,
  settings: BreakerSettings = DEFAULT_BREAKER_SETTINGS,
): BreakerState {
  switch (state.kind) {
    case 'closed':
      return recordClosed(state, outcome, nowMs, settings);
    case 'open':
      return state;
    case 'half-open':
      return outcome === 'success' ? closedAt(nowMs) : opened(nowMs, state.opens + 1, state.reason, settings);
  }
}

const iso = (ms: number) => new Date(ms).toISOString();

/** One line for `deliveries status` and logs: the state, its times in UTC, and why it opened. */
export function describeBreaker(state: BreakerState): string {
  switch (state.kind) {
    case 'closed': {
      const { consecutiveFailures, window } = state;
      if (window.attempts === 0) return 'closed';
      return (
        `closed: ${consecutiveFailures} consecutive failures; ` +
        `${window.failures} of ${window.attempts} attempts failed since ${iso(window.startMs)}`
      );
    }
    case 'open': {
      const times = state.opens === 1 ? '' : ` (opened ${state.opens} times in a row)`;
      return `open until ${iso(state.untilMs)}, since ${iso(state.openedAtMs)}${times}: ${state.reason}`;
    }
    case 'half-open':
      return `half-open: probe sent at ${iso(state.probeStartedAtMs)} after ${state.opens} opens: ${state.reason}`;
  }
}

const isCount = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;
const isTime = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

function asObject(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
}

/** A stored state read back, checked field by field: `undefined` for anything that is not a {@link BreakerState}. */
export function parseBreakerState(value: unknown): BreakerState | undefined {
  const item = asObject(value);
  if (item === undefined) return undefined;
  if (item.kind === 'closed') {
    const window = asObject(item.window);
    if (!isCount(item.consecutiveFailures) || window === undefined) return undefined;
    if (!isTime(window.startMs) || !isCount(window.attempts) || !isCount(window.failures)) return undefined;
    return {
      kind: 'closed',
      consecutiveFailures: item.consecutiveFailures,
      window: { startMs: window.startMs, attempts: window.attempts, failures: window.failures },
    };
  }
  if (typeof item.reason !== 'string' || !isCount(item.opens) || item.opens < 1) return undefined;
  if (item.kind === 'open' && isTime(item.openedAtMs) && isTime(item.untilMs)) {
    const { openedAtMs, untilMs, opens, reason } = item;
    return { kind: 'open', openedAtMs, untilMs, opens, reason };
  }
  if (item.kind === 'half-open' && isTime(item.probeStartedAtMs)) {
    return {
      kind: 'half-open',
      probeStartedAtMs: item.probeStartedAtMs,
      opens: item.opens,
      reason: item.reason,
    };
  }
  return undefined;
}
