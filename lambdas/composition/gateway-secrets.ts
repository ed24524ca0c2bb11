import { MissingConfigurationError, optionalEnv, stringMapEnv } from '../common/config.js';
import { SECRETS_ENV } from '../definitions.js';
import { isGatewayName } from '../domain/webhook-event.js';
import type { SecretStore } from '../ports/secret-store.js';
import { FileSecretStore } from '../secrets/gateway-secrets.js';
import { SecretsManagerStore } from '../secrets/secrets-manager-store.js';
import type { ClientRole } from './client-settings.js';
import type { ExecutionEnvironment } from './execution-environment.js';
import { secretsManagerOf } from './secrets-manager.js';

/**
 * The role's gateway secrets, one store per role and container. They come from Secrets Manager when
 * `PAYHOOK_GATEWAY_SECRET_IDS` names them (AWS), else from the JSON file in `PAYHOOK_SECRETS_FILE` (local). Setting
 * neither is a configuration error, reported at cold start.
 */
export function gatewaySecretsOf(container: ExecutionEnvironment, role: ClientRole): SecretStore {
  return container.part(`secrets:${role}`, () => secretStoreFromEnv(container, role));
}

function secretStoreFromEnv(container: ExecutionEnvironment, role: ClientRole): SecretStore {
  const secretIds = stringMapEnv(container.env, SECRETS_ENV.secretIds);
  if (secretIds) {
    for (const gateway of Object.keys(secretIds)) {
      if (!isGatewayName(gateway)) {
        throw new MissingConfigurationError(`${SECRETS_ENV.secretIds} names unknown gateway "${gateway}"`);
      }
    }
    return new SecretsManagerStore(secretIds, { client: secretsManagerOf(container.clients(role)) });
  }
  const file = optionalEnv(container.env, SECRETS_ENV.secretsFile);
  if (file) return new FileSecretStore(file);
  throw new MissingConfigurationError(
    `set ${SECRETS_ENV.secretIds} (AWS) or ${SECRETS_ENV.secretsFile} (local)`,
  );
}
