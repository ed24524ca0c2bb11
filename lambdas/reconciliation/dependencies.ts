import { createDocumentClient, createDynamoDbClient, createSqsClient } from '../common/aws-clients.js';
import { type Environment, optionalEnv, positiveIntegerEnv, requireEnv } from '../common/config.js';
import type { StructuredLog } from '../common/log.js';
import {
  DEFAULT_HISTORY_RETENTION_DAYS,
  PAYMENTS_TABLE_ENV,
  PRIORITIES,
  type Priority,
  QUEUES_ENV,
  RECONCILER_ENV,
} from '../definitions.js';
import { GATEWAYS, type GatewayName } from '../domain/webhook-event.js';
import { secretStoreFromEnv } from '../intake/dependencies.js';
import { SqsEventQueue } from '../intake/sqs-event-queue.js';
import type { SecretStore } from '../ports/secret-store.js';
import { DynamoPaymentStore } from '../store/dynamodb-payment-store.js';
import { apiCredentialsOf } from './credentials.js';
import {
  DEFAULT_RECONCILE_SETTINGS,
  type ReconcileDependencies,
  type ReconcileSettings,
} from './reconcile.js';
import { VERIFIERS } from './verifiers/index.js';

export function reconcileSettingsFromEnv(env: Environment): ReconcileSettings {
  return {
    ...DEFAULT_RECONCILE_SETTINGS,
    graceSeconds: positiveIntegerEnv(
      env,
      RECONCILER_ENV.graceSeconds,
      DEFAULT_RECONCILE_SETTINGS.graceSeconds,
    ),
    budget: positiveIntegerEnv(env, RECONCILER_ENV.budget, DEFAULT_RECONCILE_SETTINGS.budget),
    confirmationsPerRun: positiveIntegerEnv(
      env,
      RECONCILER_ENV.confirmationsPerRun,
      DEFAULT_RECONCILE_SETTINGS.confirmationsPerRun,
    ),
    defaultExpirySeconds: positiveIntegerEnv(
      env,
      RECONCILER_ENV.pendingExpirySeconds,
      DEFAULT_RECONCILE_SETTINGS.defaultExpirySeconds,
    ),
  };
}

/** Base URLs from `PAYHOOK_<GATEWAY>_API_URL`, where set. */
export function apiBaseUrlsFromEnv(env: Environment): Partial<Record<GatewayName, string>> {
  const urls: Partial<Record<GatewayName, string>> = {};
  for (const gateway of GATEWAYS) {
    const url = optionalEnv(env, RECONCILER_ENV.apiUrl(gateway));
    if (url) urls[gateway] = url.replace(/\/+$/, '');
  }
  return urls;
}

/** The credentials lookup over a secret store: `undefined` when a gateway has no secret. */
export function credentialsFrom(secrets: SecretStore) {
  return async (gateway: GatewayName) => {
    const fetched = await secrets.get(gateway);
    return fetched ? apiCredentialsOf(gateway, fetched.secret) : undefined;
  };
}

/** Everything the reconciler needs on AWS, built once per container from the environment. */
export function reconcileDependenciesFromEnv(env: Environment, log: StructuredLog): ReconcileDependencies {
  const queues = Object.fromEntries(
    PRIORITIES.map((priority) => [priority, requireEnv(env, QUEUES_ENV.queueUrl(priority))]),
  ) as Record<Priority, string>;
  return {
    store: new DynamoPaymentStore(createDocumentClient(createDynamoDbClient()), {
      tableName: requireEnv(env, PAYMENTS_TABLE_ENV.tableName),
      historyRetentionDays: DEFAULT_HISTORY_RETENTION_DAYS,
    }),
    verifiers: VERIFIERS,
    credentials: credentialsFrom(secretStoreFromEnv(env)),
    baseUrls: apiBaseUrlsFromEnv(env),
    queue: new SqsEventQueue(createSqsClient(env), { queues }),
    settings: reconcileSettingsFromEnv(env),
    now: () => new Date(),
    log,
  };
}
