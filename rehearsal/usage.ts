import type { Grant } from './iam.js';
import { eventSourceOf } from './scenarios/consumers.js';
import type { Stage, StagedFunction } from './stage.js';
import { referencedId } from './template.js';

/**
 * Who uses a grant the function's code never used, when it is not the code: the Lambda service writing its logs, the
 * SQS event source mapping polling its queue (with the function's role), or Powertools idempotency deleting a record
 * when processing fails (a path no scenario takes). `undefined`: nobody the rehearsal knows of; a removal candidate.
 */

const EVENT_SOURCE_ACTIONS = new Set(['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes']);

export function whoElseUses(stage: Stage, fn: StagedFunction, grant: Grant): string | undefined {
  if (grant.action.startsWith('logs:') && fn.logGroupLogicalId !== undefined) {
    if (grant.resource === stage.ref(fn.logGroupLogicalId, 'Arn')) return 'Lambda writes the logs';
  }
  if (/-consumer$/.test(fn.name)) {
    const queueArn = stage.ref(eventSourceOf(stage, fn).queueLogicalId, 'Arn');
    if (grant.resource === queueArn && EVENT_SOURCE_ACTIONS.has(grant.action)) return 'event source mapping';
    // Every consumer announces what it applies; no sample's default priority puts a money event on the low queue,
    // but a gateway's `priorityOverrides` can.
    if (grant.action === 'events:PutEvents') return 'announcing events priorityOverrides route here';
  }
  const idempotency = referencedId(fn.environment.PAYHOOK_IDEMPOTENCY_TABLE);
  if (idempotency !== undefined && grant.resource === stage.ref(idempotency, 'Arn')) {
    if (grant.action === 'dynamodb:DeleteItem') return 'Powertools idempotency, when processing fails';
  }
  return undefined;
}
