import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { ClientSet } from './client-set.js';

/** The role's DynamoDB client. The SDK reads `AWS_ENDPOINT_URL[_DYNAMODB]` itself: only the local stack's is set here. */
export function dynamoDbOf(clients: ClientSet): DynamoDBClient {
  return clients.once('dynamodb', () => {
    const endpoint = clients.options.endpoints?.dynamodb;
    return new DynamoDBClient({ ...clients.common(), ...(endpoint && { endpoint }) });
  });
}
