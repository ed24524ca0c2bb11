import { type Environment, positiveIntegerEnv, requireEnv } from '../common/config.js';
import { DEFAULT_HISTORY_RETENTION_DAYS, PAYMENTS_TABLE_ENV } from '../definitions.js';
import type { PaymentEventPublisher } from '../ports/payment-event-publisher.js';
import type { DynamoPaymentStoreOptions } from '../store/dynamodb-payment-store.js';
import { type AwsClientOptions, ClientSet } from './client-set.js';
import type { ClientRole } from './client-settings.js';

export interface ContainerOptions extends AwsClientOptions {
  /** Wraps the payment-event publisher once built (the local stack's hook: fault injection, counting). */
  readonly publisher?: (inner: PaymentEventPublisher) => PaymentEventPublisher;
}

/**
 * One execution environment's shared parts: its environment, and the clients, secret stores and publishers built from
 * it, each once, on first use. A Lambda handler module makes one at load; the local stack makes one for all the
 * functions it hosts (a {@link Container}), pointed at the emulators. The `*Dependencies` functions beside this file
 * read what each function needs from it.
 *
 * It knows no AWS service nor adapter: those are built by functions in their own modules (`sqsOf`, `gatewaySecretsOf`,
 * `publisherOf`, ...) and kept here by key, so importing it pulls no client package into a function's bundle.
 */
export class ExecutionEnvironment {
  private readonly clientsByRole = new Map<ClientRole, ClientSet>();
  private readonly parts = new Map<string, unknown>();

  constructor(
    readonly env: Environment = process.env,
    readonly options: ContainerOptions = {},
  ) {}

  /** The role's AWS clients, one set per container. */
  clients(role: ClientRole): ClientSet {
    let clients = this.clientsByRole.get(role);
    if (!clients) {
      clients = this.newClientSet(role);
      this.clientsByRole.set(role, clients);
    }
    return clients;
  }

  /** The part under `key` (a role's secret store, its publisher), built by `build` the first time it is asked for. */
  part<T>(key: string, build: () => T): T {
    if (!this.parts.has(key)) this.parts.set(key, build());
    return this.parts.get(key) as T;
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

  protected newClientSet(role: ClientRole): ClientSet {
    return new ClientSet(role, this.env, this.options);
  }
}
