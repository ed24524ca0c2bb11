import { type Environment, MissingConfigurationError, optionalEnv } from '../common/config.js';
import { CONSUMER_ENV } from '../definitions.js';
import type { PaymentEventPublisher } from '../domain/payment-event.js';
import { createEventBridgeClient, EventBridgePublisher } from './eventbridge-publisher.js';
import { FilePaymentEventPublisher } from './file-publisher.js';

/**
 * Where payment events go, from the environment: the EventBridge bus on AWS, a JSON-lines file locally. Read by every
 * function that announces (the consumers, the registration), so they announce alike.
 */
export function publisherFromEnv(env: Environment): PaymentEventPublisher {
  const bus = optionalEnv(env, CONSUMER_ENV.eventBusName);
  if (bus) return new EventBridgePublisher(createEventBridgeClient(), bus);
  const file = optionalEnv(env, CONSUMER_ENV.eventsFile);
  if (file) return new FilePaymentEventPublisher(file);
  throw new MissingConfigurationError(
    `set ${CONSUMER_ENV.eventBusName} (AWS) or ${CONSUMER_ENV.eventsFile} (local)`,
  );
}
