/**
 * What the consumer does with a record that failed, decided by `failureAction` from what failed and how often:
 * nothing here touches a queue. `consumer.ts` carries the decision out through `sqs-redelivery.ts`.
 */
import {
  IdempotencyAlreadyInProgressError,
  IdempotencyValidationError,
} from '@aws-lambda-powertools/idempotency';
import { ImpossibleEventError } from '../domain/payment.js';
import { InvalidMessageError } from '../messages/webhook-event-message.js';

/** How a failed record is treated: put aside at once (permanent) or retried later (transient). */
export interface Failure {
  readonly errorClass: string;
  readonly message: string;
  readonly permanent: boolean;
  /** In-flight duplicates are retried soon and never dead-lettered by the consumer. */
  readonly inProgress: boolean;
  /** What the metrics count it as: the error class, or for a transient failure the error's name (its cause). */
  readonly metricClass: string;
}

/** Powertools' wrappers around errors it did not raise itself, among them the event records' own writes. */
const WRAPPERS = new Set(['IdempotencyUnknownError', 'IdempotencyPersistenceLayerError']);

function rootCause(error: unknown): unknown {
  // The cause is what decides: since issue #20 the record's completion writes the event's history, so DynamoDB refusing
  // that item (too large, say) reaches here wrapped, and must still count as permanent.
  let current = error;
  while (current instanceof Error && WRAPPERS.has(current.name) && current.cause) current = current.cause;
  return current;
}

/**
 * A transient failure's class for the metrics: a short fixed list, since each value is a metric CloudWatch bills
 * monthly. The error's own name stays in the log line and the DLQ message.
 */
export function transientClass(errorName: string): string {
  if (/Throttl|ProvisionedThroughputExceeded|RequestLimitExceeded|TooManyRequests|SlowDown/.test(errorName)) {
    return 'throttled';
  }
  if (/Timeout|TimedOut|ECONNRESET|ECONNREFUSED|NetworkingError/i.test(errorName)) return 'network';
  if (/Internal|ServiceUnavailable|ServerError|Unavailable/.test(errorName)) return 'aws_5xx';
  if (errorName.startsWith('Idempotency')) return 'idempotency_store';
  return 'other';
}

/** A failure payhook named itself: the metrics count it by that name. */
function named(errorClass: string, message: string, kind: 'permanent' | 'in_progress'): Failure {
  const permanent = kind === 'permanent';
  return { errorClass, message, permanent, inProgress: !permanent, metricClass: errorClass };
}

export function classifyFailure(error: unknown): Failure {
  const cause = rootCause(error);
  const message = cause instanceof Error ? cause.message : String(cause);
  if (cause instanceof InvalidMessageError) return named(cause.errorClass, message, 'permanent');
  if (cause instanceof IdempotencyValidationError) {
    return named(
      'payload_mismatch',
      'this event id was already processed with a different amount or currency; refusing to apply it',
      'permanent',
    );
  }
  if (cause instanceof ImpossibleEventError) return named('impossible_event', message, 'permanent');
  if (cause instanceof IdempotencyAlreadyInProgressError) return named('in_progress', message, 'in_progress');
  const name = cause instanceof Error ? cause.name : 'Error';
  // DynamoDB refuses the request itself (a key too long, an item too large): it will refuse every retry too.
  if (name === 'ValidationException') return named('invalid_data', `${name}: ${message}`, 'permanent');
  return {
    errorClass: 'retries_exhausted',
    message: `${name}: ${message}`,
    permanent: false,
    inProgress: false,
    metricClass: transientClass(name),
  };
}

/** Exponential back-off by receive count (10 s, 20 s, 40 s, ... capped at 15 min), with jitter against herds. */
export function backOffSeconds(receiveCount: number, random: () => number = Math.random): number {
  const base = Math.min(10 * 2 ** Math.max(0, receiveCount - 1), 900);
  return Math.round(base * (0.8 + 0.4 * random()));
}

/** The in-progress expiry assumed when the consumer is given none: see `ConsumerDependencies.inProgressRetrySeconds`. */
export const IN_PROGRESS_RETRY_SECONDS = 5;

/**
 * Times a record whose receives are running out while its event is in progress elsewhere is sent back to its queue
 * with fresh receives, before it is dead-lettered as `in_progress_exhausted`. Each waits out the in-progress expiry,
 * so three cover an owner that crashed, and more would only hide a stuck one.
 */
export const MAX_IN_PROGRESS_REQUEUES = 3;

/**
 * How long a record that met an in-progress idempotency record waits: briefly at first, since it is usually a
 * concurrent duplicate whose twin finishes within seconds; then doubling up to `expirySeconds`, since the in-progress
 * record may be an orphan (a crashed invocation, a write whose answer was lost) that only expires with the consumer's
 * timeout.
 */
export function inProgressDelaySeconds(receiveCount: number, expirySeconds: number): number {
  return Math.min(expirySeconds, IN_PROGRESS_RETRY_SECONDS * 2 ** Math.max(0, receiveCount - 1));
}

/** The limits {@link failureAction} decides within: the queue's and the consumer's. */
export interface FailureLimits {
  /** The queue's redrive `maxReceiveCount`: SQS dead-letters a record (with no reason) past it. */
  readonly maxReceiveCount: number;
  /** Requeues an in-progress record may have before it is dead-lettered ({@link MAX_IN_PROGRESS_REQUEUES}). */
  readonly maxInProgressRequeues: number;
  /** The longest an in-progress record may hold an event: the longest in-progress wait, and each requeue's delay. */
  readonly inProgressExpirySeconds: number;
  /** Seconds before a transient failure is tried again, by receive count ({@link backOffSeconds}). */
  readonly retryDelay: (receiveCount: number) => number;
}

/** How often this message was tried: its SQS receive count, and the requeues its attributes carry. */
export interface Attempts {
  readonly receiveCount: number;
  readonly requeues: number;
}

/**
 * What to do with a failed record:
 * - `retry`: fail it, hidden for `afterSeconds` (its visibility), so SQS hands it back then with one receive fewer;
 * - `requeue`: send a copy, delayed `afterSeconds` and carrying `requeues`, back to its own queue with fresh receives,
 *   and count the record as handled (safe because applying is idempotent);
 * - `dead-letter`: send it to the DLQ with its class and reason, and count it as handled. `failingSince` says when it
 *   began failing: at its first receive (a transient failure that ran out of receives) or at this one.
 */
export type FailureAction =
  | { readonly action: 'retry'; readonly afterSeconds: number }
  | { readonly action: 'requeue'; readonly afterSeconds: number; readonly requeues: number }
  | {
      readonly action: 'dead-letter';
      readonly errorClass: string;
      readonly reason: string;
      readonly failingSince: 'first-receive' | 'this-receive';
    };

/**
 * The failure policy, as a pure function of the failure and the attempts so far:
 * - an event in progress elsewhere is retried after {@link inProgressDelaySeconds} while more than one receive is
 *   left; then, since SQS would dead-letter it with no reason while it is merely in progress (crashes and throttling
 *   burn receives too), it is requeued with fresh receives a few times; then dead-lettered as `in_progress_exhausted`;
 * - a permanent failure (an invalid message, an impossible event, a payload mismatch, data DynamoDB refuses) is
 *   dead-lettered at once with its class;
 * - any other failure is retried after `retryDelay`, and dead-lettered as `retries_exhausted` on the last allowed
 *   receive, so no DLQ message lacks its reason.
 */
export function failureAction(failure: Failure, attempts: Attempts, limits: FailureLimits): FailureAction {
  const { receiveCount, requeues } = attempts;
  if (failure.inProgress) {
    if (receiveCount < limits.maxReceiveCount - 1) {
      const afterSeconds = inProgressDelaySeconds(receiveCount, limits.inProgressExpirySeconds);
      return { action: 'retry', afterSeconds };
    }
    if (requeues < limits.maxInProgressRequeues) {
      return { action: 'requeue', afterSeconds: limits.inProgressExpirySeconds, requeues: requeues + 1 };
    }
    return {
      action: 'dead-letter',
      errorClass: 'in_progress_exhausted',
      reason: `still in progress elsewhere after ${requeues} requeues: another invocation holds it; redrive once it is done`,
      failingSince: 'this-receive',
    };
  }
  if (failure.permanent || receiveCount >= limits.maxReceiveCount) {
    return {
      action: 'dead-letter',
      errorClass: failure.errorClass,
      reason: failure.message,
      failingSince: failure.permanent ? 'this-receive' : 'first-receive',
    };
  }
  return { action: 'retry', afterSeconds: limits.retryDelay(receiveCount) };
}
