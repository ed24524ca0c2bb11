import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Environment } from '../common/config.js';
import { ClientSet } from './client-set.js';
import type { ClientRole } from './client-settings.js';
import { documentsOf } from './documents.js';
import { dynamoDbOf } from './dynamodb.js';
import { eventBridgeOf } from './eventbridge.js';
import { secretsManagerOf } from './secrets-manager.js';
import { sqsOf } from './sqs.js';

export type { AwsClient, AwsClientOptions } from './client-set.js';

/**
 * A {@link ClientSet} with every service's accessor as a method, for what uses them all: the local stack, tests and
 * tools. A Lambda function's composition calls the accessor functions instead (`sqsOf(clients)`), so that its bundle
 * holds only the client packages it uses; both reach the same client, built once.
 */
export class AwsClients extends ClientSet {
  sqs(): SQSClient {
    return sqsOf(this);
  }

  dynamoDb(): DynamoDBClient {
    return dynamoDbOf(this);
  }

  documents(): DynamoDBDocumentClient {
    return documentsOf(this);
  }

  secretsManager(): SecretsManagerClient {
    return secretsManagerOf(this);
  }

  eventBridge(): EventBridgeClient {
    return eventBridgeOf(this);
  }
}

/** An SQS client with the role's settings for the environment (tests and tools that need just that one). */
export function createSqsClient(role: ClientRole, env: Environment = process.env): SQSClient {
  return sqsOf(new ClientSet(role, env));
}
