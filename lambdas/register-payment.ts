/**
 * Registration Lambda: `POST /payments` (IAM-authorised on AWS), where the merchant's checkout registers a payment it
 * expects, so the reconciler can ask the gateway about it if no webhook comes.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { createLogger } from './common/powertools.js';
import { ExecutionEnvironment } from './composition/execution-environment.js';
import { registrationDependencies } from './composition/registration.js';
import { handleRegistration } from './processing/registration-http.js';

// Built once per container: the store (with the consumers' history retention) and the publisher.
const logger = createLogger('payhook-register');
const { store, publisher } = registrationDependencies(new ExecutionEnvironment(process.env));

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
