/**
 * One gateway's secrets, in the JSON shape of its Secrets Manager secret and of its entry in the local secrets file.
 * The adapters verify with it and the secret stores (`ports/secret-store.ts`) hand it out, so it lives here.
 */
export interface GatewaySecret {
  /** Signing secrets, current first; older ones keep verifying retries signed before a rotation. */
  readonly secrets: readonly string[];
  /** OXA Pay only: payout API keys, which sign payout callbacks. */
  readonly payoutSecrets?: readonly string[];
  /** API credentials for the reconciler's verify calls (see the README's secret shapes): `apiKey`, `keyId`, `keySecret`. */
  readonly api?: { readonly apiKey?: string; readonly keyId?: string; readonly keySecret?: string };
}
