import {
  booleanEnv,
  type Environment,
  MissingConfigurationError,
  optionalEnv,
  requireEnv,
} from '../common/config.js';
import type { StructuredLog } from '../common/log.js';
import {
  DEDUPE_WINDOW_SECONDS,
  DELIVERIES_ENV,
  DRAINED_QUEUE_ENV,
  IDEMPOTENCY_TABLE_ENV,
  inProgressExpirySeconds,
  isPriority,
  PAYMENTS_TABLE_ENV,
  PRIORITY_QUEUES,
  type Priority,
} from '../definitions.js';
import { GATEWAYS, type GatewayName, isGatewayName } from '../domain/webhook-event.js';
import type { ConsumerDependencies } from '../processing/consumer.js';
import { type OriginalDestination, OriginalForwarding } from '../processing/original-forwarding.js';
import { SqsOriginalQueue } from '../processing/sqs-original-queue.js';
import { DynamoClaimOriginals } from '../store/dynamodb-claim-originals.js';
import { DynamoEventRecords } from '../store/dynamodb-event-records.js';
import { DynamoPaymentStore } from '../store/dynamodb-payment-store.js';
import { DynamoUnmatchedEventStore } from '../store/dynamodb-unmatched-events.js';
import { DynamoPreviousCompletions } from '../store/previous-idempotency-records.js';
import { documentsOf } from './documents.js';
import { dynamoDbOf } from './dynamodb.js';
import type { ExecutionEnvironment } from './execution-environment.js';
import { publisherOf } from './publisher.js';
import { sqsOf } from './sqs.js';

/** Dedupe windows: the defaults, overridden per gateway by `PAYHOOK_DEDUPE_WINDOWS` (seconds). */
export function dedupeWindowsFromEnv(env: Environment): Record<GatewayName, number> {
  const windows = { ...DEDUPE_WINDOW_SECONDS };
  const raw = optionalEnv(env, IDEMPOTENCY_TABLE_ENV.dedupeWindows);
  if (raw === undefined) return windows;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new MissingConfigurationError(
      `${IDEMPOTENCY_TABLE_ENV.dedupeWindows} must be a JSON object of gateway to seconds`,
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new MissingConfigurationError(
      `${IDEMPOTENCY_TABLE_ENV.dedupeWindows} must be a JSON object of gateway to seconds`,
    );
  }
  for (const [gateway, seconds] of Object.entries(parsed)) {
    if (!isGatewayName(gateway)) {
      throw new MissingConfigurationError(
        `${IDEMPOTENCY_TABLE_ENV.dedupeWindows} names unknown gateway "${gateway}" (known: ${GATEWAYS.join(', ')})`,
      );
    }
    if (!Number.isSafeInteger(seconds) || (seconds as number) < 60) {
      throw new MissingConfigurationError(
        `${IDEMPOTENCY_TABLE_ENV.dedupeWindows}.${gateway} must be whole seconds, at least 60`,
      );
    }
    windows[gateway] = seconds as number;
  }
  return windows;
}

/** `PAYHOOK_ORIGINAL_QUEUES`: each `original` destination's queue and gateways (none when unset). */
export function originalDestinationsFromEnv(env: Environment): OriginalDestination[] {
  const text = optionalEnv(env, DELIVERIES_ENV.originalQueues);
  if (text === undefined || text.trim() === '') return [];
  const invalid = () =>
    new MissingConfigurationError(
      `${DELIVERIES_ENV.originalQueues} must be JSON: name -> {"queueUrl": "...", "gateways": [...]}`,
    );
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalid();
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw invalid();
  return Object.entries(parsed).map(([name, value]) => {
    const { queueUrl, gateways } = (value ?? {}) as { queueUrl?: unknown; gateways?: unknown };
    if (typeof queueUrl !== 'string' || queueUrl === '') throw invalid();
    if (gateways !== undefined && (!Array.isArray(gateways) || !gateways.every(isGatewayName)))
      throw invalid();
    return { name, queueUrl, ...(gateways !== undefined && { gateways: gateways as GatewayName[] }) };
  });
}

/** The queue one consumer drains and its dead-letter queue. */
export interface DrainedQueue {
  readonly priority: Priority;
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
}

/** `PAYHOOK_PRIORITY` and the drained queue's URLs, as the stack sets them on each consumer. */
export function drainedQueueFromEnv(env: Environment): DrainedQueue {
  const priority = requireEnv(env, DRAINED_QUEUE_ENV.priority);
  if (!isPriority(priority)) {
    throw new MissingConfigurationError(
      `${DRAINED_QUEUE_ENV.priority} must be high, normal or low, got "${priority}"`,
    );
  }
  return {
    priority,
    queueUrl: requireEnv(env, DRAINED_QUEUE_ENV.queueUrl),
    deadLetterQueueUrl: requireEnv(env, DRAINED_QUEUE_ENV.deadLetterQueueUrl),
  };
}

/**
 * Everything one priority's consumer needs, from its container: the payment store, the unmatched events, the
 * idempotency records and the redeliveries all on the container's one set of consumer clients.
 */
export function consumerDependencies(
  container: ExecutionEnvironment,
  log: StructuredLog,
  drained: DrainedQueue = drainedQueueFromEnv(container.env),
): ConsumerDependencies {
  const { env } = container;
  const clients = container.clients('consumer');
  const tables = container.paymentsTable();
  // The previous release's idempotency table, while a deployment still has one (see previous-idempotency-records.ts).
  const previousTable = optionalEnv(env, IDEMPOTENCY_TABLE_ENV.tableName);
  const publisher = publisherOf(container, 'consumer');
  const documents = documentsOf(clients);
  const sqs = sqsOf(clients);
  const originalDestinations = originalDestinationsFromEnv(env);
  return {
    apply: {
      store: new DynamoPaymentStore(documents, tables),
      unmatched: new DynamoUnmatchedEventStore(documents, tables),
      publisher,
      now: () => new Date(),
      keepPayload: booleanEnv(env, PAYMENTS_TABLE_ENV.historyKeepsPayload, false),
      ...(previousTable !== undefined && {
        previousCompletions: new DynamoPreviousCompletions(dynamoDbOf(clients), previousTable),
      }),
    },
    newIdempotencyStore: () => new DynamoEventRecords(documents, tables),
    dedupeWindows: dedupeWindowsFromEnv(env),
    sqs,
    queueUrl: drained.queueUrl,
    deadLetterQueueUrl: drained.deadLetterQueueUrl,
    maxReceiveCount: PRIORITY_QUEUES[drained.priority].maxReceiveCount,
    inProgressRetrySeconds: inProgressExpirySeconds(drained.priority),
    log,
    ...(originalDestinations.length > 0 && {
      originals: new OriginalForwarding({
        destinations: originalDestinations,
        queue: new SqsOriginalQueue(sqs),
        claims: new DynamoClaimOriginals(documents, tables.tableName),
        log,
      }),
    }),
  };
}
