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
  DELIVERIES_ENV,
  INTAKE_ENV,
  MAX_BODY_BYTES_LIMIT,
  PRIORITIES,
  type Priority,
  QUEUES_ENV,
  REJECTS_TABLE,
  REJECTS_TABLE_ENV,
} from '../definitions.js';
import { GATEWAYS, type GatewayName, isGatewayName } from '../domain/webhook-event.js';
import { ADAPTERS } from '../gateways/registry.js';
import { parseGatewaySettings } from '../gateways/settings.js';
import type { IntakeDependencies } from '../intake/receive-webhook.js';
import { RefusedRequestRecorder } from '../intake/refused-requests.js';
import { SqsEventQueue } from '../intake/sqs-event-queue.js';
import { MAX_BODY_BYTES_WITH_ORIGINALS } from '../messages/original-webhook.js';
import { DynamoRefusedRequestWriter } from '../store/dynamodb-refused-request-writer.js';
import { dynamoDbOf } from './dynamodb.js';
import type { ExecutionEnvironment } from './execution-environment.js';
import { gatewaySecretsOf } from './gateway-secrets.js';
import { sqsOf } from './sqs.js';

/** The refused-requests recorder, when the stack gives ingest a table for them: best effort, on its own clients. */
function refusalsFrom(
  container: ExecutionEnvironment,
  log: StructuredLog,
): RefusedRequestRecorder | undefined {
  const { env } = container;
  const tableName = optionalEnv(env, REJECTS_TABLE_ENV.tableName);
  if (!tableName) return undefined;
  const store = new DynamoRefusedRequestWriter(dynamoDbOf(container.clients('refusals')), {
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
export function intakeDependencies(container: ExecutionEnvironment, log: StructuredLog): IntakeDependencies {
  const { env } = container;
  const refusals = refusalsFrom(container, log);
  const queues = queueUrlsFromEnv(env);
  const originalGateways = originalGatewaysFromEnv(env);
  return {
    adapters: ADAPTERS,
    settings: parseGatewaySettings(optionalEnv(env, INTAKE_ENV.gatewaySettings), {
      acceptTestMode: booleanEnv(env, INTAKE_ENV.acceptTestMode, true),
    }),
    secrets: gatewaySecretsOf(container, 'ingest'),
    queue: new SqsEventQueue(sqsOf(container.clients('ingest')), {
      queues,
      parking: requireEnv(env, QUEUES_ENV.deadLetterQueueUrl('low')),
    }),
    maxBodyBytes: maxBodyBytesFromEnv(env, originalGateways.size > 0),
    ...(refusals && { refusals }),
    ...(originalGateways.size > 0 && { originalGateways }),
  };
}

/** `PAYHOOK_ORIGINAL_GATEWAYS`: the gateways whose webhooks are queued with their originals. */
export function originalGatewaysFromEnv(env: Environment): ReadonlySet<GatewayName> {
  const names = (optionalEnv(env, DELIVERIES_ENV.originalGateways) ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  const unknown = names.find((name) => !isGatewayName(name));
  if (unknown !== undefined) {
    throw new MissingConfigurationError(
      `${DELIVERIES_ENV.originalGateways} names unknown gateway "${unknown.slice(0, 40)}" (known: ${GATEWAYS.join(', ')})`,
    );
  }
  return new Set(names.filter(isGatewayName));
}

/**
 * `PAYHOOK_MAX_BODY_BYTES`, refused above {@link MAX_BODY_BYTES_LIMIT} (above {@link MAX_BODY_BYTES_WITH_ORIGINALS}
 * when originals are carried): a larger body might not fit one message.
 */
export function maxBodyBytesFromEnv(env: Environment, carriesOriginals = false): number {
  const bytes = positiveIntegerEnv(env, INTAKE_ENV.maxBodyBytes, DEFAULT_MAX_BODY_BYTES);
  const limit = carriesOriginals ? MAX_BODY_BYTES_WITH_ORIGINALS : MAX_BODY_BYTES_LIMIT;
  if (bytes > limit) {
    throw new MissingConfigurationError(
      `environment variable ${INTAKE_ENV.maxBodyBytes} is ${bytes}; at most ${limit} bytes fit one queue message once encoded${carriesOriginals ? ' with the original webhook (an original destination is configured)' : ''}`,
    );
  }
  return bytes;
}
