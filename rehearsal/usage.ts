import type { Grant } from './iam.js';
import type { Stage, StagedFunction } from './stage.js';
import { referencedId } from './template.js';

/**
 * Who uses a grant the function's code never used in any scenario, when it is not a removal candidate: the Lambda
 * service writing its logs, Powertools idempotency deleting a record when processing fails, the previous
 * release's idempotency records read on a rare path, or a path the scenarios
 * cannot take from the template as it is. `undefined`: nobody the rehearsal knows of, and the run fails on it.
 */
export function whoElseUses(stage: Stage, fn: StagedFunction, grant: Grant): string | undefined {
  if (grant.action.startsWith('logs:') && fn.logGroupLogicalId !== undefined) {
    if (grant.resource === stage.ref(fn.logGroupLogicalId, 'Arn')) return 'Lambda writes the logs';
  }
  // The consumers' idempotency records are on the payments table; the previous release's table is only read.
  const payments = referencedId(fn.environment.PAYHOOK_PAYMENTS_TABLE);
  if (/-consumer$/.test(fn.name) && payments !== undefined && grant.resource === stage.ref(payments, 'Arn')) {
    if (grant.action === 'dynamodb:DeleteItem') return 'Powertools idempotency, when processing fails';
  }
  const previous = referencedId(fn.environment.PAYHOOK_IDEMPOTENCY_TABLE);
  if (previous !== undefined && grant.resource === stage.ref(previous, 'Arn')) {
    if (grant.action === 'dynamodb:GetItem') {
      return "a duplicate of an event applied before the upgrade: the previous release's idempotency record";
    }
  }
  // No sample's default priority puts an event that announces anything on the low queue, but a gateway's
  // `priorityOverrides` can route any event type there, and then the low consumer announces it.
  const bus = referencedId(fn.environment.PAYHOOK_EVENT_BUS_NAME);
  if (/low-consumer$/.test(fn.name) && grant.action === 'events:PutEvents' && bus !== undefined) {
    if (grant.resource === stage.ref(bus, 'Arn')) return 'announcing events priorityOverrides route here';
  }
  // One destination's queue calls are every destination's (the same code, the queue named by the record): an action
  // the scenarios used on one destination's queue stands for the others'.
  if (fn.environment.PAYHOOK_DELIVERY_TARGETS !== undefined && /:sqs:.*-deliveries-/.test(grant.resource)) {
    const usedElsewhere = stage
      .callsOf(fn.name)
      .some((call) =>
        call.permissions.some(
          (permission) =>
            permission.decision.kind === 'allowed' &&
            permission.action === grant.action &&
            /-deliveries-/.test(permission.resource) &&
            permission.resource.endsWith('-dlq') === grant.resource.endsWith('-dlq'),
        ),
      );
    if (usedElsewhere) return "the same call, rehearsed on another destination's queue";
  }
  return undefined;
}
