import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { type BreakerState, INITIAL_BREAKER_STATE, parseBreakerState } from '../domain/circuit-breaker.js';
import type { BreakerStates, VersionedBreakerState } from '../ports/deliveries.js';
import { DESTINATION_STATE_PREFIX } from './dynamodb-destination-states.js';

export type { VersionedBreakerState } from '../ports/deliveries.js';

const BREAKER_SORT_KEY = 'BREAKER';

/**
 * Circuit-breaker states as items of the payments table (`DESTINATION#<name>`, `BREAKER`), beside the stop state:
 * the delivery function's grant covers the `DESTINATION#` keys only, with GetItem and PutItem, so the state is
 * replaced whole rather than updated. Concurrent invocations delivering for one destination each read, decide and
 * write: a version attribute and a conditional put make the writes optimistic, and the one that lost the race re-reads
 * and applies its outcomes again to what the winner wrote, so no outcome and no probe is counted twice.
 */
export class DynamoBreakerStates implements BreakerStates {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  private key(destination: string) {
    return { pk: `${DESTINATION_STATE_PREFIX}${destination}`, sk: BREAKER_SORT_KEY };
  }

  /**
   * The stored state, strongly consistent (a state another invocation just wrote must be seen). An item that does not
   * hold a breaker state reads as closed at its own version, so the next write replaces it: a damaged item must not
   * hold a destination's deliveries, nor fail every batch.
   */
  async get(destination: string): Promise<VersionedBreakerState> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: this.key(destination), ConsistentRead: true }),
    );
    if (Item === undefined) return { state: INITIAL_BREAKER_STATE, version: 0 };
    const version = Number.isSafeInteger(Item.version) && Item.version > 0 ? (Item.version as number) : 0;
    return { state: parseBreakerState(Item.state) ?? INITIAL_BREAKER_STATE, version };
  }

  /**
   * Writes `state` as version `expectedVersion + 1` if the stored version is still `expectedVersion` (0: if nothing
   * is stored). Only a write that changes the state is worth its cost: `admit` and `record` return the state they
   * were given when nothing changed. `false` when another invocation wrote first: re-read with {@link get} and decide again.
   */
  async put(destination: string, state: BreakerState, expectedVersion: number): Promise<boolean> {
    const first = expectedVersion === 0;
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...this.key(destination), state, version: expectedVersion + 1 },
          // Version 0 also matches an item without one (written by hand, damaged), which `get` read at version 0.
          ConditionExpression: first ? 'attribute_not_exists(#version)' : '#version = :expected',
          ExpressionAttributeNames: { '#version': 'version' },
          ExpressionAttributeValues: first ? undefined : { ':expected': expectedVersion },
        }),
      );
      return true;
    } catch (error) {
      if ((error as Error).name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }
}
