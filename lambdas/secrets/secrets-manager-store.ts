import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { errorClassOf } from '../common/log.js';
import type { GatewaySecret } from '../domain/gateway-secret.js';
import type { GatewayName } from '../domain/webhook-event.js';
import { type FetchedSecret, type SecretStore, SecretsUnavailableError } from '../ports/secret-store.js';
import { parseGatewaySecret, parseSecretJson } from './gateway-secrets.js';
import { type SecretValue, SecretValues, secretText } from './secret-values.js';

/**
 * Gateway secrets from AWS Secrets Manager, one secret per gateway in the JSON shape documented in the README, cached
 * per container (five minutes unless told).
 */
export class SecretsManagerStore implements SecretStore {
  private readonly values: SecretValues;
  /** The last text read per gateway and what it parsed to, so a cached secret is not parsed again per request. */
  private readonly parsed = new Map<GatewayName, { readonly text: string; readonly secret: GatewaySecret }>();

  constructor(
    private readonly secretIds: Readonly<Partial<Record<GatewayName, string>>>,
    options: {
      readonly client?: SecretsManagerClient;
      readonly maxAgeSeconds?: number;
      readonly now?: () => Date;
    } = {},
  ) {
    this.values = new SecretValues(options);
  }

  async get(
    gateway: GatewayName,
    options?: { readonly refresh?: boolean },
  ): Promise<FetchedSecret | undefined> {
    const secretId = this.secretIds[gateway];
    if (secretId === undefined) return undefined;
    let read: SecretValue;
    try {
      // The raw text, parsed here: a JSON parser's message quotes the start of a secret stored as plain text
      // (`whsec_...`) instead of as JSON.
      read = await this.values.get(secretId, options);
    } catch (error) {
      // The SDK's message can name the secret's ARN: only class names go on.
      throw new SecretsUnavailableError(
        `cannot fetch the ${gateway} secret from Secrets Manager (${errorClassOf(error)})`,
      );
    }
    if (read.value === undefined) return undefined;
    return { secret: this.parse(gateway, secretText(read.value)), fetchedAt: read.fetchedAt };
  }

  private parse(gateway: GatewayName, text: string): GatewaySecret {
    const last = this.parsed.get(gateway);
    if (last?.text === text) return last.secret;
    const secret = parseGatewaySecret(gateway, parseSecretJson(gateway, text));
    this.parsed.set(gateway, { text, secret });
    return secret;
  }
}
