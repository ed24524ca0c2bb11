/**
 * The one typed description of payhook's moving parts, read by the CDK stack (`lib/`), the local stack and the
 * Lambda handlers alike. It must stay free of CDK and AWS SDK imports so that every front door can load it.
 *
 * Adding a priority class means adding one entry to {@link PRIORITY_QUEUES}; nothing else should need to change.
 */

/** The priority classes, highest first. */
export const PRIORITIES = ['high', 'normal', 'low'] as const;
export type Priority = (typeof PRIORITIES)[number];

export interface PriorityQueueDefinition {
  /** The priority class this queue carries. */
  readonly priority: Priority;
  /** What lands here, for humans reading dashboards and the README. */
  readonly description: string;
  /** Base name of the queue; deployments may prefix it (see {@link queueName}). */
  readonly queueName: string;
  /** Base name of the queue's dead-letter queue. */
  readonly deadLetterQueueName: string;
  /** Receives before SQS itself moves a message to the dead-letter queue (the safety net behind the consumer). */
  readonly maxReceiveCount: number;
}

export const PRIORITY_QUEUES: Readonly<Record<Priority, PriorityQueueDefinition>> = {
  high: {
    priority: 'high',
    description: 'Money arrived (successful charge, capture, paid) and disputes.',
    queueName: 'payhook-high',
    deadLetterQueueName: 'payhook-high-dlq',
    maxReceiveCount: 5,
  },
  normal: {
    priority: 'normal',
    description: "The rest of a payment's lifecycle: pending, authorised, failed, expired, refunds.",
    queueName: 'payhook-normal',
    deadLetterQueueName: 'payhook-normal-dlq',
    maxReceiveCount: 5,
  },
  low: {
    priority: 'low',
    description:
      'Everything else the gateways send (subscriptions, transfers, payouts, informational events).',
    queueName: 'payhook-low',
    deadLetterQueueName: 'payhook-low-dlq',
    maxReceiveCount: 5,
  },
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

export function isPriority(value: unknown): value is Priority {
  return typeof value === 'string' && (PRIORITIES as readonly string[]).includes(value);
}

/**
 * Environment variables the ingest function reads. The CDK stack and the local stack set them from the same names,
 * so a rename happens here once.
 */
export const INGEST_ENV = {
  /** Queue URL for each priority: `PAYHOOK_QUEUE_URL_HIGH`, ... */
  queueUrl: (priority: Priority) => `PAYHOOK_QUEUE_URL_${priority.toUpperCase()}`,
  /** Dead-letter queue URL for each priority: `PAYHOOK_DLQ_URL_LOW`, ... */
  deadLetterQueueUrl: (priority: Priority) => `PAYHOOK_DLQ_URL_${priority.toUpperCase()}`,
  /** JSON object of per-gateway settings (see `lambdas/gateways/settings.ts`); optional. */
  gatewaySettings: 'PAYHOOK_GATEWAY_SETTINGS',
  /** JSON object mapping gateway name to its Secrets Manager secret name or ARN (on AWS). */
  secretIds: 'PAYHOOK_GATEWAY_SECRET_IDS',
  /** Path of a JSON file holding every gateway's secrets (local development). */
  secretsFile: 'PAYHOOK_SECRETS_FILE',
  /** Largest accepted body in bytes; default {@link DEFAULT_MAX_BODY_BYTES}. */
  maxBodyBytes: 'PAYHOOK_MAX_BODY_BYTES',
  /** `false` refuses test-mode events (for production deployments); default `true`. */
  acceptTestMode: 'PAYHOOK_ACCEPT_TEST_MODE',
} as const;

/** 256 KiB: larger than any payment webhook seen in the gateways' docs, small enough for one SQS message. */
export const DEFAULT_MAX_BODY_BYTES = 256 * 1024;

/**
 * Gateways retry until they get a 2xx; the strictest waits 5 s (Razorpay). The ingest function's timeout sits well
 * inside that so a slow dependency becomes a 5xx the gateway retries, not a timeout it counts against us.
 */
export const INGEST_TIMEOUT_SECONDS = 4;

/** SQS message attribute names written by ingest and read by consumers and the on-call CLI. */
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
  failedAt: 'failedAt',
} as const;
