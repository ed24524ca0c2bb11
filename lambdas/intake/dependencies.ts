import {
  createDocumentClient,
  createRefusalsDynamoDbClient,
  createSecretsManagerClient,
  createSqsClient,
} from '../common/aws-clients.js';
import {
  booleanEnv,
  type Environment,
  MissingConfigurationError,
  optionalEnv,
  positiveIntegerEnv,
  requireEnv,
  stringMapEnv,
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
  SECRETS_ENV,
} from '../definitions.js';
import { isGatewayName } from '../domain/webhook-event.js';
import { ADAPTERS } from '../gateways/registry.js';
import { parseGatewaySettings } from '../gateways/settings.js';
import type { SecretStore } from '../ports/secret-store.js';
import { FileSecretStore } from '../secrets/gateway-secrets.js';
import { SecretsManagerStore } from '../secrets/secrets-manager-store.js';
import { DynamoRefusedRequestStore } from '../store/dynamodb-refused-requests.js';
import type { IntakeDependencies } from './receive-webhook.js';
import { RefusedRequestRecorder } from './refused-requests.js';
import { SqsEventQueue } from './sqs-event-queue.js';

/**
 * Secrets come from Secrets Manager when `PAYHOOK_GATEWAY_SECRET_IDS` names them (AWS), else from the JSON file in
 * `PAYHOOK_SECRETS_FILE` (local). Setting neither is a configuration error, reported at cold start.
 */
export function secretStoreFromEnv(env: Environment): SecretStore {
  const secretIds = stringMapEnv(env, SECRETS_ENV.secretIds);
  if (secretIds) {
    for (const gateway of Object.keys(secretIds)) {
      if (!isGatewayName(gateway)) {
        throw new MissingConfigurationError(`${SECRETS_ENV.secretIds} names unknown gateway "${gateway}"`);
      }
    }
    return new SecretsManagerStore(secretIds, { client: createSecretsManagerClient() });
  }
  const file = optionalEnv(env, SECRETS_ENV.secretsFile);
  if (file) return new FileSecretStore(file);
  throw new MissingConfigurationError(
    `set ${SECRETS_ENV.secretIds} (AWS) or ${SECRETS_ENV.secretsFile} (local)`,
  );
}

/** The refused-requests recorder, when the stack gives ingest a table for them. */
function refusalsFromEnv(env: Environment, log: StructuredLog): RefusedRequestRecorder | undefined {
  const tableName = optionalEnv(env, REJECTS_TABLE_ENV.tableName);
  if (!tableName) return undefined;
  const store = new DynamoRefusedRequestStore(createDocumentClient(createRefusalsDynamoDbClient()), {
    tableName,
    ttlDays: positiveIntegerEnv(env, REJECTS_TABLE_ENV.ttlDays, REJECTS_TABLE.defaultTtlDays),
  });
  return new RefusedRequestRecorder(
    store,
    log,
    positiveIntegerEnv(env, REJECTS_TABLE_ENV.perMinute, REJECTS_TABLE.defaultPerMinute),
  );
}

/** Everything ingest needs, built once per container from the environment. */
export function intakeDependenciesFromEnv(env: Environment, log: StructuredLog): IntakeDependencies {
  const refusals = refusalsFromEnv(env, log);
  const queues = Object.fromEntries(
    PRIORITIES.map((priority) => [priority, requireEnv(env, QUEUES_ENV.queueUrl(priority))]),
  ) as Record<Priority, string>;
  return {
    adapters: ADAPTERS,
    settings: parseGatewaySettings(optionalEnv(env, INTAKE_ENV.gatewaySettings), {
      acceptTestMode: booleanEnv(env, INTAKE_ENV.acceptTestMode, true),
    }),
    secrets: secretStoreFromEnv(env),
    queue: new SqsEventQueue(createSqsClient(env), {
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
