/**
 * Ingest Lambda: `POST /webhooks/{gateway}` from API Gateway HTTP API. Verifies the gateway's signature over the
 * exact body, normalises the event and queues it by priority; answers 2xx only once it is queued.
 */
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { EmfMetrics } from './common/metrics.js';
import { createLogger } from './common/powertools.js';
import { ExecutionEnvironment } from './composition/execution-environment.js';
import { intakeDependencies } from './composition/intake.js';
import { createIngestHandler } from './intake/api-gateway.js';

// Built once per container: clients, secrets cache and settings outlive the request.
const logger = createLogger('payhook-ingest');
const ingest = createIngestHandler(
  {
    ...intakeDependencies(new ExecutionEnvironment(process.env), logger),
    metrics: new EmfMetrics('payhook-ingest'),
  },
  logger,
);

export const handler = async (event: APIGatewayProxyEventV2, context?: Context) => {
  // Adds the function name, request id and cold-start flag to the request's log line.
  if (context) logger.addContext(context);
  return ingest(event);
};
