import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { DestinationState, DestinationStates } from '../ports/deliveries.js';

/** Items of the payments table whose partition key starts with this: a destination's delivery state. */
export const DESTINATION_STATE_PREFIX = 'DESTINATION#';
const STATE_SORT_KEY = 'STATE';

/**
 * Destination states as items of the payments table (`DESTINATION#<name>`, `STATE`): one small item per stopped
 * destination, read once per delivery batch. The delivery function may touch these keys only (its grant is
 * conditioned on the prefix), never a payment.
 */
export class DynamoDestinationStates implements DestinationStates {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  private key(destination: string) {
    return { pk: `${DESTINATION_STATE_PREFIX}${destination}`, sk: STATE_SORT_KEY };
  }

  async get(destination: string): Promise<DestinationState> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: this.key(destination), ConsistentRead: true }),
    );
    if (Item?.stopped !== true) return { stopped: false };
    return { stopped: true, stoppedAt: String(Item.stoppedAt ?? ''), reason: String(Item.reason ?? '') };
  }

  async stop(destination: string, reason: string, at: Date): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...this.key(destination),
            stopped: true,
            stoppedAt: at.toISOString(),
            reason: reason.slice(0, 500),
          },
          // The first stop's time and reason stay: concurrent deliveries meeting the same 410 all try to stop it.
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
    }
  }

  async resume(destination: string): Promise<void> {
    await this.client.send(new DeleteCommand({ TableName: this.tableName, Key: this.key(destination) }));
  }
}
