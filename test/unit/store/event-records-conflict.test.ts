import { IdempotencyConfig, IdempotencyItemAlreadyExistsError } from '@aws-lambda-powertools/idempotency';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import {
  DynamoEventRecords,
  EVENT_RECORD_ATTRIBUTES,
} from '../../../lambdas/store/dynamodb-event-records.js';
import { domainEvent, usd } from '../../support/payment-fold.js';

const A = EVENT_RECORD_ATTRIBUTES;

/**
 * DynamoDB refusing the in-progress write as real DynamoDB does: with the item it met (the emulator sends none, so the
 * integration tests reach the record through a read instead). The point is that error path: a client stub.
 */
function refusingWith(item: Record<string, unknown>): DynamoDBDocumentClient {
  return {
    send: async () => {
      throw new ConditionalCheckFailedException({
        message: 'The conditional request failed',
        $metadata: {},
        Item: marshall(item),
      });
    },
  } as unknown as DynamoDBDocumentClient;
}

describe('DynamoEventRecords, an in-progress write refused with the item it met', () => {
  it('answers with the record DynamoDB returned: its status, result and money hash, read from attribute values', async () => {
    const event = domainEvent('payment.succeeded', 'evt_conflict', { money: usd(10_000) });
    const stored = {
      pk: 'PAYMENT#stripe#pi_1',
      sk: 'EVENT#evt_conflict',
      [A.status]: 'COMPLETED',
      [A.dedupeUntil]: Math.floor(Date.now() / 1000) + 3600,
      [A.result]: { outcome: 'applied', paymentKey: 'pi_1' },
      [A.moneyHash]: 'hash',
      eventType: 'payment.succeeded',
    };
    const records = new DynamoEventRecords(refusingWith(stored), {
      tableName: 'payments',
      historyRetentionDays: 30,
    });
    records.configure({ config: new IdempotencyConfig({ eventKeyJmesPath: 'idempotencyKey' }) });
    const error = await records
      .saveInProgress({ idempotencyKey: 'stripe#evt_conflict', event } as never, 30_000)
      .then(
        () => undefined,
        (thrown: unknown) => thrown,
      );
    expect(error).toBeInstanceOf(IdempotencyItemAlreadyExistsError);
    const existing = (error as IdempotencyItemAlreadyExistsError).existingRecord;
    expect(existing?.getStatus()).toBe('COMPLETED');
    expect(existing?.getResponse()).toEqual({ outcome: 'applied', paymentKey: 'pi_1' });
    expect(existing?.payloadHash).toBe('hash');
    expect(existing?.expiryTimestamp).toBe(stored[A.dedupeUntil]);
  });
});
