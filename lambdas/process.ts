/**
 * Consumer Lambda, one per priority queue: applies each queued gateway event once to its payment record and
 * announces the status change; failed records are retried with back-off or dead-lettered with their reason.
 */
import type { Context, SQSEvent } from 'aws-lambda';
import { EmfMetrics } from './common/metrics.js';
import { createLogger } from './common/powertools.js';
import { ExecutionEnvironment } from './composition/execution-environment.js';
import { consumerDependencies } from './composition/processing.js';
import { createConsumer } from './processing/consumer.js';

// Built once per container: clients, the idempotency store and configuration outlive the invocation.
const logger = createLogger('payhook-consumer');
const consume = createConsumer({
  ...consumerDependencies(new ExecutionEnvironment(process.env), logger),
  metrics: new EmfMetrics('payhook-consumer'),
});

export const handler = async (event: SQSEvent, context: Context) => {
  logger.addContext(context);
  return consume(event, context);
};
