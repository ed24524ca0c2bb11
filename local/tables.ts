import {
  CreateTableCommand,
  type CreateTableCommandInput,
  type DynamoDBClient,
  ResourceInUseException,
} from '@aws-sdk/client-dynamodb';
import { IDEMPOTENCY_TABLE, PAYMENTS_TABLE, REJECTS_TABLE, tableName } from '../lambdas/definitions.js';

export interface TableNames {
  readonly payments: string;
  readonly idempotency: string;
  readonly rejects: string;
}

export function tableNames(prefix?: string): TableNames {
  return {
    payments: tableName(PAYMENTS_TABLE.baseName, prefix),
    idempotency: tableName(IDEMPOTENCY_TABLE.baseName, prefix),
    rejects: tableName(REJECTS_TABLE.baseName, prefix),
  };
}

const string = (name: string) => ({ AttributeName: name, AttributeType: 'S' as const });
const allAttributes = { ProjectionType: 'ALL' as const };
const keysOnly = { ProjectionType: 'KEYS_ONLY' as const };

/** The payments table as `lambdas/definitions.ts` describes it: the same keys and indexes the CDK stack creates. */
export function paymentsTableInput(name: string): CreateTableCommandInput {
  const { partitionKey, sortKey, pendingIndex, referenceIndex, gatewayPaymentIdIndex } = PAYMENTS_TABLE;
  return {
    TableName: name,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      string(partitionKey),
      string(sortKey),
      string(pendingIndex.partitionKey),
      string(pendingIndex.sortKey),
      string(referenceIndex.partitionKey),
      string(gatewayPaymentIdIndex.partitionKey),
    ],
    KeySchema: [
      { AttributeName: partitionKey, KeyType: 'HASH' },
      { AttributeName: sortKey, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: pendingIndex.name,
        KeySchema: [
          { AttributeName: pendingIndex.partitionKey, KeyType: 'HASH' },
          { AttributeName: pendingIndex.sortKey, KeyType: 'RANGE' },
        ],
        Projection: allAttributes,
      },
      {
        IndexName: referenceIndex.name,
        KeySchema: [{ AttributeName: referenceIndex.partitionKey, KeyType: 'HASH' }],
        Projection: keysOnly,
      },
      {
        IndexName: gatewayPaymentIdIndex.name,
        KeySchema: [{ AttributeName: gatewayPaymentIdIndex.partitionKey, KeyType: 'HASH' }],
        Projection: keysOnly,
      },
    ],
  };
}

export function idempotencyTableInput(name: string): CreateTableCommandInput {
  return {
    TableName: name,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [string(IDEMPOTENCY_TABLE.partitionKey)],
    KeySchema: [{ AttributeName: IDEMPOTENCY_TABLE.partitionKey, KeyType: 'HASH' }],
  };
}

/** The refused-requests table, as the CDK stack creates it. */
export function rejectsTableInput(name: string): CreateTableCommandInput {
  return {
    TableName: name,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [string(REJECTS_TABLE.partitionKey), string(REJECTS_TABLE.sortKey)],
    KeySchema: [
      { AttributeName: REJECTS_TABLE.partitionKey, KeyType: 'HASH' },
      { AttributeName: REJECTS_TABLE.sortKey, KeyType: 'RANGE' },
    ],
  };
}

/**
 * Creates the tables if they do not exist yet (an existing table, e.g. from an earlier run on persistent data, is
 * kept). TTL is not switched on: the emulators lack UpdateTimeToLive, and items only carry the attribute.
 */
export async function createTables(client: DynamoDBClient, names: TableNames): Promise<void> {
  for (const input of [
    paymentsTableInput(names.payments),
    idempotencyTableInput(names.idempotency),
    rejectsTableInput(names.rejects),
  ]) {
    try {
      await client.send(new CreateTableCommand(input));
    } catch (error) {
      if (!(error instanceof ResourceInUseException)) throw error;
    }
  }
}
