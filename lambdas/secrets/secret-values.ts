import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/** Powertools' default cache lifetime, kept: a rotation reaches every container within five minutes at the latest. */
export const DEFAULT_SECRET_MAX_AGE_SECONDS = 300;

/** A secret's stored value (`SecretString`, else `SecretBinary`; undefined when it has neither) and when it was read. */
export interface SecretValue {
  readonly value: string | Uint8Array | undefined;
  readonly fetchedAt: Date;
}

/**
 * Secret values from AWS Secrets Manager, each kept per container for `maxAgeSeconds` after it was read. This is what
 * payhook used Powertools Parameters' SecretsProvider for (one GetSecretValue call and a cache with a lifetime, same
 * defaults); done here, ingest's bundle no longer carries the provider framework for it. A failed call is not cached
 * and throws the SDK's error as it is: callers name only its class, since its message can name the secret's ARN.
 */
export class SecretValues {
  private readonly cache = new Map<
    string,
    { readonly value: string | Uint8Array; readonly fetchedAt: Date }
  >();
  private readonly client: SecretsManagerClient;
  private readonly maxAgeMs: number;
  private readonly now: () => Date;

  constructor(
    options: {
      readonly client?: SecretsManagerClient;
      readonly maxAgeSeconds?: number;
      readonly now?: () => Date;
    } = {},
  ) {
    this.client = options.client ?? new SecretsManagerClient({});
    this.maxAgeMs = (options.maxAgeSeconds ?? DEFAULT_SECRET_MAX_AGE_SECONDS) * 1000;
    this.now = options.now ?? (() => new Date());
  }

  /** The secret's value, from the cache while it is younger than the lifetime, unless `refresh` asks for a new read. */
  async get(secretId: string, options?: { readonly refresh?: boolean }): Promise<SecretValue> {
    const now = this.now();
    const cached = this.cache.get(secretId);
    if (cached && options?.refresh !== true && now.getTime() - cached.fetchedAt.getTime() <= this.maxAgeMs) {
      return cached;
    }
    const answer = await this.client.send(new GetSecretValueCommand({ SecretId: secretId }));
    // An empty SecretString counts as none, as in Powertools.
    const value = answer.SecretString || answer.SecretBinary;
    if (value === undefined) {
      this.cache.delete(secretId);
      return { value, fetchedAt: now };
    }
    const fetched = { value, fetchedAt: now };
    if (this.maxAgeMs > 0) this.cache.set(secretId, fetched);
    return fetched;
  }
}

/** A secret value as text (a binary secret is read as UTF-8). */
export function secretText(value: string | Uint8Array): string {
  return typeof value === 'string' ? value : Buffer.from(value).toString('utf8');
}
