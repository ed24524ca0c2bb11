import { type Environment, optionalEnv, positiveIntegerEnv } from '../common/config.js';
import type { StructuredLog } from '../common/log.js';
import { RECONCILER_ENV, RECONCILER_QUEUE_PRIORITIES } from '../definitions.js';
import { GATEWAYS, type GatewayName } from '../domain/webhook-event.js';
import { SqsEventQueue } from '../intake/sqs-event-queue.js';
import type { SecretStore } from '../ports/secret-store.js';
import { apiCredentialsOf } from '../reconciliation/credentials.js';
import {
  DEFAULT_RECONCILE_SETTINGS,
  type ReconcileDependencies,
  type ReconcileSettings,
} from '../reconciliation/reconcile.js';
import { VERIFIERS } from '../reconciliation/verifiers/index.js';
import { DynamoPaymentStore } from '../store/dynamodb-payment-store.js';
import { documentsOf } from './documents.js';
import type { ExecutionEnvironment } from './execution-environment.js';
import { gatewaySecretsOf } from './gateway-secrets.js';
import { queueUrlsFromEnv } from './intake.js';
import { sqsOf } from './sqs.js';

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

/** Everything the reconciler needs, from its container: it reads payments and queues what it learns. */
export function reconcileDependencies(
  container: ExecutionEnvironment,
  log: StructuredLog,
): ReconcileDependencies {
  const { env } = container;
  const clients = container.clients('reconciler');
  return {
    store: new DynamoPaymentStore(documentsOf(clients), container.paymentsTable()),
    verifiers: VERIFIERS,
    credentials: credentialsFrom(gatewaySecretsOf(container, 'reconciler')),
    baseUrls: apiBaseUrlsFromEnv(env),
    queue: new SqsEventQueue(sqsOf(clients), { queues: queueUrlsFromEnv(env, RECONCILER_QUEUE_PRIORITIES) }),
    settings: reconcileSettingsFromEnv(env),
    now: () => new Date(),
    log,
  };
}
