import { type DynamoDBDocumentClient, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';

/** What {@link newestFirstPerPartition} found: the raw items, and the partitions whose older items were left out. */
export interface NewestFirstPage<P extends string> {
  readonly items: Record<string, unknown>[];
  readonly truncated: P[];
}

/**
 * Reads each partition newest first, keeping at most `limitPerPartition` items of each: during a flood the newest are
 * the ones on-call needs, and `truncated` says where older ones were left out (or may have been). `query` builds one
 * page's request for a partition (its key condition, filters, projection and `ScanIndexForward: false`), given where
 * to start and how many items are still wanted.
 */
export async function newestFirstPerPartition<P extends string>(
  client: DynamoDBDocumentClient,
  partitions: readonly P[],
  limitPerPartition: number,
  query: (partition: P, stillWanted: number) => QueryCommandInput,
): Promise<NewestFirstPage<P>> {
  const items: Record<string, unknown>[] = [];
  const truncated: P[] = [];
  for (const partition of partitions) {
    let startKey: Record<string, unknown> | undefined;
    let kept = 0;
    do {
      const page = await client.send(
        new QueryCommand({
          ...query(partition, limitPerPartition - kept),
          ...(startKey && { ExclusiveStartKey: startKey }),
        }),
      );
      const pageItems = page.Items ?? [];
      const taken = pageItems.slice(0, limitPerPartition - kept);
      items.push(...taken);
      kept += taken.length;
      if (kept >= limitPerPartition) {
        // Items left on this page, or another page to read: older ones were left out (or may have been).
        if (taken.length < pageItems.length || page.LastEvaluatedKey) truncated.push(partition);
        break;
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }
  return { items, truncated };
}
