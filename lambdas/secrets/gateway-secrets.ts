import { readFile } from 'node:fs/promises';
import { GATEWAYS, type GatewayName, isGatewayName } from '../domain/webhook-event.js';
import type { GatewaySecret } from '../gateways/types.js';

/** A gateway's secret together with when payhook last fetched it, so a failed signature can decide to refetch. */
export interface FetchedSecret {
  readonly secret: GatewaySecret;
  readonly fetchedAt: Date;
}

/** Where ingest gets signing secrets: Secrets Manager on AWS, a JSON file locally. */
export interface SecretStore {
  /**
   * The gateway's secret, from cache where fresh. `refresh` bypasses the cache (used once after a signature failure,
   * so a rotation takes effect at once). `undefined` when no secret is configured for the gateway.
   */
  get(gateway: GatewayName, options?: { readonly refresh?: boolean }): Promise<FetchedSecret | undefined>;
}

export class InvalidSecretError extends Error {
  override readonly name = 'InvalidSecretError';
}

function stringList(value: unknown, where: string): string[] {
  // A blank secret would be an HMAC key anyone can use.
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string' && item.trim().length > 0)) {
    throw new InvalidSecretError(`${where} must be a list of non-empty strings`);
  }
  return value;
}

/**
 * Checks one gateway's secret JSON: `{ "secrets": ["current", "previous"?], "payoutSecrets"?: [...] }`.
 * Other keys are allowed (API credentials the reconciler reads) and ignored here. Error messages name the key at
 * fault, never a value.
 */
export function parseGatewaySecret(gateway: string, value: unknown): GatewaySecret {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidSecretError(`secret for ${gateway} must be a JSON object with a "secrets" list`);
  }
  const record = value as Record<string, unknown>;
  const secrets = stringList(record.secrets, `${gateway}.secrets`);
  if (secrets.length === 0) throw new InvalidSecretError(`${gateway}.secrets is empty`);
  const api: Record<string, string> = {};
  for (const key of ['apiKey', 'keyId', 'keySecret'] as const) {
    const value = record[key];
    if (value === undefined) continue;
    if (typeof value !== 'string' || value.trim() === '')
      throw new InvalidSecretError(`${gateway}.${key} must be a non-empty string`);
    api[key] = value;
  }
  return {
    secrets,
    ...(record.payoutSecrets !== undefined && {
      payoutSecrets: stringList(record.payoutSecrets, `${gateway}.payoutSecrets`),
    }),
    ...(Object.keys(api).length > 0 && { api }),
  };
}

/**
 * Local development: one JSON file with an entry per gateway in the same shape as the AWS secret. Keys starting with
 * `_` are comments. The file is re-read on refresh, so editing it rotates a secret without a restart.
 */
export class FileSecretStore implements SecretStore {
  private cache: { readonly secrets: Map<GatewayName, GatewaySecret>; readonly fetchedAt: Date } | undefined;

  constructor(
    private readonly path: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async get(
    gateway: GatewayName,
    options?: { readonly refresh?: boolean },
  ): Promise<FetchedSecret | undefined> {
    if (!this.cache || options?.refresh) this.cache = { secrets: await this.load(), fetchedAt: this.now() };
    const secret = this.cache.secrets.get(gateway);
    return secret ? { secret, fetchedAt: this.cache.fetchedAt } : undefined;
  }

  private async load(): Promise<Map<GatewayName, GatewaySecret>> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(this.path, 'utf8'));
    } catch (error) {
      throw new InvalidSecretError(`cannot read secrets file ${this.path}: ${(error as Error).message}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new InvalidSecretError(`secrets file ${this.path} must hold a JSON object keyed by gateway`);
    }
    const secrets = new Map<GatewayName, GatewaySecret>();
    for (const [key, value] of Object.entries(parsed)) {
      if (key.startsWith('_')) continue;
      if (!isGatewayName(key)) {
        throw new InvalidSecretError(
          `secrets file ${this.path} has unknown gateway "${key}" (known: ${GATEWAYS.join(', ')})`,
        );
      }
      secrets.set(key, parseGatewaySecret(key, value));
    }
    return secrets;
  }
}
