import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { REJECTS_TABLE } from '../definitions.js';
import { GATEWAYS } from '../domain/webhook-event.js';
import type { RefusedRequest, RefusedRequestStore } from '../ports/refused-requests.js';
import { refusedRequestItem } from './dynamodb-refused-request-writer.js';
import { newestFirstPerPartition } from './newest-first.js';

export interface RefusedRequestQuery {
  /** One gateway (or `unknown`); every partition when absent. */
  readonly gateway?: string;
  /** One refusal reason; filtered in DynamoDB, before the limit. */
  readonly reason?: string;
  readonly since: Date;
  /** Most items returned per gateway, newest first. @default 1000 */
  readonly limitPerGateway?: number;
}

export interface RefusedRequestPage {
  /** Newest first within each gateway. */
  readonly items: RefusedRequest[];
  /** Gateways with more matching items than the limit (their oldest were left out). */
  readonly truncated: string[];
}

/** The refused-requests table: one partition per gateway, sorted by time; items expire after the TTL. */
export class DynamoRefusedRequestStore implements RefusedRequestStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly options: { readonly tableName: string; readonly ttlDays?: number },
  ) {}

  /** As ingest writes it (`DynamoRefusedRequestWriter`): the same item, through the document client. */
  async put(refused: RefusedRequest): Promise<void> {
    await this.client.send(
      new PutItemCommand({
        TableName: this.options.tableName,
        Item: refusedRequestItem(refused, this.options),
      }),
    );
  }

  /**
   * Refused requests since `since`, newest first within each gateway, at most `limitPerGateway` each: during a flood
   * the newest are the ones on-call needs, and `truncated` says where older ones were left out.
   */
  async list(query: RefusedRequestQuery): Promise<RefusedRequestPage> {
    const partitions = query.gateway ? [query.gateway] : [...GATEWAYS, 'unknown'];
    const page = await newestFirstPerPartition(
      this.client,
      partitions,
      query.limitPerGateway ?? 1000,
      (gateway) => ({
        TableName: this.options.tableName,
        KeyConditionExpression: '#gateway = :gateway AND #sk >= :since',
        ...(query.reason !== undefined && { FilterExpression: '#reason = :reason' }),
        ExpressionAttributeNames: {
          '#gateway': REJECTS_TABLE.partitionKey,
          '#sk': REJECTS_TABLE.sortKey,
          ...(query.reason !== undefined && { '#reason': 'reason' }),
        },
        ExpressionAttributeValues: {
          ':gateway': gateway,
          ':since': query.since.toISOString(),
          ...(query.reason !== undefined && { ':reason': query.reason }),
        },
        ScanIndexForward: false,
      }),
    );
    const items = page.items.map((item) => {
      const { [REJECTS_TABLE.sortKey]: _sk, [REJECTS_TABLE.ttlAttribute]: _ttl, ...refused } = item;
      return refused as unknown as RefusedRequest;
    });
    return { items, truncated: page.truncated };
  }
}
