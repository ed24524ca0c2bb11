import type { GatewaySecret } from '../domain/gateway-secret.js';
import type { GatewayName } from '../domain/webhook-event.js';
import type { ApiCredentials } from './verify.js';

/**
 * Paystack signs webhooks with the secret API key and OXA Pay with the merchant API key, so for them the signing
 * secret is the API key unless `apiKey` says otherwise. The other gateways' API keys are separate secrets.
 */
const SIGNING_KEY_IS_API_KEY: ReadonlySet<GatewayName> = new Set(['paystack', 'oxapay']);

export function apiCredentialsOf(gateway: GatewayName, secret: GatewaySecret): ApiCredentials {
  const [current] = secret.secrets;
  return {
    ...(SIGNING_KEY_IS_API_KEY.has(gateway) && current !== undefined && { apiKey: current }),
    ...secret.api,
  };
}
