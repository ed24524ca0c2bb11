import { type DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { REJECTS_TABLE } from '../definitions.js';
import { GATEWAYS } from '../domain/webhook-event.js';
import type { RefusedRequest, RefusedRequestStore } from '../intake/refused-requests.js';

export interface RefusedRequestQuery {
  /** One gateway (or `unknown`); every partition when absent. */
  readonly gateway?: string;
  readonly since: Date;
  /** Most items read per gateway. @default 1000 */
  readonly limitPerGateway?: number;
}

/** The refused-requests table: one partition per gateway, sorted by time; items expire after the TTL. */
export class DynamoRefusedRequestStore implements RefusedRequestStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly options: { readonly tableName: string; readonly ttlDays?: number },
  ) {}

  async put(refused: RefusedRequest): Promise<void> {
    const ttlDays = this.options.ttlDays ?? REJECTS_TABLE.defaultTtlDays;
    await this.client.send(
      new PutCommand({
        TableName: this.options.tableName,
        Item: {
          ...refused,
          [REJECTS_TABLE.partitionKey]: refused.gateway,
          [REJECTS_TABLE.sortKey]: `${refused.at}#${refused.requestId}`,
          [REJECTS_TABLE.ttlAttribute]: Math.floor(Date.parse(refused.at) / 1000) + ttlDays * 86_400,
        },
      }),
    );
  }

  /** Refused requests since `since`, oldest first within each gateway. */
  async list(query: RefusedRequestQuery): Promise<RefusedRequest[]> {
    const partitions = query.gateway ? [query.gateway] : [...GATEWAYS, 'unknown'];
    const limit = query.limitPerGateway ?? 1000;
    const found: RefusedRequest[] = [];
    for (const gateway of partitions) {
      let startKey: Record<string, unknown> | undefined;
      let read = 0;
      do {
        const page = await this.client.send(
          new QueryCommand({
            TableName: this.options.tableName,
            KeyConditionExpression: '#gateway = :gateway AND #sk >= :since',
            ExpressionAttributeNames: {
              '#gateway': REJECTS_TABLE.partitionKey,
              '#sk': REJECTS_TABLE.sortKey,
            },
            ExpressionAttributeValues: { ':gateway': gateway, ':since': query.since.toISOString() },
            Limit: Math.min(limit - read, 500),
            ...(startKey && { ExclusiveStartKey: startKey }),
          }),
        );
        for (const item of page.Items ?? []) {
          const { [REJECTS_TABLE.sortKey]: _sk, [REJECTS_TABLE.ttlAttribute]: _ttl, ...refused } = item;
          found.push(refused as RefusedRequest);
        }
        read += page.Items?.length ?? 0;
        startKey = page.LastEvaluatedKey;
      } while (startKey && read < limit);
    }
    return found;
  }
}
