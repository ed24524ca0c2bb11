/**
 * Reconciler Lambda, on an EventBridge Scheduler schedule: asks the gateways about payments still pending, so a lost
 * webhook never leaves a paid order unpaid. Its findings go through the queues and consumers like webhooks.
 */
import type { Context } from 'aws-lambda';
import { EmfMetrics } from './common/metrics.js';
import { createLogger } from './common/powertools.js';
import { reconcileDependenciesFromEnv } from './reconciliation/dependencies.js';
import { reconcile } from './reconciliation/reconcile.js';

const logger = createLogger('payhook-reconciler');
const deps = {
  ...reconcileDependenciesFromEnv(process.env, logger),
  metrics: new EmfMetrics('payhook-reconciler'),
};

export const handler = async (_event: unknown, context: Context) => {
  logger.addContext(context);
  return reconcile(deps, context.awsRequestId);
};
