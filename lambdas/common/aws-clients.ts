import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Environment } from './config.js';

/**
 * An SQS client for the environment. Against an emulator (`AWS_ENDPOINT_URL[_SQS]` set) requests go to the
 * configured endpoint rather than to the host inside each queue URL, which emulators fill with names that do not
 * resolve (fauxqs: `sqs.us-east-1.localhost`). On AWS nothing is set and the SDK's defaults apply.
 */
export function createSqsClient(env: Environment = process.env): SQSClient {
  const endpoint = env.AWS_ENDPOINT_URL_SQS ?? env.AWS_ENDPOINT_URL;
  return new SQSClient(endpoint ? { endpoint, useQueueUrlAsEndpoint: false } : {});
}

export function createSecretsManagerClient(): SecretsManagerClient {
  return new SecretsManagerClient({});
}
