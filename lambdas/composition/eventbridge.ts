import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { ClientSet } from './client-set.js';

/** The role's EventBridge client. The SDK honours `AWS_ENDPOINT_URL[_EVENTBRIDGE]`, which is how emulators get it. */
export function eventBridgeOf(clients: ClientSet): EventBridgeClient {
  return clients.once('eventbridge', () => new EventBridgeClient(clients.common()));
}
