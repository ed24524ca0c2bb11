/**
 * The one typed description of payhook's moving parts, read by the CDK stack (`lib/`), the local stack and the
 * Lambda handlers alike. It must stay free of CDK and AWS SDK imports so that every front door can load it.
 *
 * Adding a priority class means adding it to `PRIORITIES` (`domain/priority.ts`) and one entry to
 * {@link PRIORITY_QUEUES}; the compiler names the rest (README, "Adding a gateway, a priority class, a setting").
 */

import type { Priority } from './domain/priority.js';
import type { GatewayName } from './domain/webhook-event.js';

// The priority classes are the domain's (`domain/priority.ts`); re-exported here with the queues that carry them.
export { isPriority, PRIORITIES, type Priority } from './domain/priority.js';

export interface PriorityQueueDefinition {
  /** The priority class this queue carries. */
  readonly priority: Priority;
  /** What lands here, for humans reading dashboards and the README. */
  readonly description: string;
  /** Base name of the queue; deployments may prefix it (see {@link queueName}). */
  readonly queueName: string;
  /** Base name of the queue's dead-letter queue. */
  readonly deadLetterQueueName: string;
  /**
   * Receives before a message is dead-lettered: the consumer does it itself on the last receive (with the reason), and
   * SQS's own redrive at this count is the safety net for crashes and timeouts.
   */
  readonly maxReceiveCount: number;
  /** Records per consumer invocation. */
  readonly batchSize: number;
  /** How long the event source waits to fill a batch; 0 for the lowest latency. Above 10 records SQS needs >= 1 s. */
  readonly maxBatchingWindowSeconds: number;
  /** Upper bound on concurrent consumer invocations for this queue (SQS event source `maximumConcurrency`, 2-1000). */
  readonly maxConcurrency: number;
  /** The consumer function's timeout. */
  readonly consumerTimeoutSeconds: number;
  /** The queue's visibility timeout, derived by {@link visibilityTimeoutSeconds}: never written by hand. */
  readonly visibilityTimeoutSeconds: number;
}

/**
 * A queue's visibility timeout: six times the consumer's timeout plus the batching window. The Lambda developer
 * guide ("Creating and configuring an Amazon SQS event source mapping",
 * https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html) asks for at least six times the function
 * timeout, so Lambda can retry a batch throttled behind the previous one; a message is already invisible while the
 * event source waits up to the batching window to fill a batch, so the window is counted in each of the six too.
 */
export function visibilityTimeoutSeconds(
  consumerTimeoutSeconds: number,
  maxBatchingWindowSeconds: number,
): number {
  return 6 * (consumerTimeoutSeconds + maxBatchingWindowSeconds);
}

/** A priority queue's definition with its visibility timeout derived from the consumer timeout and batching window. */
function priorityQueue(
  definition: Omit<PriorityQueueDefinition, 'visibilityTimeoutSeconds'>,
): PriorityQueueDefinition {
  return {
    ...definition,
    visibilityTimeoutSeconds: visibilityTimeoutSeconds(
      definition.consumerTimeoutSeconds,
      definition.maxBatchingWindowSeconds,
    ),
  };
}

export const PRIORITY_QUEUES: Readonly<Record<Priority, PriorityQueueDefinition>> = {
  high: priorityQueue({
    priority: 'high',
    description: 'Money arrived (successful charge, capture, paid) and disputes.',
    queueName: 'payhook-high',
    deadLetterQueueName: 'payhook-high-dlq',
    // Money arrived: small batches with no waiting, more attempts before a human is needed.
    maxReceiveCount: 8,
    batchSize: 10,
    maxBatchingWindowSeconds: 0,
    maxConcurrency: 20,
    consumerTimeoutSeconds: 30,
  }),
  normal: priorityQueue({
    priority: 'normal',
    description: "The rest of a payment's lifecycle: pending, authorised, failed, expired, refunds.",
    queueName: 'payhook-normal',
    deadLetterQueueName: 'payhook-normal-dlq',
    maxReceiveCount: 6,
    batchSize: 10,
    maxBatchingWindowSeconds: 1,
    maxConcurrency: 10,
    consumerTimeoutSeconds: 30,
  }),
  low: priorityQueue({
    priority: 'low',
    description:
      'Everything else the gateways send (subscriptions, transfers, payouts, informational events).',
    queueName: 'payhook-low',
    deadLetterQueueName: 'payhook-low-dlq',
    // Informational events: bigger, slower batches keep the cost down.
    maxReceiveCount: 5,
    batchSize: 50,
    maxBatchingWindowSeconds: 5,
    maxConcurrency: 5,
    consumerTimeoutSeconds: 60,
  }),
};

/**
 * Where a validly signed webhook goes when it cannot be parsed or normalised: a human must look at it, and retrying
 * the gateway would not help, so it is answered 2xx and parked here raw.
 */
export const UNPARSEABLE_PAYLOAD_DESTINATION = { priority: 'low', queue: 'deadLetter' } as const;

/** Prefixed queue name, e.g. `queueName('high', 'dlq', 'shop-prod')` is `shop-prod-payhook-high-dlq`. */
export function queueName(priority: Priority, kind: 'main' | 'deadLetter' = 'main', prefix?: string): string {
  const definition = PRIORITY_QUEUES[priority];
  const base = kind === 'main' ? definition.queueName : definition.deadLetterQueueName;
  return prefix ? `${prefix}-${base}` : base;
}

/**
 * How long an in-progress idempotency record left by a crashed consumer can last: Powertools dates its expiry from
 * the invocation's remaining time, so the consumer's timeout, plus a margin for the clock.
 */
export function inProgressExpirySeconds(priority: Priority): number {
  return PRIORITY_QUEUES[priority].consumerTimeoutSeconds + 5;
}

/**
 * The environment variables below are grouped by the resource or concern they describe, not by the function that
 * first read them: a CDK construct sets a resource's variables and its grant together when it binds a function to it
 * (`lib/`), the local stack and the tests set them by the same names, and the handlers read them. The names themselves
 * are documented (README, Configuration), so a rename happens here once and never changes them.
 */

/** The priority queues, for every function that queues events (ingest, the reconciler). */
export const QUEUES_ENV = {
  /** Queue URL for each priority: `PAYHOOK_QUEUE_URL_HIGH`, ... */
  queueUrl: (priority: Priority) => `PAYHOOK_QUEUE_URL_${priority.toUpperCase()}`,
  /** Dead-letter queue URL for each priority: `PAYHOOK_DLQ_URL_LOW`, ... (ingest parks on the low one). */
  deadLetterQueueUrl: (priority: Priority) => `PAYHOOK_DLQ_URL_${priority.toUpperCase()}`,
} as const;

/** The one queue a consumer drains (one consumer function per priority queue). */
export const DRAINED_QUEUE_ENV = {
  /** Which priority it drains. */
  priority: 'PAYHOOK_PRIORITY',
  /** The queue it drains (for visibility back-off) and its dead-letter queue. */
  queueUrl: 'PAYHOOK_QUEUE_URL',
  deadLetterQueueUrl: 'PAYHOOK_DLQ_URL',
} as const;

/** The gateways' webhook signing secrets. */
export const SECRETS_ENV = {
  /** JSON object mapping gateway name to its Secrets Manager secret name or ARN (on AWS). */
  secretIds: 'PAYHOOK_GATEWAY_SECRET_IDS',
  /** Path of a JSON file holding every gateway's secrets (local development). */
  secretsFile: 'PAYHOOK_SECRETS_FILE',
} as const;

/** How webhooks are taken in: read by ingest, and by `payhook dlq renormalise` to normalise as ingest would. */
export const INTAKE_ENV = {
  /** JSON object of per-gateway settings (see `lambdas/gateways/settings.ts`); optional. */
  gatewaySettings: 'PAYHOOK_GATEWAY_SETTINGS',
  /** `false` refuses test-mode events (for production deployments); default `true`. */
  acceptTestMode: 'PAYHOOK_ACCEPT_TEST_MODE',
  /** Largest accepted body in bytes; default {@link DEFAULT_MAX_BODY_BYTES}. */
  maxBodyBytes: 'PAYHOOK_MAX_BODY_BYTES',
} as const;

/**
 * Refused webhooks kept for diagnosis: who was refused, why and when, with a hash and the size of the body and the
 * names of the headers; never the secret, a signature value or the body. One partition per gateway (`unknown` for
 * names that are not a gateway), newest last; items expire after the TTL.
 */
export const REJECTS_TABLE = {
  baseName: 'payhook-rejects',
  partitionKey: 'gateway',
  /** `<ISO time>#<request id>` */
  sortKey: 'sk',
  ttlAttribute: 'expiresAt',
  defaultTtlDays: 7,
  /** Per gateway and function instance: a flood of forged requests cannot run up the bill. */
  defaultPerMinute: 60,
} as const;

/** The refused-requests table; unset, ingest only logs refused requests. */
export const REJECTS_TABLE_ENV = {
  tableName: 'PAYHOOK_REJECTS_TABLE',
  /** Days a refused request is kept; default {@link REJECTS_TABLE}.defaultTtlDays. */
  ttlDays: 'PAYHOOK_REJECTS_TTL_DAYS',
  /** Refused requests recorded per gateway per minute by one function instance; default {@link REJECTS_TABLE}. */
  perMinute: 'PAYHOOK_REJECTS_PER_MINUTE',
} as const;

/**
 * Every queue's `MaximumMessageSize`: SQS's largest, 1 MiB (queues default to 256 KiB unless it is set). Set on the
 * stack's queues and the local stack's alike.
 */
export const QUEUE_MAX_MESSAGE_BYTES = 1024 * 1024;

/**
 * The largest `PAYHOOK_MAX_BODY_BYTES` allowed: a body of that size always fits one queue message. A queued event
 * carries its payload as base64 (4/3 of the bytes) and a parked webhook its text with non-ASCII characters escaped
 * (at most twice the bytes, else base64; see `intake/unparseable-webhook.ts`), beside at most 64 KiB of identifiers,
 * headers and attributes: (1 MiB - 64 KiB) / 2 = 480 KiB.
 */
export const MAX_BODY_BYTES_LIMIT = (QUEUE_MAX_MESSAGE_BYTES - 64 * 1024) / 2;

/**
 * The longest identifiers payhook queues, in UTF-8 bytes: they become DynamoDB keys (the history sort key
 * `EVENT#<event id>`, which also keys the event's idempotency record, of at most 1,024 bytes; the payment's partition
 * key, index keys and an unmatched event's record key `EVENT#<gateway>#<event id>` of at most 2,048), and DynamoDB
 * refuses a longer key for good. Ingest parks an event with a longer
 * one as `key_too_large` rather than queue something no consumer can ever store.
 */
export const IDENTIFIER_MAX_BYTES = {
  eventId: 500,
  eventType: 256,
  reference: 1000,
  gatewayPaymentId: 1000,
  factId: 1000,
} as const;

/** 256 KiB: larger than any payment webhook seen in the gateways' docs, well inside {@link MAX_BODY_BYTES_LIMIT}. */
export const DEFAULT_MAX_BODY_BYTES = 256 * 1024;

/**
 * Gateways retry until they get a 2xx; the strictest waits 5 s (Razorpay). The ingest function's timeout sits well
 * inside that so a slow dependency becomes a 5xx the gateway retries, not a timeout it counts against us.
 */
export const INGEST_TIMEOUT_SECONDS = 4;

/**
 * The reconciler's longest timeout: a run asks each gateway about up to its budget of payments, one call at a time.
 * EventBridge Scheduler invokes it asynchronously, so a run still going when the next is due would overlap it: the
 * timeout actually given is {@link reconcilerTimeoutSeconds}, at most the interval minus a minute.
 */
export const RECONCILER_TIMEOUT_SECONDS = 240;

/** The shortest reconciler interval: a 1-minute interval would leave the run no time once the minute is kept free. */
export const RECONCILER_MIN_INTERVAL_MINUTES = 2;

/** Kept free between the end of the longest run and the next scheduled one. */
export const RECONCILER_TIMEOUT_MARGIN_SECONDS = 60;

/**
 * The reconciler's timeout for a schedule of `intervalMinutes`: {@link RECONCILER_TIMEOUT_SECONDS}, or the interval
 * minus {@link RECONCILER_TIMEOUT_MARGIN_SECONDS} if shorter, so a run ends before the next one starts.
 */
export function reconcilerTimeoutSeconds(intervalMinutes: number): number {
  if (!Number.isSafeInteger(intervalMinutes) || intervalMinutes < RECONCILER_MIN_INTERVAL_MINUTES) {
    throw new RangeError(
      `the reconciler interval must be a whole number of minutes, at least ${RECONCILER_MIN_INTERVAL_MINUTES}`,
    );
  }
  return Math.min(RECONCILER_TIMEOUT_SECONDS, intervalMinutes * 60 - RECONCILER_TIMEOUT_MARGIN_SECONDS);
}

/** The registration function's timeout: a merchant's checkout waits for it, well inside API Gateway's 30 s. */
export const REGISTRATION_TIMEOUT_SECONDS = 10;

/**
 * The delivery function's timeout: a batch of one destination's records is attempted in parallel, each within the
 * destination's timeout (at most 30 s), plus reading the secret, the state and the queue calls.
 */
export const DELIVERY_TIMEOUT_SECONDS = 60;
/** Records per delivery batch: sent in parallel to one destination. */
export const DELIVERY_BATCH_SIZE = 10;
/**
 * A destination queue's visibility timeout: 6x the delivery function's timeout (no batching window), as AWS advises
 * for a Lambda event source, so a record is not handed out again while an invocation may still be working on it.
 */
export const DELIVERY_QUEUE_VISIBILITY_SECONDS = 6 * DELIVERY_TIMEOUT_SECONDS;
/**
 * A destination queue's redrive `maxReceiveCount`: SQS's maximum. The delivery function dead-letters by itself, with
 * the reason, once a record's retry period is over; SQS's redrive is only the safety net for a function that keeps
 * crashing on a record. A record held while its destination is stopped is received every
 * {@link STOPPED_DESTINATION_RECHECK_SECONDS} (15 minutes), so after about 10 days of a stop SQS moves it to the DLQ
 * (without a reason), which keeps it there for redrive rather than letting the 14-day retention expire it.
 */
export const DELIVERY_MAX_RECEIVE_COUNT = 1000;

/**
 * A destination's queue names: `<prefix>-deliveries-<name>` and `<prefix>-deliveries-<name>-dlq`, predictable so the
 * CLI and an operator can find them by the destination's name.
 */
export function deliveryQueueName(destination: string, kind: 'main' | 'deadLetter', prefix: string): string {
  const base = `${prefix}-deliveries-${destination}`;
  return kind === 'main' ? base : `${base}-dlq`;
}

/** A destination's signing secret, generated at deploy: `<prefix>/destinations/<name>`. */
export function destinationSecretName(destination: string, prefix: string): string {
  return `${prefix}/destinations/${destination}`;
}

/**
 * The keys of the stack's outputs for one destination (the queue, its DLQ, the signing secret), read by the CLI. An
 * output key is letters and digits only, so a name's dashes are dropped (`DeliveryQueueUrlmyshop` for `my-shop`); the
 * stack refuses two destinations whose keys would be the same.
 */
export function deliveryOutputKeys(destination: string): {
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
  readonly secretArn: string;
} {
  const key = destination.replace(/[^A-Za-z0-9]/g, '');
  return {
    queueUrl: `DeliveryQueueUrl${key}`,
    deadLetterQueueUrl: `DeliveryDlqUrl${key}`,
    secretArn: `DeliverySecretArn${key}`,
  };
}

/**
 * SQS message attribute names written by ingest and the consumers and read by the on-call CLI. SQS allows ten per
 * message: a dead-lettered copy keeps gateway, event type and event id for filtering, packs the rest of the original
 * attributes into `originalAttributes`, and adds the failure's.
 */
export const MESSAGE_ATTRIBUTES = {
  messageType: 'messageType',
  gateway: 'gateway',
  eventType: 'eventType',
  eventId: 'eventId',
  kind: 'kind',
  priority: 'priority',
  requestId: 'requestId',
  errorClass: 'errorClass',
  errorMessage: 'errorMessage',
  firstFailedAt: 'firstFailedAt',
  receiveCount: 'receiveCount',
  originalAttributes: 'originalAttributes',
  /** How many times the consumer sent the message back because its event was still in progress elsewhere. */
  inProgressRequeues: 'inProgressRequeues',
} as const;

/**
 * The payments table: payment items and their history items (which are also the consumers' idempotency records),
 * plus the indexes the reconciler and CLI use.
 */
export const PAYMENTS_TABLE = {
  baseName: 'payhook-payments',
  partitionKey: 'pk',
  sortKey: 'sk',
  /** History items expire (epoch seconds); payment items never do. */
  ttlAttribute: 'expiresAt',
  /** Sparse: only payments still pending carry its keys, oldest first per gateway. */
  pendingIndex: { name: 'pending-by-age', partitionKey: 'pendingGateway', sortKey: 'pendingSince' },
  /** `<gateway>#<merchant reference>` */
  referenceIndex: { name: 'by-reference', partitionKey: 'referenceKey' },
  /** `<gateway>#<gateway payment id>` */
  gatewayPaymentIdIndex: { name: 'by-gateway-payment-id', partitionKey: 'gatewayPaymentIdKey' },
} as const;

/**
 * The previous release's Powertools idempotency records, with the attribute names of its DynamoDB persistence layer.
 * Since issue #20 the consumers keep their idempotency records on the payments table's history items
 * (`store/dynamodb-event-records.ts`) and only read this table, on one rare path (`previous-idempotency-records.ts`),
 * until its records have expired: the longest dedupe window after the upgrade.
 */
export const IDEMPOTENCY_TABLE = {
  baseName: 'payhook-idempotency',
  partitionKey: 'id',
  ttlAttribute: 'expiration',
} as const;

/** Prefixed table name, as for queues. */
export function tableName(baseName: string, prefix?: string): string {
  return prefix ? `${prefix}-${baseName}` : baseName;
}

const DAY = 24 * 3600;

/**
 * How long an event id is remembered for dedupe: at least as long as the gateway retries or lets a merchant replay.
 * Past it, the payment record's forward-only rule still keeps a very late duplicate harmless.
 */
export const DEDUPE_WINDOW_SECONDS: Readonly<Record<GatewayName, number>> = {
  stripe: 3 * DAY,
  razorpay: 7 * DAY,
  paystack: 3 * DAY,
  oxapay: 1 * DAY,
  adyen: 30 * DAY,
  flutterwave: 7 * DAY,
  standard: 7 * DAY,
};

/** Days a payment's history items (and unmatched events) are kept unless `PAYHOOK_HISTORY_RETENTION_DAYS` says. */
export const DEFAULT_HISTORY_RETENTION_DAYS = 400;

/** The payments table: payment items and their history items. */
export const PAYMENTS_TABLE_ENV = {
  tableName: 'PAYHOOK_PAYMENTS_TABLE',
  /** Days a history item is kept. @default {@link DEFAULT_HISTORY_RETENTION_DAYS} */
  historyRetentionDays: 'PAYHOOK_HISTORY_RETENTION_DAYS',
  /** `true` keeps raw payloads (customer data) in the history. @default false */
  historyKeepsPayload: 'PAYHOOK_HISTORY_KEEPS_PAYLOAD',
} as const;

/** Dedupe windows, and the previous release's idempotency table (see {@link IDEMPOTENCY_TABLE}). */
export const IDEMPOTENCY_TABLE_ENV = {
  /** The previous release's idempotency table, read-only; unset: none (a deployment that never had one). */
  tableName: 'PAYHOOK_IDEMPOTENCY_TABLE',
  /** JSON object of gateway to dedupe window in seconds, over {@link DEDUPE_WINDOW_SECONDS}. */
  dedupeWindows: 'PAYHOOK_DEDUPE_WINDOWS',
} as const;

/** Where payment events are published, for every function that announces (the consumers, the registration). */
export const EVENT_BUS_ENV = {
  /** AWS: the EventBridge bus for payment events. */
  busName: 'PAYHOOK_EVENT_BUS_NAME',
  /** Local: a JSON-lines file the payment events are appended to. */
  eventsFile: 'PAYHOOK_EVENTS_FILE',
} as const;

/**
 * The reconciler's second schedule: only the claims awaiting confirmation (Flutterwave `verif-hash` bodies), every
 * minute, so a real payment that came with a claim alone counts within about a minute rather than at the next full
 * run; each gateway's claims asked per run are capped by the reconciler's `confirmationsPerRun`.
 */
export const CONFIRMATION_SCHEDULE = { input: { scope: 'confirmations' }, intervalMinutes: 1 } as const;

/**
 * The gateways whose webhooks can be unverified claims (Flutterwave `verif-hash` alone binds no body): the
 * confirmations schedule exists only in a deployment that enables one of them, since no other gateway's event can be
 * awaiting confirmation (its every-minute runs would be billed for nothing, issue #20). The full runs still work off
 * any claim left from before such a gateway was removed.
 */
export const CLAIM_GATEWAYS: readonly GatewayName[] = ['flutterwave'];

/**
 * The priorities the reconciler queues at: those of the kinds it can learn (payment.succeeded is high;
 * payment.failed, payment.authorized and payment.expired are normal; see `defaultPriority`). The stack grants it
 * these queues alone; a unit test keeps the list equal to what `reconcilerEvent` can produce.
 */
export const RECONCILER_QUEUE_PRIORITIES: readonly Priority[] = ['high', 'normal'];

/**
 * Environment of the delivery function (and of the local stack): the destinations' settings (the same JSON as the
 * CDK context's `destinations`), and where each one's queue, dead-letter queue and signing secret are.
 */
export const DELIVERIES_ENV = {
  /** JSON name -> settings (`lambdas/delivery/destinations.ts`). */
  destinations: 'PAYHOOK_DESTINATIONS',
  /** AWS: JSON name -> `{ "queueUrl", "deadLetterQueueUrl", "secretId" }`. */
  targets: 'PAYHOOK_DELIVERY_TARGETS',
  /**
   * Ingest: the gateways some `original` destination wants, comma-separated; their webhooks are queued with the
   * request's bytes and signature headers. Unset: none.
   */
  originalGateways: 'PAYHOOK_ORIGINAL_GATEWAYS',
  /**
   * The consumers: JSON name -> `{ "queueUrl", "gateways"? }` of each `original` destination, where a webhook goes once
   * its event is first applied. Unset: none.
   */
  originalQueues: 'PAYHOOK_ORIGINAL_QUEUES',
} as const;

/** Seconds a delivery waits on its queue while its destination is stopped, before it is looked at again. */
export const STOPPED_DESTINATION_RECHECK_SECONDS = 900;

/** Environment of the reconciler (and of the local stack's reconciler timer). */
export const RECONCILER_ENV = {
  /** Seconds a payment stays pending before the reconciler asks about it. @default 600 */
  graceSeconds: 'PAYHOOK_RECONCILE_GRACE',
  /** Payments asked about per run. @default 200 */
  budget: 'PAYHOOK_RECONCILE_BUDGET',
  /** Claims awaiting confirmation asked about per gateway per run. @default 20 */
  confirmationsPerRun: 'PAYHOOK_CONFIRMATIONS_PER_RUN',
  /** Seconds after which a pending payment without a registered expiry expires. @default 86400 */
  pendingExpirySeconds: 'PAYHOOK_PENDING_EXPIRY',
  /** Local stack only: seconds between runs. @default 60 */
  intervalSeconds: 'PAYHOOK_RECONCILE_INTERVAL',
  /** A gateway API's base URL (tests, sandboxes): `PAYHOOK_PAYSTACK_API_URL`, ... */
  apiUrl: (gateway: GatewayName) => `PAYHOOK_${gateway.toUpperCase()}_API_URL`,
} as const;

/**
 * The custom metrics, as the functions emit them (CloudWatch embedded metric format, through Powertools Metrics) and
 * as the monitoring construct alarms on them. Dimensions stay few so the bill stays flat: `service` (the function),
 * `gateway`, and at most one more per metric, named here.
 */
export const METRICS_NAMESPACE = 'payhook';

export const METRICS = {
  /** Ingest: every request, split by outcome (`accepted`, a refusal reason, or a 5xx reason). */
  webhookRequests: { name: 'WebhookRequests', unit: 'Count', dimension: 'outcome' },
  /**
   * Ingest: requests whose signature was presented and failed (one of {@link SIGNATURE_FAILURE_OUTCOMES}), per gateway,
   * written beside their `WebhookRequests` outcome: the signature-failure alarm reads this one metric rather than a sum
   * of three (an alarm is billed per metric it reads, issue #20).
   */
  signatureFailures: { name: 'SignatureFailures', unit: 'Count', dimension: undefined },
  /**
   * Ingest: requests from outside their gateway's `sourceIps` list, in either mode (per gateway only; `enforce` also
   * counts them as `WebhookRequests` with outcome `source_not_allowed`). Gateways without a list never count here.
   */
  webhookSourceNotAllowed: { name: 'WebhookSourceNotAllowed', unit: 'Count', dimension: undefined },
  /** Consumers: failures, by error class (`in_progress`, `retries_exhausted`, `payload_mismatch`, ...). */
  processingFailures: { name: 'ProcessingFailures', unit: 'Count', dimension: 'errorClass' },
  /** Consumers: failures put aside for good (dead-lettered), by error class. */
  deadLettered: { name: 'DeadLettered', unit: 'Count', dimension: 'errorClass' },
  /**
   * Consumers: how long the message waited in the queue before this attempt, per consumer (`service`) only: every
   * gateway shares each queue, so a gateway dimension would bill a metric per gateway for the same wait.
   */
  queueDelay: { name: 'QueueDelay', unit: 'Milliseconds', dimension: undefined, primary: 'service' },
  /**
   * Reconciler: payments it moved (events queued), by the status they move to: webhooks that never came. Per run
   * (`service`) only: the dashboard sums it over gateways, and which gateway is in the "reconciler run" line. How many
   * were asked about and are still pending are fields of that line too (`checkedByGateway`, `stillPending`).
   */
  paymentsMoved: { name: 'ReconcilerPaymentsMoved', unit: 'Count', dimension: 'status', primary: 'service' },
  /**
   * Reconciler: payments it found paid that no webhook had told us about: lost webhooks. Not confirmations of an
   * unverified claim (a webhook came), nor failures (some gateways send no failure webhook at all). Per run only: the
   * lost-webhooks alarm is over every gateway.
   */
  paymentsSettled: {
    name: 'ReconcilerPaymentsSettled',
    unit: 'Count',
    dimension: undefined,
    primary: 'service',
  },
  /** Reconciler: the gateway's verify API failed, by kind (`unavailable`, `malformed`, ...). */
  gatewayApiErrors: { name: 'ReconcilerGatewayApiErrors', unit: 'Count', dimension: 'reason' },
  /**
   * Reconciler: a run left a gateway alone (its secret is empty, invalid or unreachable), once per run. The reason
   * (`no_credentials`, `invalid_secret`, `secrets_unavailable`) is in the run's warning line, not a dimension: the
   * alarm reads one metric per gateway instead of one per reason (issue #20).
   */
  gatewaySkipped: { name: 'ReconcilerGatewaySkipped', unit: 'Count', dimension: undefined },
  /**
   * Deliveries: every attempt to a destination, by outcome (`delivered`, `retry`, `stopped`, `dead_lettered`), and each
   * event kept on its queue unattempted: `held` (the destination stopped by a 410), `paused` (its circuit breaker
   * open), `throttled` (its rate limit reached). Per destination, not gateway.
   */
  deliveryAttempts: { name: 'DeliveryAttempts', unit: 'Count', dimension: 'outcome', primary: 'destination' },
  /** Deliveries: an attempt's time, connect to the answer, per destination. */
  deliveryLatency: {
    name: 'DeliveryLatency',
    unit: 'Milliseconds',
    dimension: undefined,
    primary: 'destination',
  },
} as const satisfies Record<
  string,
  {
    readonly name: string;
    readonly unit: 'Count' | 'Bytes' | 'Milliseconds';
    readonly dimension: 'outcome' | 'status' | 'errorClass' | 'reason' | undefined;
    /**
     * The first dimension: `gateway` unless given (deliveries are per destination); `service`: none but the function
     * itself (which Powertools adds to every metric).
     */
    readonly primary?: 'destination' | 'service';
  }
>;

export type MetricDefinition = (typeof METRICS)[keyof typeof METRICS];

/**
 * The `WebhookRequests` outcomes that count as `SignatureFailures`: a signature was presented and failed. Not
 * `missing_signature`, which every scanner that finds the URL produces. (`lib/payhook-metrics.ts` checks each is a
 * `SignatureFailureReason`: definitions import no adapter code.)
 */
export const SIGNATURE_FAILURE_OUTCOMES = [
  'invalid_signature',
  'malformed_signature',
  'timestamp_out_of_tolerance',
] as const;
