import { mulberry32, type Random } from './prng.js';

/**
 * The failures the soak's receiver injects into deliveries (issue #19): a seeded schedule, pure apart from its own
 * counters, that answers each request to one destination. Three sources, each bounded so the run's tail is bounded:
 *
 * - **planned failures**, per delivered id: its first attempt fails with probability `firstFailure`, and its second
 *   too with `secondFailure` (of those whose first did): a 5xx, a timeout (the answer held past the destination's
 *   `timeoutSeconds`), a 429 with `Retry-After`, or a connection reset. Drawn from the seed and the id alone, so an
 *   id's plan does not depend on the order deliveries arrive in;
 * - **one stop**: the request at `stopAt` of the expected requests is answered 410 Gone, which stops the destination
 *   until the on-call engineer resumes it;
 * - **one outage** for the circuit breaker: from `outageAt` of the expected requests, every request fails (503 or a
 *   reset) until `outageRequests` have failed or `outageMaxMs` has passed: enough failures in a row to open the
 *   breaker, over before its first probe.
 *
 * No id fails more than `maxFailuresPerId` times, whatever the cause (an id at the cap is accepted even in the outage
 * or at the stop), so no event waits out more than that many back-offs: 30 s doubling with equal jitter, or a longer
 * `Retry-After`.
 */

/** Failures an id's plan can hold. */
export const FAILURE_KINDS = ['error', 'timeout', 'throttle', 'reset'] as const;
export type FailureKind = (typeof FAILURE_KINDS)[number];

/** Everything injected: the planned kinds, and the 410 that stops the destination. */
export type InjectedKind = FailureKind | 'gone';

/** Why a request failed: the id's plan, the breaker outage, or the one stop. */
export type FaultCause = 'planned' | 'outage' | 'stop';

/** A `Retry-After` a 429 carries: delta-seconds, or an HTTP-date that many seconds ahead. */
export interface RetryAfterSpec {
  readonly seconds: number;
  readonly form: 'seconds' | 'date';
}

export type ScheduledAnswer =
  | { readonly kind: 'accept'; readonly status: number }
  | { readonly kind: 'error'; readonly status: number; readonly cause: FaultCause }
  | { readonly kind: 'timeout'; readonly cause: FaultCause }
  | { readonly kind: 'throttle'; readonly retryAfter: RetryAfterSpec; readonly cause: FaultCause }
  | { readonly kind: 'reset'; readonly cause: FaultCause }
  | { readonly kind: 'gone'; readonly cause: 'stop' };

export interface DestinationFaultProfile {
  /** Chance that an id's first attempt fails; and that its second does too, given the first did. */
  readonly firstFailure: number;
  readonly secondFailure: number;
  /** Relative weights of the planned kinds. */
  readonly weights: Readonly<Record<FailureKind, number>>;
  /** 5xx statuses a planned error answers with. */
  readonly errorStatuses: readonly number[];
  /** What a 429 may ask for; one is drawn per 429. */
  readonly retryAfters: readonly RetryAfterSpec[];
  /** 2xx statuses an accepted delivery is answered with (all mean delivered). */
  readonly acceptStatuses: readonly number[];
  /** No id fails more often than this, whatever the cause. */
  readonly maxFailuresPerId: number;
  /** Where the 410 comes, as a fraction of the expected requests; `undefined`: never. */
  readonly stopAt?: number;
  /** How long after the 410 the on-call engineer resumes the destination. */
  readonly stopSeconds: number;
  /** Where the breaker outage starts, as a fraction of the expected requests; `undefined`: never. */
  readonly outageAt?: number;
  readonly outageRequests: number;
  readonly outageMaxMs: number;
}

const NO_FAILURES = { error: 0, timeout: 0, throttle: 0, reset: 0 } as const;

export const DESTINATION_FAULT_PROFILES = {
  none: {
    firstFailure: 0,
    secondFailure: 0,
    weights: NO_FAILURES,
    errorStatuses: [500],
    retryAfters: [{ seconds: 1, form: 'seconds' }],
    acceptStatuses: [200],
    maxFailuresPerId: 0,
    stopSeconds: 0,
    outageRequests: 0,
    outageMaxMs: 0,
  },
  // A short run (CI): one failure per id at most, and Retry-After within the first back-off's range, so the tail is
  // one back-off (15-30 s) long.
  ci: {
    firstFailure: 0.25,
    secondFailure: 0,
    weights: { error: 3, timeout: 2, throttle: 3, reset: 2 },
    errorStatuses: [500, 502, 503],
    retryAfters: [
      { seconds: 1, form: 'seconds' },
      { seconds: 20, form: 'seconds' },
      { seconds: 20, form: 'date' },
    ],
    acceptStatuses: [200, 200, 202, 204],
    maxFailuresPerId: 1,
    stopAt: 0.3,
    stopSeconds: 5,
    outageAt: 0.6,
    outageRequests: 8,
    outageMaxMs: 5000,
  },
  // Two failures per id at most; a Retry-After of 40 s is longer than any first back-off (at most 30 s), so the
  // retry's time shows whether it was honoured.
  full: {
    firstFailure: 0.15,
    secondFailure: 0.3,
    weights: { error: 3, timeout: 2, throttle: 3, reset: 2 },
    errorStatuses: [500, 502, 503, 504],
    retryAfters: [
      { seconds: 1, form: 'seconds' },
      { seconds: 40, form: 'seconds' },
      { seconds: 40, form: 'date' },
    ],
    acceptStatuses: [200, 200, 200, 201, 202, 204],
    maxFailuresPerId: 2,
    stopAt: 0.3,
    stopSeconds: 8,
    outageAt: 0.6,
    outageRequests: 12,
    outageMaxMs: 6000,
  },
} as const satisfies Record<string, DestinationFaultProfile>;

/** The kinds a profile must have injected by the end of a run, or the run proved nothing about them. */
export function expectedKinds(profile: DestinationFaultProfile): InjectedKind[] {
  const kinds: InjectedKind[] =
    profile.firstFailure > 0 ? FAILURE_KINDS.filter((kind) => profile.weights[kind] > 0) : [];
  if (profile.stopAt !== undefined) kinds.push('gone');
  return kinds;
}

/** The header a 429 carries at `nowMs`: the seconds, or an IMF-fixdate that many seconds ahead. */
export function retryAfterHeader(spec: RetryAfterSpec, nowMs: number): string {
  return spec.form === 'seconds' ? String(spec.seconds) : new Date(nowMs + spec.seconds * 1000).toUTCString();
}

/** 32-bit FNV-1a: a stable seed per id. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index += 1) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

function weighted(random: Random, weights: Readonly<Record<FailureKind, number>>): FailureKind {
  const total = FAILURE_KINDS.reduce((sum, kind) => sum + weights[kind], 0);
  let draw = random.next() * total;
  for (const kind of FAILURE_KINDS) {
    draw -= weights[kind];
    if (draw < 0 && weights[kind] > 0) return kind;
  }
  return FAILURE_KINDS.filter((kind) => weights[kind] > 0).at(-1) ?? 'error';
}

type Failure = Exclude<ScheduledAnswer, { kind: 'accept' } | { kind: 'gone' }>;

/** What an id's plan says, attempt by attempt, and how it is answered when accepted. */
export interface IdPlan {
  readonly failures: readonly Failure[];
  readonly acceptStatus: number;
}

/** The plan of one id: from the seed and the id only. */
export function planForId(profile: DestinationFaultProfile, seed: number, id: string): IdPlan {
  const random = mulberry32(fnv1a(`${seed >>> 0}:${id}`));
  const failure = (): Failure => {
    const kind = weighted(random, profile.weights);
    switch (kind) {
      case 'error':
        return { kind, status: random.pick(profile.errorStatuses), cause: 'planned' };
      case 'throttle':
        return { kind, retryAfter: random.pick(profile.retryAfters), cause: 'planned' };
      default:
        return { kind, cause: 'planned' };
    }
  };
  const failures: Failure[] = [];
  if (random.chance(profile.firstFailure)) {
    failures.push(failure());
    if (random.chance(profile.secondFailure)) failures.push(failure());
  }
  return { failures, acceptStatus: random.pick(profile.acceptStatuses) };
}

export interface FailureSchedule {
  /** The answer to the next request, for delivery id `id`, at `nowMs`. */
  answer(id: string, nowMs: number): ScheduledAnswer;
  /** Requests answered so far. */
  readonly requests: number;
}

/**
 * A schedule for one destination. `expectedRequests` (about the number of events it will get) places the stop and
 * the outage; `random` draws the outage's answers.
 */
export function createFailureSchedule(
  profile: DestinationFaultProfile,
  seed: number,
  expectedRequests: number,
  random: Random,
): FailureSchedule {
  const at = (fraction: number | undefined) =>
    fraction === undefined ? Number.POSITIVE_INFINITY : Math.max(1, Math.floor(expectedRequests * fraction));
  const stopAt = at(profile.stopAt);
  const outageAt = at(profile.outageAt);
  const ids = new Map<string, { attempts: number; failures: number; plan: IdPlan }>();
  let requests = 0;
  let stopped = false;
  let outage: { startMs: number; failed: number } | 'over' | undefined;

  const outageActive = (nowMs: number): boolean => {
    if (outage === 'over' || profile.outageRequests <= 0) return false;
    if (outage === undefined) {
      if (requests < outageAt) return false;
      outage = { startMs: nowMs, failed: 0 };
    }
    if (outage.failed >= profile.outageRequests || nowMs - outage.startMs > profile.outageMaxMs) {
      outage = 'over';
      return false;
    }
    return true;
  };

  return {
    get requests() {
      return requests;
    },
    answer(id, nowMs) {
      requests += 1;
      let state = ids.get(id);
      if (!state) {
        state = { attempts: 0, failures: 0, plan: planForId(profile, seed, id) };
        ids.set(id, state);
      }
      const attempt = state.attempts;
      state.attempts += 1;
      const atCap = state.failures >= profile.maxFailuresPerId;
      let answer: ScheduledAnswer;
      if (atCap) {
        answer = { kind: 'accept', status: state.plan.acceptStatus };
      } else if (!stopped && requests >= stopAt) {
        stopped = true;
        answer = { kind: 'gone', cause: 'stop' };
      } else if (outageActive(nowMs)) {
        (outage as { failed: number }).failed += 1;
        answer = random.chance(0.5)
          ? { kind: 'error', status: 503, cause: 'outage' }
          : { kind: 'reset', cause: 'outage' };
      } else {
        answer = state.plan.failures[attempt] ?? { kind: 'accept', status: state.plan.acceptStatus };
      }
      if (answer.kind !== 'accept') state.failures += 1;
      return answer;
    },
  };
}
