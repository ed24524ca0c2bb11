import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { GatewayName } from '../domain/webhook-event.js';
import { type FetchedSecret, parseGatewaySecret, type SecretStore } from './gateway-secrets.js';

/** Powertools' default cache lifetime, kept: a rotation reaches every container within five minutes at the latest. */
export const DEFAULT_SECRET_MAX_AGE_SECONDS = 300;

/**
 * Gateway secrets from AWS Secrets Manager, one secret per gateway in the JSON shape documented in the README,
 * cached per container by Powertools Parameters.
 */
export class SecretsManagerStore implements SecretStore {
  private readonly provider: SecretsProvider;
  /** When each gateway's secret was last fetched; Powertools keeps its cache private, so payhook tracks the age. */
  private readonly fetchedAt = new Map<GatewayName, Date>();

  constructor(
    private readonly secretIds: Readonly<Partial<Record<GatewayName, string>>>,
    options: {
      readonly client?: SecretsManagerClient;
      readonly maxAgeSeconds?: number;
      readonly now?: () => Date;
    } = {},
  ) {
    this.provider = new SecretsProvider(options.client ? { awsSdkV3Client: options.client } : {});
    this.maxAgeSeconds = options.maxAgeSeconds ?? DEFAULT_SECRET_MAX_AGE_SECONDS;
    this.now = options.now ?? (() => new Date());
  }

  private readonly maxAgeSeconds: number;
  private readonly now: () => Date;

  async get(
    gateway: GatewayName,
    options?: { readonly refresh?: boolean },
  ): Promise<FetchedSecret | undefined> {
    const secretId = this.secretIds[gateway];
    if (secretId === undefined) return undefined;
    const now = this.now();
    const last = this.fetchedAt.get(gateway);
    const cacheExpired = last === undefined || now.getTime() - last.getTime() >= this.maxAgeSeconds * 1000;
    const value = await this.provider.get(secretId, {
      maxAge: this.maxAgeSeconds,
      transform: 'json',
      forceFetch: options?.refresh === true,
    });
    if (options?.refresh || cacheExpired) this.fetchedAt.set(gateway, now);
    if (value === undefined) return undefined;
    return { secret: parseGatewaySecret(gateway, value), fetchedAt: this.fetchedAt.get(gateway) ?? now };
  }
}
