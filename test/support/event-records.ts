import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { type MoneyJson, moneyToJson } from '../../lambdas/domain/money.js';
import type { WebhookEvent } from '../../lambdas/domain/webhook-event.js';
import {
  type ApplyDependencies,
  type ApplyResult,
  applyEvent,
} from '../../lambdas/processing/apply-event.js';
import type { DynamoEventRecords } from '../../lambdas/store/dynamodb-event-records.js';
import { lambdaContext } from '../../local/lambda-context.js';

interface Input {
  readonly idempotencyKey: string;
  readonly money: MoneyJson | null;
  readonly event: WebhookEvent;
}

/**
 * `applyEvent` as the consumer runs it, without the queue: made idempotent by Powertools on the event records, so
 * the event's history is written by the record's completion. `executed` says whether the last call ran `applyEvent`
 * (false: Powertools answered it from the record).
 */
export function idempotentApply(
  records: DynamoEventRecords,
  deps: ApplyDependencies,
  expiresAfterSeconds = 3600,
) {
  const config = new IdempotencyConfig({
    eventKeyJmesPath: 'idempotencyKey',
    payloadValidationJmesPath: 'money',
    expiresAfterSeconds,
    throwOnNoIdempotencyKey: true,
  });
  config.registerLambdaContext(lambdaContext('payhook-test-consumer', 30, 'test-invocation'));
  const state = { executed: false };
  const run = makeIdempotent(
    async (input: Input): Promise<ApplyResult> => {
      state.executed = true;
      return applyEvent(input.event, deps);
    },
    { persistenceStore: records, config },
  );
  const apply = async (event: WebhookEvent): Promise<ApplyResult> => {
    state.executed = false;
    return run({
      idempotencyKey: `${event.gateway}#${event.eventId}`,
      money: event.money ? moneyToJson(event.money) : null,
      event,
    });
  };
  return Object.defineProperty(apply, 'executed', { get: () => state.executed }) as typeof apply & {
    readonly executed: boolean;
  };
}
