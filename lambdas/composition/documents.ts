import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../common/aws-clients.js';
import type { ClientSet } from './client-set.js';
import { dynamoDbOf } from './dynamodb.js';

// A module of its own: a function that only needs the plain client (ingest's one refused-request write) does not
// bundle the document client's marshalling (issue #20, ingest's bundle).
/** The document client over {@link dynamoDbOf}: plain JS values in and out, undefined fields left out of items. */
export function documentsOf(clients: ClientSet): DynamoDBDocumentClient {
  return clients.wrapper('documents', () => createDocumentClient(dynamoDbOf(clients)));
}
