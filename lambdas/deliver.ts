/**
 * Delivery Lambda, one event source mapping per destination queue: delivers payment events to the merchant's own
 * endpoints, signed with Standard Webhooks; retried with back-off, dead-lettered with their reason, or held while the
 * destination is stopped (410 Gone).
 */
import type { Context, SQSEvent } from 'aws-lambda';
import { EmfMetrics } from './common/metrics.js';
import { createLogger } from './common/powertools.js';
import { deliveryDependencies } from './composition/delivery.js';
import { ExecutionEnvironment } from './composition/execution-environment.js';
import { createDeliverer } from './delivery/deliverer.js';

// Built once per container: clients, targets and the secret cache outlive the invocation.
const logger = createLogger('payhook-deliver');
const deliver = createDeliverer({
  ...deliveryDependencies(new ExecutionEnvironment(process.env), logger),
  metrics: new EmfMetrics('payhook-deliver'),
});

export const handler = async (event: SQSEvent, context: Context) => {
  logger.addContext(context);
  return deliver(event);
};
