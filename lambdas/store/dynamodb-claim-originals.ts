import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { ClaimOriginals, KeptClaimOriginal } from '../ports/deliveries.js';

/** Items of the payments table whose partition key starts with this: an unverified claim's original webhook. */
export const CLAIM_ORIGINAL_PREFIX = 'CLAIM#';
const SORT_KEY = 'ORIGINAL';

/**
 * Kept for two weeks: the reconciler asks about a claim every minute until the gateway answers or the payment
 * expires (a day by default), so a claim still unanswered then will not be confirmed, and TTL removes it.
 */
export const CLAIM_ORIGINAL_TTL_SECONDS = 14 * 24 * 3600;

/**
 * The originals of unverified claims (Flutterwave `verif-hash` bodies) for the `original` destinations, as items of
 * the payments table (`CLAIM#<gateway>#<claim event id>`, `ORIGINAL`): the body as bytes (at most the largest body
 * ingest takes, inside DynamoDB's 400 KB item) and the signature headers, until the gateway's verified answer
 * confirms the claim. Rewriting one (a retried claim) is harmless: the same body has the same claim id.
 */
export class DynamoClaimOriginals implements ClaimOriginals {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  private key(gateway: string, eventId: string) {
    return { pk: `${CLAIM_ORIGINAL_PREFIX}${gateway}#${eventId}`, sk: SORT_KEY };
  }

  async keep(original: KeptClaimOriginal): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...this.key(original.gateway, original.eventId),
          gateway: original.gateway,
          eventId: original.eventId,
          receivedAt: original.receivedAt,
          ...(original.money && { money: original.money }),
          body: original.body,
          headers: original.headers,
          expiresAt: Math.floor(this.now().getTime() / 1000) + CLAIM_ORIGINAL_TTL_SECONDS,
        },
      }),
    );
  }

  async get(gateway: string, eventId: string): Promise<KeptClaimOriginal | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: this.key(gateway, eventId), ConsistentRead: true }),
    );
    if (Item === undefined || !(Item.body instanceof Uint8Array)) return undefined;
    const money = Item.money as KeptClaimOriginal['money'] | undefined;
    return {
      gateway: String(Item.gateway),
      eventId: String(Item.eventId),
      receivedAt: String(Item.receivedAt),
      ...(money && { money: { amountMinor: String(money.amountMinor), currency: String(money.currency) } }),
      body: Item.body,
      headers: (Item.headers ?? {}) as Record<string, string>,
    };
  }
}
