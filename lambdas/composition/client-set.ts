import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Environment } from '../common/config.js';
import { type ClientRole, sdkClientConfig } from './client-settings.js';

export type AwsClient = SQSClient | DynamoDBClient | SecretsManagerClient | EventBridgeClient;

/** Where clients send their calls and as whom, when not the SDK's defaults: the local stack's emulators. */
export interface AwsClientOptions {
  readonly endpoints?: { readonly sqs: string; readonly dynamodb: string };
  readonly region?: string;
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** Called once with each client as it is built, before its first call (the local stack's hooks add middleware). */
  readonly onClient?: (client: AwsClient, role: ClientRole) => void;
}

/** Anything a client set holds: an SDK client, or a wrapper over one (the document client) that is not announced. */
type Held = { destroy(): void };

/**
 * The AWS clients of one role in one container, each built once, on first use, with the role's settings
 * (`client-settings.ts`), and shared by every store and adapter of the role.
 *
 * Which clients there are is not this class's business: each service's accessor is a function in its own module
 * (`sqs.ts`, `dynamodb.ts`, ...), so a function's bundle holds the SDK clients its composition asks for and no other
 * (an accessor method here would import every client package into every function).
 */
export class ClientSet {
  private readonly built = new Map<string, Held>();
  /** Keys of what shares another client's handler (the document client): not destroyed on its own. */
  private readonly wrappers = new Set<string>();

  constructor(
    readonly role: ClientRole,
    readonly env: Environment = process.env,
    readonly options: AwsClientOptions = {},
  ) {}

  /** The client under `key`, built by `build` the first time; an SDK client is announced to `onClient`. */
  once<T extends AwsClient>(key: string, build: () => T): T {
    const existing = this.built.get(key);
    if (existing) return existing as T;
    const client = build();
    this.built.set(key, client);
    this.options.onClient?.(client, this.role);
    return client;
  }

  /** A wrapper over one of this set's clients (the document client), built once and never announced. */
  wrapper<T extends Held>(key: string, build: () => T): T {
    const existing = this.built.get(key);
    if (existing) return existing as T;
    const wrapper = build();
    this.built.set(key, wrapper);
    this.wrappers.add(key);
    return wrapper;
  }

  /** The configuration every client of the role starts from: its retries and timeouts, and the local overrides. */
  common() {
    return {
      ...sdkClientConfig(this.role),
      ...(this.options.region && { region: this.options.region }),
      ...(this.options.credentials && { credentials: this.options.credentials }),
    };
  }

  /** Closes every client built (the local stack, on stop; Lambda simply freezes the container). */
  destroy(): void {
    // A wrapper shares its client's handler: destroying the client is enough.
    for (const [key, client] of this.built) if (!this.wrappers.has(key)) client.destroy();
    this.built.clear();
    this.wrappers.clear();
  }
}
