import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { INGEST_TIMEOUT_SECONDS } from '../definitions.js';
import type { Environment } from './config.js';

/**
 * Ingest must answer inside the gateway's deadline (Razorpay: 5 s; the function's timeout is
 * INGEST_TIMEOUT_SECONDS). Two attempts at most 1.2 s each, plus the SDK's backoff between them, stay inside it, so a
 * slow dependency becomes a clean 503 that the gateway retries rather than a timeout.
 */
export const INGEST_CLIENT_SETTINGS = {
  maxAttempts: 2,
  // Without throwOnRequestTimeout the current SDK only logs a warning when requestTimeout passes.
  requestHandler: { connectionTimeout: 400, requestTimeout: 1200, throwOnRequestTimeout: true },
} as const;

if (
  (INGEST_CLIENT_SETTINGS.requestHandler.requestTimeout * INGEST_CLIENT_SETTINGS.maxAttempts) / 1000 >=
  INGEST_TIMEOUT_SECONDS
) {
  throw new Error('ingest client timeouts must fit inside the ingest function timeout');
}

/**
 * An SQS client for the environment. Against an emulator (`AWS_ENDPOINT_URL[_SQS]` set) requests go to the
 * configured endpoint rather than to the host inside each queue URL, which emulators fill with names that do not
 * resolve (fauxqs: `sqs.us-east-1.localhost`). On AWS nothing is set and the SDK's defaults apply.
 */
export function createSqsClient(env: Environment = process.env): SQSClient {
  const endpoint = env.AWS_ENDPOINT_URL_SQS ?? env.AWS_ENDPOINT_URL;
  return new SQSClient({
    ...INGEST_CLIENT_SETTINGS,
    ...(endpoint && { endpoint, useQueueUrlAsEndpoint: false }),
  });
}

export function createSecretsManagerClient(): SecretsManagerClient {
  return new SecretsManagerClient({ ...INGEST_CLIENT_SETTINGS });
}

/**
 * DynamoDB for ingest's record of refused requests: best effort, so one short attempt; a slow table delays the
 * gateway's answer by at most the connection and request timeouts (0.8 s).
 */
export function createRefusalsDynamoDbClient(): DynamoDBClient {
  return new DynamoDBClient({
    maxAttempts: 1,
    requestHandler: { connectionTimeout: 300, requestTimeout: 500, throwOnRequestTimeout: true },
  });
}

/** DynamoDB for the consumers: the SDK reads `AWS_ENDPOINT_URL[_DYNAMODB]` itself, so emulators need no branch. */
export function createDynamoDbClient(): DynamoDBClient {
  return new DynamoDBClient({ maxAttempts: 4 });
}

/** The document client over it: plain JS values in and out, undefined fields left out of items. */
export function createDocumentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}
