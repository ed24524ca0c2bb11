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
const metrics = new EmfMetrics('payhook-ingest');
const ingest = createIngestHandler(
  { ...intakeDependencies(new ExecutionEnvironment(process.env), logger), metrics },
  logger,
);
// As Powertools counts one: an instance's first invocation, unless provisioned concurrency initialised it ahead.
let coldStart = process.env.AWS_LAMBDA_INITIALIZATION_TYPE === 'on-demand';

export const handler = async (event: APIGatewayProxyEventV2, context?: Context) => {
  // Adds Lambda's request id (and the cold start) to the request's log lines.
  if (context) logger.addContext(context);
  // An accepted request's one line is its metrics line, which has no Lambda context: a cold start says so there too.
  if (coldStart) metrics.annotate({ cold_start: true });
  coldStart = false;
  return ingest(event);
};
