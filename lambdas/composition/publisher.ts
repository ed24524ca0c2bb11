import { MissingConfigurationError, optionalEnv } from '../common/config.js';
import { EVENT_BUS_ENV } from '../definitions.js';
import type { PaymentEventPublisher } from '../ports/payment-event-publisher.js';
import { EventBridgePublisher } from '../publishing/eventbridge-publisher.js';
import { FilePaymentEventPublisher } from '../publishing/file-publisher.js';
import type { ClientRole } from './client-settings.js';
import { eventBridgeOf } from './eventbridge.js';
import type { ExecutionEnvironment } from './execution-environment.js';

/**
 * Where the role's payment events go, one publisher per role and container: the EventBridge bus on AWS, a JSON-lines
 * file locally. Read by every function that announces (the consumers, the registration), so they announce alike; the
 * container's `publisher` option wraps it once built.
 */
export function publisherOf(container: ExecutionEnvironment, role: ClientRole): PaymentEventPublisher {
  return container.part(`publisher:${role}`, () => {
    const inner = publisherFromEnv(container, role);
    return container.options.publisher?.(inner) ?? inner;
  });
}

function publisherFromEnv(container: ExecutionEnvironment, role: ClientRole): PaymentEventPublisher {
  const bus = optionalEnv(container.env, EVENT_BUS_ENV.busName);
  if (bus) return new EventBridgePublisher(eventBridgeOf(container.clients(role)), bus);
  const file = optionalEnv(container.env, EVENT_BUS_ENV.eventsFile);
  if (file) return new FilePaymentEventPublisher(file);
  throw new MissingConfigurationError(
    `set ${EVENT_BUS_ENV.busName} (AWS) or ${EVENT_BUS_ENV.eventsFile} (local)`,
  );
}
