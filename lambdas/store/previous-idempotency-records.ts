/**
 * The idempotency records the previous release kept in a table of their own (Powertools' DynamoDB layer), read for
 * one purpose: to tell a duplicate of an event that release completed from a retry after a crash. Both find their
 * event already among the payment's recent events; only the retry has announcements still to publish.
 *
 * Read only on that rare path (never for a new event), so the upgrade costs nothing per webhook. Once the longest
 * dedupe window has passed since the upgrade, every record here has expired and the table can go.
 */
import { IdempotencyConfig, IdempotencyRecordStatus } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { moneyToJson } from '../domain/money.js';
import type { WebhookEvent } from '../domain/webhook-event.js';
import type { PreviousCompletions } from '../ports/previous-completions.js';

/**
 * Reads them with Powertools' own layer and the key the previous release's consumer used (`<gateway>#<event id>`,
 * hashed by Powertools under the function's name), so the key is computed exactly as it was written.
 */
export class DynamoPreviousCompletions implements PreviousCompletions {
  private readonly layer: DynamoDBPersistenceLayer;

  constructor(client: DynamoDBClient, tableName: string) {
    this.layer = new DynamoDBPersistenceLayer({ tableName, awsSdkV3Client: client });
    // The previous consumer's configuration: its key, and its money check (the same event id with other money is
    // refused, as the event records refuse it).
    this.layer.configure({
      config: new IdempotencyConfig({
        eventKeyJmesPath: 'idempotencyKey',
        payloadValidationJmesPath: 'money',
      }),
    });
  }

  async completed(event: Pick<WebhookEvent, 'gateway' | 'eventId' | 'money'>): Promise<boolean> {
    try {
      const record = await this.layer.getRecord({
        idempotencyKey: `${event.gateway}#${event.eventId}`,
        money: event.money ? { ...moneyToJson(event.money) } : null,
      });
      // An expired record reads as EXPIRED: past its window, the event counts as never completed.
      return record.getStatus() === IdempotencyRecordStatus.COMPLETED;
    } catch (error) {
      if (error instanceof Error && error.name === 'IdempotencyItemNotFoundError') return false;
      // The table deleted by hand while a consumer still names it: nothing there is completed.
      if (error instanceof Error && error.name === 'ResourceNotFoundException') return false;
      throw error;
    }
  }
}
