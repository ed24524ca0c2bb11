import {
  DELIVERY_TIMEOUT_SECONDS,
  INGEST_TIMEOUT_SECONDS,
  PRIORITIES,
  PRIORITY_QUEUES,
  RECONCILER_TIMEOUT_SECONDS,
  REGISTRATION_TIMEOUT_SECONDS,
} from '../definitions.js';

/**
 * Who an AWS client works for. Each role's clients (SQS, DynamoDB, Secrets Manager, EventBridge) share its settings,
 * because they share its deadline.
 */
export type ClientRole = 'ingest' | 'refusals' | 'consumer' | 'reconciler' | 'registration' | 'delivery';

export interface ClientSettings {
  /** Attempts per call, the first included. */
  readonly maxAttempts: number;
  /** Time to open the connection. */
  readonly connectionTimeoutMs: number;
  /**
   * Time for one whole attempt, connection included: the SDK's node handler starts this timer with the request and,
   * with `throwOnRequestTimeout`, fails the attempt when it passes (without it the SDK only logs a warning).
   */
  readonly requestTimeoutMs: number;
  /** The deadline every call of the role must fit: its function's timeout. */
  readonly deadlineSeconds: number;
  /** Why these numbers. */
  readonly reason: string;
}

/** The consumers' deadline: the shortest consumer timeout of the priority queues. */
const CONSUMER_DEADLINE_SECONDS = Math.min(
  ...PRIORITIES.map((priority) => PRIORITY_QUEUES[priority].consumerTimeoutSeconds),
);

/** The client settings of each role, with the deadline they must fit (checked below and by a unit test). */
export const CLIENT_SETTINGS: Readonly<Record<ClientRole, ClientSettings>> = {
  ingest: {
    maxAttempts: 2,
    connectionTimeoutMs: 400,
    requestTimeoutMs: 1200,
    deadlineSeconds: INGEST_TIMEOUT_SECONDS,
    reason:
      "the gateway's deadline is ingest's (Razorpay waits 5 s): a slow dependency must become a clean 503 the gateway retries, not a timeout",
  },
  refusals: {
    maxAttempts: 1,
    connectionTimeoutMs: 300,
    requestTimeoutMs: 500,
    deadlineSeconds: INGEST_TIMEOUT_SECONDS,
    reason:
      "best effort: recording a refused request is diagnosis only, so one short attempt; a slow table delays the gateway's answer by at most 0.5 s",
  },
  consumer: {
    maxAttempts: 4,
    connectionTimeoutMs: 1000,
    requestTimeoutMs: 3000,
    deadlineSeconds: CONSUMER_DEADLINE_SECONDS,
    reason:
      "nobody waits on a consumer but its queue: more attempts and longer timeouts ride out throttling and a slow call, within the consumer's timeout (a call that still fails fails the record, which the queue redelivers)",
  },
  reconciler: {
    maxAttempts: 4,
    connectionTimeoutMs: 1000,
    requestTimeoutMs: 5000,
    deadlineSeconds: RECONCILER_TIMEOUT_SECONDS,
    reason:
      'a scheduled run with minutes to spare: patient with AWS, so a throttled scan or queue send does not cost the run (a missed run is simply the next)',
  },
  registration: {
    maxAttempts: 3,
    connectionTimeoutMs: 500,
    requestTimeoutMs: 1500,
    deadlineSeconds: REGISTRATION_TIMEOUT_SECONDS,
    reason:
      "a merchant's checkout waits for the answer: a retry or two for throttling, then an error the checkout can retry, well inside the function's 10 s",
  },
  delivery: {
    maxAttempts: 3,
    connectionTimeoutMs: 1000,
    requestTimeoutMs: 3000,
    deadlineSeconds: DELIVERY_TIMEOUT_SECONDS,
    reason:
      "the destination's attempt takes most of the batch's time: AWS calls (state, secret, back-off, dead letter) retry a little, then the record comes back from the queue",
  },
};

/**
 * The SDK's retry backoff at its worst: before retry `n` (0-based) it waits a random fraction of
 * `min(base * 2^n, max)`, whose base is 1 s for throttling errors (100 ms, or 50 ms in newer releases, for others).
 * `test/unit/composition/client-settings.test.ts` checks these against the installed SDK.
 */
export const SDK_RETRY_BACKOFF = { throttlingBaseMs: 1000, maxMs: 20_000 } as const;

/** The longest one call of the role can take: every attempt times out, with the longest backoff between them. */
export function worstCaseCallMs(settings: ClientSettings): number {
  let total = settings.maxAttempts * Math.max(settings.requestTimeoutMs, settings.connectionTimeoutMs);
  for (let retry = 0; retry < settings.maxAttempts - 1; retry += 1) {
    total += Math.min(SDK_RETRY_BACKOFF.throttlingBaseMs * 2 ** retry, SDK_RETRY_BACKOFF.maxMs);
  }
  return total;
}

/** The roles whose worst-case call does not fit their deadline; empty, or the module refuses to load. */
export function rolesOverDeadline(
  settings: Readonly<Record<ClientRole, ClientSettings>> = CLIENT_SETTINGS,
): ClientRole[] {
  return (Object.keys(settings) as ClientRole[]).filter(
    (role) => worstCaseCallMs(settings[role]) >= settings[role].deadlineSeconds * 1000,
  );
}

const over = rolesOverDeadline();
if (over.length > 0) {
  throw new Error(
    `client timeouts must fit inside the function timeout; they do not for: ${over.join(', ')}`,
  );
}

/** The role's settings as SDK client configuration. */
export function sdkClientConfig(role: ClientRole) {
  const settings = CLIENT_SETTINGS[role];
  return {
    maxAttempts: settings.maxAttempts,
    requestHandler: {
      connectionTimeout: settings.connectionTimeoutMs,
      requestTimeout: settings.requestTimeoutMs,
      throwOnRequestTimeout: true,
    },
  } as const;
}
