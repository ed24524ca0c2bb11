import {
  type Environment,
  MissingConfigurationError,
  optionalEnv,
  positiveIntegerEnv,
  requireEnv,
  stringMapEnv,
} from '../common/config.js';
import {
  DEFAULT_HISTORY_RETENTION_DAYS,
  EVENT_BUS_ENV,
  PAYMENTS_TABLE_ENV,
  SECRETS_ENV,
} from '../definitions.js';
import { isGatewayName } from '../domain/webhook-event.js';
import type { PaymentEventPublisher } from '../ports/payment-event-publisher.js';
import type { SecretStore } from '../ports/secret-store.js';
import { EventBridgePublisher } from '../publishing/eventbridge-publisher.js';
import { FilePaymentEventPublisher } from '../publishing/file-publisher.js';
import { FileSecretStore } from '../secrets/gateway-secrets.js';
import { SecretsManagerStore } from '../secrets/secrets-manager-store.js';
import type { DynamoPaymentStoreOptions } from '../store/dynamodb-payment-store.js';
import type { ClientRole } from './client-settings.js';
import { type AwsClientOptions, AwsClients } from './clients.js';

export interface ContainerOptions extends AwsClientOptions {
  /** Wraps the payment-event publisher once built (the local stack's hook: fault injection, counting). */
  readonly publisher?: (inner: PaymentEventPublisher) => PaymentEventPublisher;
}

/**
 * One execution environment's shared parts: its environment, and the clients, secret stores and publishers built from
 * it, each once, on first use. A Lambda handler module makes one at load; the local stack makes one for all the
 * functions it hosts, pointed at the emulators. The `*Dependencies` functions beside this file read what each
 * function needs from it.
 */
export class Container {
  private readonly clientsByRole = new Map<ClientRole, AwsClients>();
  private readonly secretsByRole = new Map<ClientRole, SecretStore>();
  private readonly publishersByRole = new Map<ClientRole, PaymentEventPublisher>();

  constructor(
    readonly env: Environment = process.env,
    private readonly options: ContainerOptions = {},
  ) {}

  /** The role's AWS clients, one set per container. */
  clients(role: ClientRole): AwsClients {
    let clients = this.clientsByRole.get(role);
    if (!clients) {
      clients = new AwsClients(role, this.env, this.options);
      this.clientsByRole.set(role, clients);
    }
    return clients;
  }

  /**
   * Secrets come from Secrets Manager when `PAYHOOK_GATEWAY_SECRET_IDS` names them (AWS), else from the JSON file in
   * `PAYHOOK_SECRETS_FILE` (local). Setting neither is a configuration error, reported at cold start.
   */
  secrets(role: ClientRole): SecretStore {
    let store = this.secretsByRole.get(role);
    if (!store) {
      store = this.secretStore(role);
      this.secretsByRole.set(role, store);
    }
    return store;
  }

  /**
   * Where payment events go: the EventBridge bus on AWS, a JSON-lines file locally. Read by every function that
   * announces (the consumers, the registration), so they announce alike.
   */
  publisher(role: ClientRole): PaymentEventPublisher {
    let publisher = this.publishersByRole.get(role);
    if (!publisher) {
      const inner = this.publisherFromEnv(role);
      publisher = this.options.publisher?.(inner) ?? inner;
      this.publishersByRole.set(role, publisher);
    }
    return publisher;
  }

  /**
   * The payments table and its history retention, read by every function that writes payments (consumers,
   * registration) alike; the reconciler, which only reads them, gets the same options (and the default retention).
   */
  paymentsTable(): DynamoPaymentStoreOptions {
    return {
      tableName: requireEnv(this.env, PAYMENTS_TABLE_ENV.tableName),
      historyRetentionDays: positiveIntegerEnv(
        this.env,
        PAYMENTS_TABLE_ENV.historyRetentionDays,
        DEFAULT_HISTORY_RETENTION_DAYS,
      ),
    };
  }

  /** Closes every client built (the local stack, on stop). */
  destroy(): void {
    for (const clients of this.clientsByRole.values()) clients.destroy();
  }

  private secretStore(role: ClientRole): SecretStore {
    const secretIds = stringMapEnv(this.env, SECRETS_ENV.secretIds);
    if (secretIds) {
      for (const gateway of Object.keys(secretIds)) {
        if (!isGatewayName(gateway)) {
          throw new MissingConfigurationError(`${SECRETS_ENV.secretIds} names unknown gateway "${gateway}"`);
        }
      }
      return new SecretsManagerStore(secretIds, { client: this.clients(role).secretsManager() });
    }
    const file = optionalEnv(this.env, SECRETS_ENV.secretsFile);
    if (file) return new FileSecretStore(file);
    throw new MissingConfigurationError(
      `set ${SECRETS_ENV.secretIds} (AWS) or ${SECRETS_ENV.secretsFile} (local)`,
    );
  }

  private publisherFromEnv(role: ClientRole): PaymentEventPublisher {
    const bus = optionalEnv(this.env, EVENT_BUS_ENV.busName);
    if (bus) return new EventBridgePublisher(this.clients(role).eventBridge(), bus);
    const file = optionalEnv(this.env, EVENT_BUS_ENV.eventsFile);
    if (file) return new FilePaymentEventPublisher(file);
    throw new MissingConfigurationError(
      `set ${EVENT_BUS_ENV.busName} (AWS) or ${EVENT_BUS_ENV.eventsFile} (local)`,
    );
  }
}
