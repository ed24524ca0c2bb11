import { makeIdempotent } from '@aws-lambda-powertools/idempotency';
import type { WebhookEvent } from '../../lambdas/domain/webhook-event.js';
import {
  type ApplyDependencies,
  type ApplyResult,
  applyEvent,
} from '../../lambdas/processing/apply-event.js';
import {
  type IdempotentInput,
  idempotencyConfig,
  idempotentInput,
} from '../../lambdas/processing/consumer.js';
import type { DynamoEventRecords } from '../../lambdas/store/dynamodb-event-records.js';
import { lambdaContext } from '../../local/lambda-context.js';

/**
 * `applyEvent` as the consumer runs it (its idempotency configuration and input), without the queue: made idempotent
 * by Powertools on the event records, so the event's history is written by the record's completion. `executed` says
 * whether the last call ran `applyEvent` (false: Powertools answered it from the record).
 */
export function idempotentApply(
  records: DynamoEventRecords,
  deps: ApplyDependencies,
  expiresAfterSeconds = 3600,
) {
  const config = idempotencyConfig(expiresAfterSeconds);
  config.registerLambdaContext(lambdaContext('payhook-test-consumer', 30, 'test-invocation'));
  const state = { executed: false };
  const run = makeIdempotent(
    async (input: IdempotentInput): Promise<ApplyResult> => {
      state.executed = true;
      return applyEvent(input.event, deps);
    },
    { persistenceStore: records, config },
  );
  const apply = async (event: WebhookEvent): Promise<ApplyResult> => {
    state.executed = false;
    return run(idempotentInput(event));
  };
  return Object.defineProperty(apply, 'executed', { get: () => state.executed }) as typeof apply & {
    readonly executed: boolean;
  };
}
