import type { GatewaySecret } from '../domain/gateway-secret.js';
import type { GatewayName } from '../domain/webhook-event.js';

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

/**
 * A gateway's secret is there but not in the documented shape. The message names the gateway and the key at fault and
 * is safe to log: it never holds any part of a secret value, nor where the secret is stored (file path, ARN, name),
 * and it carries no `cause` (a parser's or the SDK's error quotes the text it choked on, or the ARN).
 */
export class InvalidSecretError extends Error {
  override readonly name = 'InvalidSecretError';
}

/**
 * A gateway's secret holds no signing secret (`{"secrets": []}`, the placeholder the stack creates): the gateway is
 * not configured yet. An {@link InvalidSecretError} to ingest (which cannot verify with it); the reconciler tells it
 * apart, to report the gateway as not configured rather than misconfigured.
 */
export class EmptySecretError extends InvalidSecretError {}

/**
 * A gateway's secret could not be fetched (the store is unreachable, throttled, refused access, the file is missing).
 * Like {@link InvalidSecretError}, its message is safe to log: the gateway and the underlying error's class name only.
 */
export class SecretsUnavailableError extends Error {
  override readonly name = 'SecretsUnavailableError';
}
