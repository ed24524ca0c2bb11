import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../common/aws-clients.js';
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

/**
 * The AWS clients of one role in one container, each built once, on first use, with the role's settings
 * (`client-settings.ts`), and shared by every store and adapter of the role.
 */
export class AwsClients {
  private readonly built = new Map<string, AwsClient | DynamoDBDocumentClient>();

  constructor(
    readonly role: ClientRole,
    private readonly env: Environment = process.env,
    private readonly options: AwsClientOptions = {},
  ) {}

  /**
   * Against an emulator (`AWS_ENDPOINT_URL[_SQS]` set, or the local stack's endpoint) requests go to that endpoint
   * rather than to the host inside each queue URL, which emulators fill with names that do not resolve (fauxqs:
   * `sqs.us-east-1.localhost`). On AWS nothing is set and the SDK's defaults apply.
   */
  sqs(): SQSClient {
    return this.once('sqs', () => {
      const endpoint =
        this.options.endpoints?.sqs ?? this.env.AWS_ENDPOINT_URL_SQS ?? this.env.AWS_ENDPOINT_URL;
      return new SQSClient({
        ...this.common(),
        ...(endpoint && { endpoint, useQueueUrlAsEndpoint: false }),
      });
    });
  }

  /** The SDK reads `AWS_ENDPOINT_URL[_DYNAMODB]` itself, so emulators need no branch but the local stack's. */
  dynamoDb(): DynamoDBClient {
    return this.once('dynamodb', () => {
      const endpoint = this.options.endpoints?.dynamodb;
      return new DynamoDBClient({ ...this.common(), ...(endpoint && { endpoint }) });
    });
  }

  /** The document client over {@link dynamoDb}: plain JS values in and out, undefined fields left out of items. */
  documents(): DynamoDBDocumentClient {
    return this.once('documents', () => createDocumentClient(this.dynamoDb()), false);
  }

  secretsManager(): SecretsManagerClient {
    return this.once('secretsmanager', () => new SecretsManagerClient(this.common()));
  }

  /** The SDK honours `AWS_ENDPOINT_URL[_EVENTBRIDGE]` from the process environment, which is how emulators get it. */
  eventBridge(): EventBridgeClient {
    return this.once('eventbridge', () => new EventBridgeClient(this.common()));
  }

  /** Closes every client built (the local stack, on stop; Lambda simply freezes the container). */
  destroy(): void {
    // The document client shares the DynamoDB client's handler: destroying that one is enough.
    for (const [key, client] of this.built) if (key !== 'documents') client.destroy();
    this.built.clear();
  }

  private common() {
    return {
      ...sdkClientConfig(this.role),
      ...(this.options.region && { region: this.options.region }),
      ...(this.options.credentials && { credentials: this.options.credentials }),
    };
  }

  private once<T extends AwsClient | DynamoDBDocumentClient>(
    key: string,
    build: () => T,
    announce = true,
  ): T {
    const existing = this.built.get(key);
    if (existing) return existing as T;
    const client = build();
    this.built.set(key, client);
    if (announce) this.options.onClient?.(client as AwsClient, this.role);
    return client;
  }
}

/** An SQS client with the role's settings for the environment (tests and tools that need just that one). */
export function createSqsClient(role: ClientRole, env: Environment = process.env): SQSClient {
  return new AwsClients(role, env).sqs();
}
