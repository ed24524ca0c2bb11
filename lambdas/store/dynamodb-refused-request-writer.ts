import { type AttributeValue, type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { REJECTS_TABLE } from '../definitions.js';
import type { RefusedRequest, RefusedRequestStore } from '../ports/refused-requests.js';

export interface RefusedRequestTable {
  readonly tableName: string;
  /** @default REJECTS_TABLE.defaultTtlDays */
  readonly ttlDays?: number;
}

/**
 * Ingest's one write to the refused-requests table, with the plain DynamoDB client: the item is a handful of strings,
 * numbers and one list of header names, so it is written as attribute values directly rather than through the
 * document client, which would bring its marshalling (about 10 KB) into the ingest bundle for this single call
 * (issue #20: ingest's bundle and cold start). The item is the one `DynamoRefusedRequestStore` reads back.
 */
export class DynamoRefusedRequestWriter implements RefusedRequestStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: RefusedRequestTable,
  ) {}

  async put(refused: RefusedRequest): Promise<void> {
    await this.client.send(
      new PutItemCommand({ TableName: this.table.tableName, Item: refusedRequestItem(refused, this.table) }),
    );
  }
}

/** The table item of a refused request: its fields, the table's keys and the expiry (TTL, epoch seconds). */
export function refusedRequestItem(
  refused: RefusedRequest,
  table: Pick<RefusedRequestTable, 'ttlDays'>,
): Record<string, AttributeValue> {
  const ttlDays = table.ttlDays ?? REJECTS_TABLE.defaultTtlDays;
  const fields: Record<string, string | number | readonly string[] | undefined> = {
    ...refused,
    [REJECTS_TABLE.partitionKey]: refused.gateway,
    [REJECTS_TABLE.sortKey]: `${refused.at}#${refused.requestId}`,
    [REJECTS_TABLE.ttlAttribute]: Math.floor(Date.parse(refused.at) / 1000) + ttlDays * 86_400,
  };
  const item: Record<string, AttributeValue> = {};
  for (const [name, value] of Object.entries(fields)) {
    // Absent optional fields are left out, as the document client's `removeUndefinedValues` does.
    if (value === undefined) continue;
    item[name] = attributeValue(value);
  }
  return item;
}

function attributeValue(value: string | number | readonly string[]): AttributeValue {
  if (typeof value === 'number') return { N: String(value) };
  if (typeof value === 'string') return { S: value };
  return { L: value.map((entry) => ({ S: entry })) };
}
