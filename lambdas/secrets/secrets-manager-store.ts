import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { errorClassOf } from '../common/log.js';
import type { GatewaySecret } from '../domain/gateway-secret.js';
import type { GatewayName } from '../domain/webhook-event.js';
import { type FetchedSecret, type SecretStore, SecretsUnavailableError } from '../ports/secret-store.js';
import { parseGatewaySecret, parseSecretJson } from './gateway-secrets.js';

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
  /** The last text read per gateway and what it parsed to, so a cached secret is not parsed again per request. */
  private readonly parsed = new Map<GatewayName, { readonly text: string; readonly secret: GatewaySecret }>();

  async get(
    gateway: GatewayName,
    options?: { readonly refresh?: boolean },
  ): Promise<FetchedSecret | undefined> {
    const secretId = this.secretIds[gateway];
    if (secretId === undefined) return undefined;
    const now = this.now();
    const last = this.fetchedAt.get(gateway);
    const cacheExpired = last === undefined || now.getTime() - last.getTime() >= this.maxAgeSeconds * 1000;
    let value: string | Uint8Array | undefined;
    try {
      // The raw text, parsed here: Powertools' `json` transform fails with the parser's message, which quotes the
      // start of a secret stored as plain text (`whsec_...`) instead of as JSON.
      value = await this.provider.get(secretId, {
        maxAge: this.maxAgeSeconds,
        forceFetch: options?.refresh === true,
      });
    } catch (error) {
      // Powertools wraps the SDK error (as `cause`), whose message can name the secret's ARN: only class names go on.
      const cause = (error as { cause?: unknown }).cause;
      throw new SecretsUnavailableError(
        `cannot fetch the ${gateway} secret from Secrets Manager (${errorClassOf(cause ?? error)})`,
      );
    }
    if (options?.refresh || cacheExpired) this.fetchedAt.set(gateway, now);
    if (value === undefined) return undefined;
    return { secret: this.parse(gateway, value), fetchedAt: this.fetchedAt.get(gateway) ?? now };
  }

  private parse(gateway: GatewayName, value: string | Uint8Array): GatewaySecret {
    const text = typeof value === 'string' ? value : Buffer.from(value).toString('utf8');
    const last = this.parsed.get(gateway);
    if (last?.text === text) return last.secret;
    const secret = parseGatewaySecret(gateway, parseSecretJson(gateway, text));
    this.parsed.set(gateway, { text, secret });
    return secret;
  }
}
