/**
 * Ingest Lambda: `POST /webhooks/{gateway}` from API Gateway HTTP API. Verifies the gateway's signature over the
 * exact body, normalises the event and queues it by priority; answers 2xx only once it is queued.
 */
import { createLogger } from './common/powertools.js';
import { createIngestHandler } from './intake/api-gateway.js';
import { intakeDependenciesFromEnv } from './intake/dependencies.js';

const logger = createLogger('payhook-ingest');

export const handler = createIngestHandler(intakeDependenciesFromEnv(process.env), logger);
