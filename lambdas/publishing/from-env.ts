import { type Environment, MissingConfigurationError, optionalEnv } from '../common/config.js';
import { EVENT_BUS_ENV } from '../definitions.js';
import type { PaymentEventPublisher } from '../ports/payment-event-publisher.js';
import { createEventBridgeClient, EventBridgePublisher } from './eventbridge-publisher.js';
import { FilePaymentEventPublisher } from './file-publisher.js';

/**
 * Where payment events go, from the environment: the EventBridge bus on AWS, a JSON-lines file locally. Read by every
 * function that announces (the consumers, the registration), so they announce alike.
 */
export function publisherFromEnv(env: Environment): PaymentEventPublisher {
  const bus = optionalEnv(env, EVENT_BUS_ENV.busName);
  if (bus) return new EventBridgePublisher(createEventBridgeClient(), bus);
  const file = optionalEnv(env, EVENT_BUS_ENV.eventsFile);
  if (file) return new FilePaymentEventPublisher(file);
  throw new MissingConfigurationError(
    `set ${EVENT_BUS_ENV.busName} (AWS) or ${EVENT_BUS_ENV.eventsFile} (local)`,
  );
}
