import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { createDocumentClient, createDynamoDbClient, createSqsClient } from '../common/aws-clients.js';
import {
  booleanEnv,
  type Environment,
  MissingConfigurationError,
  optionalEnv,
  positiveIntegerEnv,
  requireEnv,
} from '../common/config.js';
import type { StructuredLog } from '../common/log.js';
import {
  DEDUPE_WINDOW_SECONDS,
  DEFAULT_HISTORY_RETENTION_DAYS,
  DRAINED_QUEUE_ENV,
  IDEMPOTENCY_TABLE_ENV,
  inProgressExpirySeconds,
  isPriority,
  PAYMENTS_TABLE_ENV,
  PRIORITY_QUEUES,
} from '../definitions.js';
import { GATEWAYS, type GatewayName, isGatewayName } from '../domain/webhook-event.js';
import { publisherFromEnv } from '../publishing/from-env.js';
import { DynamoPaymentStore } from '../store/dynamodb-payment-store.js';
import { DynamoUnmatchedEventStore } from '../store/dynamodb-unmatched-events.js';
import type { ConsumerDependencies } from './consumer.js';

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

/** Everything one priority's consumer needs, built once per container from the environment. */
export function consumerDependenciesFromEnv(env: Environment, log: StructuredLog): ConsumerDependencies {
  const priority = requireEnv(env, DRAINED_QUEUE_ENV.priority);
  if (!isPriority(priority)) {
    throw new MissingConfigurationError(
      `${DRAINED_QUEUE_ENV.priority} must be high, normal or low, got "${priority}"`,
    );
  }
  const dynamo = createDynamoDbClient();
  // Read now, so a missing variable fails the cold start rather than the first batch.
  const idempotencyTable = requireEnv(env, IDEMPOTENCY_TABLE_ENV.tableName);
  const documents = createDocumentClient(dynamo);
  const tables = {
    tableName: requireEnv(env, PAYMENTS_TABLE_ENV.tableName),
    historyRetentionDays: positiveIntegerEnv(
      env,
      PAYMENTS_TABLE_ENV.historyRetentionDays,
      DEFAULT_HISTORY_RETENTION_DAYS,
    ),
  };
  return {
    apply: {
      store: new DynamoPaymentStore(documents, tables),
      unmatched: new DynamoUnmatchedEventStore(documents, tables),
      publisher: publisherFromEnv(env),
      now: () => new Date(),
      keepPayload: booleanEnv(env, PAYMENTS_TABLE_ENV.historyKeepsPayload, false),
    },
    newIdempotencyStore: () =>
      new DynamoDBPersistenceLayer({ tableName: idempotencyTable, awsSdkV3Client: dynamo }),
    dedupeWindows: dedupeWindowsFromEnv(env),
    sqs: createSqsClient(env),
    queueUrl: requireEnv(env, DRAINED_QUEUE_ENV.queueUrl),
    deadLetterQueueUrl: requireEnv(env, DRAINED_QUEUE_ENV.deadLetterQueueUrl),
    maxReceiveCount: PRIORITY_QUEUES[priority].maxReceiveCount,
    inProgressRetrySeconds: inProgressExpirySeconds(priority),
    log,
  };
}
