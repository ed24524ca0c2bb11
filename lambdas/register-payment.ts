/**
 * Registration Lambda: `POST /payments` (IAM-authorised on AWS), where the merchant's checkout registers a payment it
 * expects, so the reconciler can ask the gateway about it if no webhook comes.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { createDocumentClient, createDynamoDbClient } from './common/aws-clients.js';
import { requireEnv } from './common/config.js';
import { createLogger } from './common/powertools.js';
import { DEFAULT_HISTORY_RETENTION_DAYS, PAYMENTS_TABLE_ENV } from './definitions.js';
import { handleRegistration } from './processing/registration-http.js';
import { publisherFromEnv } from './publishing/from-env.js';
import { DynamoPaymentStore } from './store/dynamodb-payment-store.js';

const logger = createLogger('payhook-register');
const store = new DynamoPaymentStore(createDocumentClient(createDynamoDbClient()), {
  tableName: requireEnv(process.env, PAYMENTS_TABLE_ENV.tableName),
  historyRetentionDays: DEFAULT_HISTORY_RETENTION_DAYS,
});
// A registration that meets money which differs from it announces the mismatch, as the consumers would.
const publisher = publisherFromEnv(process.env);

export const handler = async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
  const body = event.isBase64Encoded
    ? Buffer.from(event.body ?? '', 'base64').toString('utf8')
    : (event.body ?? '');
  const answer = await handleRegistration(body, store, publisher, new Date());
  logger.info('payment registration', { status: answer.status, requestId: event.requestContext?.requestId });
  return {
    statusCode: answer.status,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(answer.body),
  };
};
