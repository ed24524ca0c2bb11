/**
 * Reconciler Lambda, on EventBridge Scheduler schedules: asks the gateways about payments still pending, so a lost
 * webhook never leaves a paid order unpaid, and about unverified claims, which count only once the gateway confirms. Its findings go through the queues and consumers like webhooks.
 */
import type { Context } from 'aws-lambda';
import { EmfMetrics } from './common/metrics.js';
import { createLogger } from './common/powertools.js';
import { ExecutionEnvironment } from './composition/execution-environment.js';
import { reconcileDependencies } from './composition/reconciliation.js';
import { CONFIRMATION_SCHEDULE } from './definitions.js';
import { type ReconcileScope, reconcile } from './reconciliation/reconcile.js';

const logger = createLogger('payhook-reconciler');
const deps = {
  ...reconcileDependencies(new ExecutionEnvironment(process.env), logger),
  metrics: new EmfMetrics('payhook-reconciler'),
};

/**
 * The stack has two schedules on this function: the full run, and a more frequent one whose input is
 * `{"scope":"confirmations"}` (claims awaiting confirmation only). Anything else is a full run.
 */
export const handler = async (event: unknown, context: Context) => {
  logger.addContext(context);
  return reconcile(deps, context.awsRequestId, scopeOf(event));
};

function scopeOf(event: unknown): ReconcileScope {
  const scope =
    typeof event === 'object' && event !== null ? (event as { scope?: unknown }).scope : undefined;
  return scope === CONFIRMATION_SCHEDULE.input.scope ? 'confirmations' : 'all';
}
