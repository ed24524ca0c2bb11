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
  DEFAULT_MAX_BODY_BYTES,
  INTAKE_ENV,
  MAX_BODY_BYTES_LIMIT,
  PRIORITIES,
  type Priority,
  QUEUES_ENV,
  REJECTS_TABLE,
  REJECTS_TABLE_ENV,
} from '../definitions.js';
import { ADAPTERS } from '../gateways/registry.js';
import { parseGatewaySettings } from '../gateways/settings.js';
import type { IntakeDependencies } from '../intake/receive-webhook.js';
import { RefusedRequestRecorder } from '../intake/refused-requests.js';
import { SqsEventQueue } from '../intake/sqs-event-queue.js';
import { DynamoRefusedRequestStore } from '../store/dynamodb-refused-requests.js';
import type { Container } from './container.js';

/** The refused-requests recorder, when the stack gives ingest a table for them: best effort, on its own clients. */
function refusalsFrom(container: Container, log: StructuredLog): RefusedRequestRecorder | undefined {
  const { env } = container;
  const tableName = optionalEnv(env, REJECTS_TABLE_ENV.tableName);
  if (!tableName) return undefined;
  const store = new DynamoRefusedRequestStore(container.clients('refusals').documents(), {
    tableName,
    ttlDays: positiveIntegerEnv(env, REJECTS_TABLE_ENV.ttlDays, REJECTS_TABLE.defaultTtlDays),
  });
  return new RefusedRequestRecorder(
    store,
    log,
    positiveIntegerEnv(env, REJECTS_TABLE_ENV.perMinute, REJECTS_TABLE.defaultPerMinute),
  );
}

/** The URLs of the priority queues a function sends to (every priority unless told), `PAYHOOK_QUEUE_URL_<PRIORITY>`. */
export function queueUrlsFromEnv(
  env: Environment,
  priorities: readonly Priority[] = PRIORITIES,
): Partial<Record<Priority, string>> {
  return Object.fromEntries(
    priorities.map((priority) => [priority, requireEnv(env, QUEUES_ENV.queueUrl(priority))]),
  );
}

/** Everything ingest needs, from its container: read at load, so a missing variable fails the cold start. */
export function intakeDependencies(container: Container, log: StructuredLog): IntakeDependencies {
  const { env } = container;
  const refusals = refusalsFrom(container, log);
  const queues = queueUrlsFromEnv(env);
  return {
    adapters: ADAPTERS,
    settings: parseGatewaySettings(optionalEnv(env, INTAKE_ENV.gatewaySettings), {
      acceptTestMode: booleanEnv(env, INTAKE_ENV.acceptTestMode, true),
    }),
    secrets: container.secrets('ingest'),
    queue: new SqsEventQueue(container.clients('ingest').sqs(), {
      queues,
      parking: requireEnv(env, QUEUES_ENV.deadLetterQueueUrl('low')),
    }),
    maxBodyBytes: maxBodyBytesFromEnv(env),
    ...(refusals && { refusals }),
  };
}

/** `PAYHOOK_MAX_BODY_BYTES`, refused above {@link MAX_BODY_BYTES_LIMIT}: a larger body might not fit one message. */
export function maxBodyBytesFromEnv(env: Environment): number {
  const bytes = positiveIntegerEnv(env, INTAKE_ENV.maxBodyBytes, DEFAULT_MAX_BODY_BYTES);
  if (bytes > MAX_BODY_BYTES_LIMIT) {
    throw new MissingConfigurationError(
      `environment variable ${INTAKE_ENV.maxBodyBytes} is ${bytes}; at most ${MAX_BODY_BYTES_LIMIT} bytes fit one queue message once encoded`,
    );
  }
  return bytes;
}
