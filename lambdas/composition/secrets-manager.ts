import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { ClientSet } from './client-set.js';

/** The role's Secrets Manager client. */
export function secretsManagerOf(clients: ClientSet): SecretsManagerClient {
  return clients.once('secretsmanager', () => new SecretsManagerClient(clients.common()));
}
