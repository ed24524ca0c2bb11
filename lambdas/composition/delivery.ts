import { type Environment, MissingConfigurationError, optionalEnv, requireEnv } from '../common/config.js';
import type { StructuredLog } from '../common/log.js';
import { DELIVERIES_ENV, PAYMENTS_TABLE_ENV, SECRETS_ENV } from '../definitions.js';
import type { DelivererDependencies, DeliveryTarget } from '../delivery/deliverer.js';
import { parseDestinationsJson } from '../delivery/destinations.js';
import { sendDelivery } from '../delivery/http-sender.js';
import { SqsDeliveryQueue } from '../delivery/sqs-delivery-queue.js';
import { FileSigningSecrets, SecretsManagerSigningSecrets } from '../secrets/destination-secrets.js';
import { DynamoBreakerStates } from '../store/dynamodb-breaker-states.js';
import { DynamoDestinationStates } from '../store/dynamodb-destination-states.js';
import { DynamoRateLimiter } from '../store/dynamodb-rate-limiter.js';
import { documentsOf } from './documents.js';
import type { ExecutionEnvironment } from './execution-environment.js';
import { gatewaySecretsOf } from './gateway-secrets.js';
import { secretsManagerOf } from './secrets-manager.js';
import { sqsOf } from './sqs.js';

/** Where one destination's queues and secret are (`PAYHOOK_DELIVERY_TARGETS`, set by the stack or the local stack). */
export interface DeliveryTargetLocation {
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
  /** AWS: the signing secret's ARN. Locally absent: the secrets file (or the development secret) signs. */
  readonly secretId?: string;
}

function targetLocations(env: Environment): Record<string, DeliveryTargetLocation> {
  const text = requireEnv(env, DELIVERIES_ENV.targets);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new MissingConfigurationError(`${DELIVERIES_ENV.targets} must be JSON: name -> queue URLs`);
  }
  return parsed as Record<string, DeliveryTargetLocation>;
}

/** Every destination with its queues: each one the settings name must have a location, or the cold start fails. */
export function deliveryTargetsFromEnv(
  env: Environment,
  options: { readonly local: boolean },
): DeliveryTarget[] {
  const settings = parseDestinationsJson(
    optionalEnv(env, DELIVERIES_ENV.destinations),
    DELIVERIES_ENV.destinations,
    {
      allowHttp: options.local,
    },
  );
  const locations = targetLocations(env);
  return Object.entries(settings).map(([name, destination]) => {
    const location = locations[name];
    if (!location?.queueUrl || !location.deadLetterQueueUrl) {
      throw new MissingConfigurationError(`${DELIVERIES_ENV.targets} has no queues for destination ${name}`);
    }
    return {
      name,
      settings: destination,
      queueUrl: location.queueUrl,
      deadLetterQueueUrl: location.deadLetterQueueUrl,
    };
  });
}

export interface DeliveryOptions {
  /** The local stack: loopback destinations and http, secrets from the secrets file or `fallbackSecret`. */
  readonly local?: { readonly fallbackSecret: string };
}

/** Everything the delivery function needs, from its container. */
export function deliveryDependencies(
  container: ExecutionEnvironment,
  log: StructuredLog,
  options: DeliveryOptions = {},
): DelivererDependencies {
  const { env } = container;
  const clients = container.clients('delivery');
  const local = options.local !== undefined;
  const targets = deliveryTargetsFromEnv(env, { local });
  const secretIds = Object.fromEntries(
    Object.entries(targetLocations(env)).flatMap(([name, location]) =>
      location.secretId === undefined ? [] : [[name, location.secretId]],
    ),
  );
  const secrets = options.local
    ? new FileSigningSecrets(optionalEnv(env, SECRETS_ENV.secretsFile), options.local.fallbackSecret)
    : new SecretsManagerSigningSecrets(secretIds, secretsManagerOf(clients));
  const table = requireEnv(env, PAYMENTS_TABLE_ENV.tableName);
  // The gateways' own secrets, where the stack (or the local secrets file) gives the function any: for the original
  // destinations' headers that are a gateway's secret itself (Flutterwave's verif-hash).
  const gatewaySecrets =
    optionalEnv(env, SECRETS_ENV.secretIds) !== undefined ||
    optionalEnv(env, SECRETS_ENV.secretsFile) !== undefined
      ? gatewaySecretsOf(container, 'delivery')
      : undefined;
  const documents = documentsOf(clients);
  return {
    targets,
    states: new DynamoDestinationStates(documents, table),
    breakers: new DynamoBreakerStates(documents, table),
    rateLimiter: new DynamoRateLimiter(documents, table),
    secrets,
    ...(gatewaySecrets && { gatewaySecrets }),
    send: sendDelivery,
    queue: new SqsDeliveryQueue(sqsOf(clients)),
    local,
    log,
  };
}
